# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of a cold move: compute.API.confirm_resize / revert_resize and the compute managers'
confirm_resize / revert_resize (the source cleaned, or the server back on it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions
from ansible_collections.novalite.compute.plugins.module_utils.compute import same_host_resize
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import Side, copy_record
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest


class ConfirmRevert:
    """MoveTask's confirm and revert."""

    # ------------------------------------------------------------------ confirm / revert
    def _resized(self, action, name, override_lock, gather):
        """(hv, record, shadows, the server's view, the result when it is not resized: None if it is),
        its lock checked (compute.API's check_instance_lock)."""
        hv, record, shadows = self.find_server(name, gather)
        instance_actions.check_instance_lock(action, record, override_lock)
        before = server_view(record, hv)
        if record.get("vm_state") != states.RESIZED:
            return hv, record, shadows, before, {"changed": False, "server": before, "servers": [before],
                                                 "migration": record.get("migration")}
        return hv, record, shadows, before, None

    def _source_side(self, record, shadows):
        """The Side of the move's source, from the shadows (None if its host does not answer)."""
        source = None
        for shv, shadow in shadows:
            if shv.name == (record.get("migration") or {}).get("source_compute"):
                source = Side(self.api, shv, copy_record(shadow))
        return source

    @staticmethod
    def _ended(side, before):
        view = server_view(side.record, side.hv)
        return {"changed": True, "server": view, "servers": [view], "migration": side.record.get("migration"),
                "diff": {"before": before, "after": view}}

    def confirm(self, name, override_lock=False, gather=True):
        """compute.API.confirm_resize: the source's copy removed; vm_state back to what it was."""
        hv, record, shadows, before, unchanged = self._resized(instance_actions.CONFIRM_RESIZE, name,
                                                               override_lock, gather)
        if unchanged is not None:
            return unchanged
        if self.api.check_mode:
            return {"changed": True, "server": before, "servers": [before]}
        target = Side(self.api, hv, copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        if self._same_host(record, hv):
            same_host_resize.confirm_resize(self, target)
        else:
            self.confirm_resize(target, self._source_side(record, shadows))
        return self._ended(target, before)

    def confirm_resize(self, target, source):
        migration = dict(target.record["migration"])
        target.save(task_state=states.RESIZE_CONFIRMING, migration=dict(migration, status="confirming"))
        if source is not None:
            self._clean_side(source.hv, target.record["uuid"], target.record["name"],
                             source.record.get("ports") or [])
        migration.update(status="confirmed", updated_at=utcnow())
        target.record["lease_until"] = None
        target.save(vm_state=migration.get("old_vm_state") or states.ACTIVE, task_state=None, migration=migration)
        self.notifier.notify("compute.instance.resize.confirm.end", target.hv.name,
                             notification_payload(target.record))

    def revert(self, name, override_lock=False, gather=True):
        """compute.API.revert_resize: the destination's copy removed, the server back on the source
        with its old flavor, powered on if it ran."""
        hv, record, shadows, before, unchanged = self._resized(instance_actions.REVERT_RESIZE, name,
                                                               override_lock, gather)
        if unchanged is not None:
            return unchanged
        same_host = self._same_host(record, hv)
        source = None if same_host else self._source_side(record, shadows)
        if not same_host and source is None:
            raise ComputeError("revert: the source host %s of %s does not answer or no longer holds its copy; "
                               "nothing was changed" % ((record.get("migration") or {}).get("source_compute"), name))
        if self.api.check_mode:
            return {"changed": True, "server": before, "servers": [before]}
        target = Side(self.api, hv, copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        if same_host:
            same_host_resize.revert_resize(self, target)
            return self._ended(target, before)
        self.revert_resize(target, source)
        return self._ended(source, before)

    def revert_resize(self, target, source):
        migration = dict(target.record["migration"], status="reverting")
        target.save(task_state=states.RESIZE_REVERTING, migration=migration)
        source.save(task_state=states.RESIZE_REVERTING, migration=migration)
        self._clean_side(target.hv, target.record["uuid"], target.record["name"], target.record.get("ports") or [])
        source.dom = guest.find_domain(source.hv.conn, source.record["name"])
        if migration.get("old_vm_state") == states.ACTIVE and not source.dom.isActive():
            guest.start_domain(source.dom)
            guest.wait_for_state(source.dom, states.RUNNING, self.api.remaining("starting on %s" % source.hv.name))
        migration.update(status="reverted", updated_at=utcnow())
        source.record["lease_until"] = None
        source.save(host=source.hv.name, availability_zone=source.hv.config["availability_zone"],
                    flavor=migration.get("old_flavor") or source.record["flavor"],
                    vm_state=migration.get("old_vm_state") or states.ACTIVE, task_state=None,
                    migration=migration, power_state=guest.power_state(source.dom))
        self.notifier.notify("compute.instance.resize.revert.end", source.hv.name,
                             notification_payload(source.record))
