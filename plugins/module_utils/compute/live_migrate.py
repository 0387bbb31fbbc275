# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration (nova.conductor.tasks.live_migrate.LiveMigrationTask and the compute managers'
pre_live_migration, post_live_migration and rollback_live_migration)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import (
    LIVE_MIGRATION, MoveFailed, Renewer, Side, console_and_ports_on, copy_record, stored_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor, spec_from_stored
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import migration as libvirt_migration
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


class LiveMigrationTask:
    """MoveTask's live migration."""

    # ------------------------------------------------------------------ live migration
    def live_migrate(self, name, target_host=None, completion_timeout=None, override_lock=False, gather=True,
                     bandwidth_mib=None):
        """compute.API.live_migrate -> LiveMigrationTask: the destination the scheduler picks with the
        stored spec (the source ignored), or `target_host`, still filtered; the move claim there;
        pre_live_migration (bases, empty overlays, the config drive, the DHCP reservations); libvirt's
        live migration with the overlays copied (no shared storage); post_live_migration (the source's
        volumes and reservations removed). A failure, an abort or `completion_timeout` seconds passing
        leave the guest running on the source, the destination holding nothing of it."""
        self._check_target_host(target_host)
        hv, record, _shadows = self.find_server(name, gather)
        before = server_view(record, hv)
        self._check_movable(instance_actions.LIVE_MIGRATE, record, override_lock)
        if target_host == hv.name:
            raise ComputeError("host: %s is the server's own host; a live migration goes to another host" % hv.name)
        stored = stored_request_spec(record, self.api.catalogs)
        spec = spec_from_stored(stored, flavor=Flavor.from_dict(record.get("flavor")), ignore_hosts=[hv.name],
                                instance_uuid=record["uuid"])
        selection, placement = self._select(record, spec, hv.name, target_host)
        dest = self.api.hypervisors[selection.host]
        libvirt_migration.check_same_layout(hv.pool(), dest.pool())
        if self.api.check_mode:
            view = dict(before, placement=dict(placement, selected=dest.name))
            return {"changed": True, "server": view, "servers": [view], "placement": placement,
                    "destination": dest.name}
        migration = {"uuid": str(uuidlib.uuid4()), "migration_type": LIVE_MIGRATION, "status": "preparing",
                     "source_compute": hv.name, "dest_compute": dest.name, "old_flavor": record.get("flavor"),
                     "new_flavor": record.get("flavor"), "old_vm_state": record["vm_state"], "created_at": utcnow()}
        source = Side(self.api, hv, copy_record(record, request_spec=stored),
                      guest.find_domain(hv.conn, record["domain"]))
        target = Side(self.api, dest, None)
        renewer = Renewer([source, target])
        timeout = completion_timeout or self.api.remaining("live-migrating %s" % name)
        with self.api.heartbeat.holding(renewer):
            source.save(task_state=states.MIGRATING, migration=migration)
            try:
                self.prep_resize(source, target, spec)
                self.pre_live_migration(source, target)
                source.save_migration(status="running")   # the destination's record comes with the guest
                started = time.monotonic()
                new_dom = libvirt_migration.live_migrate(source.dom, dest.conn, dest.uri, None,
                                                         min(timeout, self.api.remaining("live-migrating")),
                                                         bandwidth_mib=bandwidth_mib or 0)
                elapsed = time.monotonic() - started
            except Exception as exc:
                self.rollback_live_migration(source, target, exc)
                raise MoveFailed("live migration of %s to %s failed; the server runs on %s as it did: %s"
                                 % (name, dest.name, hv.name, exc), servers=[server_view(source.record, hv)],
                                 details={"placement": placement})
            target.dom = new_dom
            stats = libvirt_migration.completed_stats(new_dom)
            migration = dict(source.record["migration"], status="completed", updated_at=utcnow(),
                             seconds=round(elapsed, 3), **stats)
            target.record = copy_record(source.record, host=dest.name, task_state=None, lease_until=None,
                                        availability_zone=dest.config["availability_zone"], migration=migration,
                                        ports=target.ports, power_state=guest.power_state(new_dom))
            target.save()
            self.post_live_migration(source, target)
        view = server_view(target.record, dest)
        return {"changed": True, "server": view, "servers": [view], "migration": migration, "placement": placement,
                "diff": {"before": before, "after": view}}

    def pre_live_migration(self, source, target):
        """ComputeManager.pre_live_migration on the destination: each overlay made there empty on its
        base (ensured in the cache first), ephemeral and swap empty at their sizes (the block copy
        fills them), the config drive copied (libvirt does not copy read-only disks), the console log,
        and the same MACs and addresses reserved on its networks."""
        hv, dest = source.hv, target.hv
        uuid = source.record["uuid"]
        layout = libvirt_migration.domain_layout(source.dom)
        for disk in layout["disks"]:
            name = disk["path"].rsplit("/", 1)[-1]
            src_vol = storage.find_volume(hv.pool(), name)
            if src_vol is None:
                raise ComputeError("disk %s is missing on %s" % (name, hv.name))
            old = storage.find_volume(dest.pool(), name)
            if old is not None:
                storage.delete_volume(old)
            if disk.get("readonly"):
                vol = storage.create_volume(dest.pool(), name, int(src_vol.info()[1]), "raw")
                libvirt_migration.copy_stream(hv.conn, src_vol, dest.conn, vol)
                continue
            backing = libvirt_migration.backing_of(src_vol)
            if backing is not None:
                libvirt_migration.ensure_base(hv.conn, hv.pool(), dest.conn, dest.pool(), backing[0])
            storage.create_volume(dest.pool(), name, int(src_vol.info()[1]), disk["format"],
                                  backing)
        for key in ("kernel", "initrd"):
            if layout.get(key):
                libvirt_migration.ensure_base(hv.conn, hv.pool(), dest.conn, dest.pool(), layout[key])
        ports = console_and_ports_on(dest, source, target, uuid)
        target.ports = ports
        # the claim's domain goes: the migration defines the destination's own from the running guest
        guest.destroy_domain(target.dom)
        target.dom = None

    def post_live_migration(self, source, target):
        """The source's volumes and DHCP reservations removed (libvirt undefined its domain)."""
        pool = source.hv.pool()
        for vol in storage.instance_volumes(pool, source.record["uuid"]):
            storage.delete_volume(vol)
        for port in source.record.get("ports") or []:
            net = libvirt_network.find_network(source.hv.conn, port["network"])
            if net is not None:
                libvirt_network.release_fixed_ip(pool, net, port["mac"])
        self.notifier.notify("compute.instance.live_migration.post.dest.end", target.hv.name,
                             notification_payload(target.record))

    def rollback_live_migration(self, source, target, exc):
        """_rollback_live_migration: what the destination got removed; the guest goes on on the source."""
        self._clean_side(target.hv, source.record["uuid"], source.record["name"], source.record.get("ports") or [])
        status = "cancelled" if "aborted" in str(exc) else "failed"
        migration = dict(source.record.get("migration") or {}, status=status, updated_at=utcnow())
        source.dom = guest.find_domain(source.hv.conn, source.record["name"])
        source.record["lease_until"] = None
        source.save(host=source.hv.name, task_state=None, migration=migration,
                    power_state=guest.power_state(source.dom),
                    fault={"code": 500, "created": utcnow(), "message": "live migration to %s %s: %s"
                           % (migration.get("dest_compute"), status, exc)})
