# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ComputeAPI's moves (compute.API.resize, migrate, live_migrate, evacuate, confirm_resize,
revert_resize): the API side; the work is migrate.MoveTask's and evacuate's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import evacuate
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import migrate
from ansible_collections.novalite.compute.plugins.module_utils.compute import states


class MovesAPI:
    """The moves of ComputeAPI (a part of it: compute/api.py)."""

    def _recover_moves(self, copies):
        """The moves a dead run left on the named servers, finished or rolled back (migrate.py)."""
        if self.check_mode:
            return copies
        names = [name for name, pairs in copies.items() if any(r.get("migration") for _hv, r in pairs)]
        if names and any(migrate.MoveTask(self).recover_moves(copies[name]) for name in names):
            copies.update(instance_list.refreshed(self, names))
        return copies

    def _resize_existing(self, request, existing):
        """allow_resize: each existing server whose flavor is not the request's is resized to it
        (MigrationTask, migrate.py), confirmed at once with resize_auto_confirm. {name: migration}"""
        if not self.allow_resize:
            return {}
        resized = {}
        for name, (hv, record) in sorted(existing.items()):
            wanted = request["flavor"]
            if (record.get("flavor") or {}).get("name") == wanted["name"] and record.get("vm_state") != states.RESIZED:
                continue
            result = migrate.MoveTask(self).resize(name, wanted["name"],
                                                   allow_same_host=self.allow_resize_to_same_host,
                                                   auto_confirm=self.resize_auto_confirm, gather=False)
            if not result["changed"]:
                continue
            resized[name] = result.get("migration") or result.get("destination")
            if not self.check_mode:
                fresh = instance_list.refreshed(self, [name])[name]
                servers = [(h, r) for h, r in fresh if not states.is_shadow(r, h.name)]
                if servers:
                    existing[name] = servers[0]
        return resized

    # ------------------------------------------------------------------ moves
    def resize(self, name, flavor, allow_same_host=None, auto_confirm=False, override_lock=False):
        """compute.API.resize: the server on a host the scheduler picks with the new flavor."""
        same = self.allow_resize_to_same_host if allow_same_host is None else allow_same_host
        return migrate.MoveTask(self).resize(name, flavor, allow_same_host=same, auto_confirm=auto_confirm,
                                             override_lock=override_lock)

    def migrate(self, name, host=None, auto_confirm=False, override_lock=False):
        """compute.API.resize without a flavor: a cold migration, to `host` if given (still filtered)."""
        return migrate.MoveTask(self).resize(name, None, auto_confirm=auto_confirm, target_host=host,
                                             override_lock=override_lock)

    def move_action(self, request):
        """nova_server_action's moves (resize, migrate, confirm_resize, revert_resize), one server after
        the other; each checked (lock, state) before it is touched."""
        action = request["action"]
        servers, migrations = [], {}
        self.gather_host_states()
        task = migrate.MoveTask(self)
        changed = False
        for name in request["servers"]:
            if action == "resize":
                one = task.resize(name, request["flavor"], allow_same_host=request["allow_resize_to_same_host"],
                                  auto_confirm=request["auto_confirm"], override_lock=request["override_lock"],
                                  gather=False)
            elif action == "migrate":
                one = task.resize(name, None, auto_confirm=request["auto_confirm"], target_host=request["host"],
                                  override_lock=request["override_lock"], gather=False)
            elif action == "live_migrate":
                one = task.live_migrate(name, target_host=request["host"],
                                        completion_timeout=request.get("completion_timeout"),
                                        bandwidth_mib=request.get("bandwidth"),
                                        override_lock=request["override_lock"], gather=False)
            elif action == "confirm_resize":
                one = task.confirm(name, override_lock=request["override_lock"], gather=False)
            else:
                one = task.revert(name, override_lock=request["override_lock"], gather=False)
            changed = changed or one["changed"]
            if one["changed"]:
                self.replicate(one["server"]["hypervisor_hostname"], one["server"]["name"])
            server = dict(one["server"], action={"name": action, "changed": one["changed"]})
            if one.get("migration"):
                server["migration"] = one["migration"]
                migrations[name] = one["migration"]
            if one.get("destination"):
                server["action"]["destination"] = one["destination"]
            servers.append(server)
        return {"changed": changed, "servers": servers, "warnings": list(self.warnings)}

    def evacuate(self, request):
        """nova_server_action action=evacuate (compute/evacuate.py)."""
        result = evacuate.evacuate(self, request)
        result["warnings"].extend(self.warnings)
        return result

    def confirm_resize(self, name):
        return migrate.MoveTask(self).confirm(name)

    def revert_resize(self, name):
        return migrate.MoveTask(self).revert(name)
