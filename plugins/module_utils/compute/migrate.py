# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moves that go back through the scheduler (nova.conductor.tasks.migrate.MigrationTask and
live_migrate.LiveMigrationTask, with the compute managers' halves of each move):

  resize / cold migrate   compute.API.resize -> MigrationTask: select_destinations with the stored
                          RequestSpec (the new flavor; ignore_hosts = the source unless
                          allow_resize_to_same_host) -> prep_resize (the move claim on the
                          destination) -> resize_instance (the source powers off, its disks are
                          copied) -> finish_resize (the destination spawns: vm_state resized)
                          -> confirm_resize (the source cleaned) or revert_resize (back on the source)
  live migrate            LiveMigrationTask: select_destinations (or the given host, still
                          filtered) -> pre_live_migration (the destination's bases, overlays and
                          DHCP reservations) -> libvirt's live migration -> post_live_migration
                          (the source cleaned); a failure or an abort: rollback_live_migration

The hypervisor is the record: the server's record on each host carries the move's migration
(Nova's migrations row: uuid, migration_type, status, source_compute, dest_compute, old and new
flavor, the vm_state to return to). The copy a host holds of a server that is elsewhere (the
destination while the move is prepared, the source until it is confirmed) names the server's
host, not its own: states.is_shadow. A run killed mid-move leaves both sides on record;
recover_moves, run before any later action on the server, rolls a move back unless its
destination had finished (then the move stands, as resized, or its confirm or revert is
completed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions
from ansible_collections.novalite.compute.plugins.module_utils.compute import same_host_resize
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.claims import move_claim_check
from ansible_collections.novalite.compute.plugins.module_utils.compute.confirm_revert import ConfirmRevert
from ansible_collections.novalite.compute.plugins.module_utils.compute.live_migrate import LiveMigrationTask
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import (
    MIGRATION, RESIZE, SHUTDOWN_TIMEOUT, MoveFailed, Renewer, Side, console_and_ports_on, copy_record, stored_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.compute.move_recovery import MoveRecovery
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import ports_problem
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import NoValidHost, select_destinations
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor, spec_from_stored
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import migration as libvirt_migration
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


# ------------------------------------------------------------------------------ the task
class MoveTask(LiveMigrationTask, ConfirmRevert, MoveRecovery):
    """MigrationTask / LiveMigrationTask for one server, and the compute managers' halves."""

    SHUTDOWN_TIMEOUT = SHUTDOWN_TIMEOUT

    def __init__(self, api):
        self.api = api
        self.notifier = api.notifier

    # ------------------------------------------------------------------ scheduling
    def _select(self, record, spec, source, target=None):
        """select_destinations for the move: hosts that cannot give the server its ports (a network
        missing, an address taken there) are unavailable, as Nova's routed-networks request filter
        keeps a port's fixed IP to its segment; a target host (2.56) is the only candidate, still
        filtered. (host, placement) or ComputeError."""
        host_states = []
        unavailable = {}
        for hv in self.api.hypervisors.values():
            if target is not None and hv.name != target:
                continue
            host_states.append(hv.host_state())
            problem = hv.up and hv.name not in spec.ignore_hosts and ports_problem(hv, record)
            if problem:
                unavailable[hv.name] = problem
        spec.instance_uuids = [record["uuid"]]
        # the server's own usage is the source's: a group counts the member where it is
        try:
            result = select_destinations(host_states, spec, self.api.scheduler_config, unavailable=unavailable)
        except NoValidHost as exc:
            raise ComputeError(str(exc), details={"placement": {"filters": exc.report},
                                                  "hypervisors_down": self.api.unreachable()})
        placement = {"filters": result.filter_report,
                     "weighed": [{"host": host, "weight": weight} for host, weight in result.weighed],
                     "hosts": [s.host for s in result.selections], "hypervisors_down": self.api.unreachable()}
        return result.selections[0], placement

    # ------------------------------------------------------------------ checks before anything
    def _check_target_host(self, target_host):
        """A host given for a move must be one of the inventory's hypervisors."""
        if target_host is not None and target_host not in self.api.hypervisors:
            raise ComputeError("host: %r is not one of the hypervisors (%s)"
                               % (target_host, ", ".join(sorted(self.api.hypervisors))))

    @staticmethod
    def _check_movable(action, record, override_lock=False):
        """The API's checks, from the actions' table (instance_actions): the lock, then the state."""
        instance_actions.check_instance_lock(action, record, override_lock)
        instance_actions.check_instance_state(action, record, time.time())

    def resize(self, name, flavor_name=None, allow_same_host=False, auto_confirm=False, target_host=None,
               override_lock=False, gather=True):
        """compute.API.resize (a new flavor) or migrate (flavor_name None): through the scheduler with
        the stored spec, then prep_resize, resize_instance, finish_resize; confirmed at once with
        auto_confirm. Returns the module's result."""
        action = "resize" if flavor_name else "migrate"
        if flavor_name is not None and flavor_name not in self.api.catalogs["flavors"]:
            raise ComputeError("flavor: %r is not in the flavors catalog (known: %s)"
                               % (flavor_name, ", ".join(sorted(self.api.catalogs["flavors"]))))
        self._check_target_host(target_host)
        hv, record, shadows = self.find_server(name, gather)
        before = server_view(record, hv)
        old_flavor = record.get("flavor") or {}
        if flavor_name is not None:
            new_flavor = dict(self.api.catalogs["flavors"][flavor_name])
            migration = record.get("migration") or {}
            if record.get("vm_state") == states.RESIZED and migration.get("new_flavor", {}).get("name") == flavor_name:
                return self._finish_result(hv, record, before, False, auto_confirm)   # done, awaiting confirm
            if old_flavor.get("name") == flavor_name and record.get("vm_state") != states.RESIZED:
                return {"changed": False, "server": before, "servers": [before]}
            if new_flavor["disk"] < (old_flavor.get("disk") or 0):
                raise ComputeError("flavor: %s's root disk (%d GB) is smaller than the server's (%d GB): "
                                   "Nova's libvirt driver refuses to resize a disk down; nothing was changed"
                                   % (flavor_name, new_flavor["disk"], old_flavor.get("disk") or 0))
            if (new_flavor.get("ephemeral") or 0) < (old_flavor.get("ephemeral") or 0):
                raise ComputeError("flavor: %s's ephemeral disk (%d GB) is smaller than the server's (%d GB): "
                                   "an ephemeral disk is not resized down; nothing was changed"
                                   % (flavor_name, new_flavor.get("ephemeral") or 0, old_flavor.get("ephemeral")))
        else:
            new_flavor = dict(old_flavor)
        if record.get("vm_state") == states.RESIZED:
            raise ComputeError("Cannot '%s' instance %s while it is in vm_state resized: confirm or revert "
                               "the resize first" % (action, record.get("name")))
        self._check_movable(instance_actions.RESIZE if flavor_name else instance_actions.MIGRATE, record,
                            override_lock)
        stored = stored_request_spec(record, self.api.catalogs)
        same_host = allow_same_host and flavor_name is not None
        ignore = [] if same_host else [hv.name]
        if target_host is not None and target_host == hv.name and not same_host:
            raise ComputeError("host: %s is the server's own host; a %s goes to another host%s" % (
                target_host, action, " (allow_resize_to_same_host lets a resize stay)" if flavor_name else ""))
        spec = spec_from_stored(stored, flavor=Flavor.from_dict(new_flavor), ignore_hosts=ignore,
                                instance_uuid=record["uuid"])
        selection, placement = self._select(record, spec, hv.name, target_host)
        dest = self.api.hypervisors[selection.host]
        if dest is hv:
            same_host_resize.check_same_disks(old_flavor, new_flavor)
        libvirt_migration.check_same_layout(hv.pool(), dest.pool())
        if self.api.check_mode:
            view = dict(before, placement=dict(placement, selected=dest.name))
            return {"changed": True, "server": view, "servers": [view], "placement": placement,
                    "destination": dest.name}
        migration = {"uuid": str(uuidlib.uuid4()), "migration_type": RESIZE if flavor_name else MIGRATION,
                     "status": "pre-migrating", "source_compute": hv.name, "dest_compute": dest.name,
                     "old_flavor": old_flavor, "new_flavor": new_flavor, "old_vm_state": record["vm_state"],
                     "created_at": utcnow(), "request_spec": None}
        source = Side(self.api, hv, copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        source.record["request_spec"] = stored
        if dest is hv:
            return self._resize_same_host(source, spec, migration, before, placement, auto_confirm)
        target = Side(self.api, dest, None)
        renewer = Renewer([source, target])
        with self.api.heartbeat.holding(renewer):
            source.save(task_state=states.RESIZE_PREP, migration=migration)
            self.notifier.notify("compute.instance.resize.prep.start", hv.name, notification_payload(source.record))
            try:
                self.prep_resize(source, target, spec)
                self.resize_instance(source, target)
                self.finish_resize(source, target)
            except Exception as exc:
                self._roll_back(source, target, exc)
                raise MoveFailed("%s of %s to %s failed and was rolled back (the server is on %s as it was): %s"
                                 % (action, record["name"], dest.name, hv.name, exc),
                                 servers=[server_view(source.record, hv)], details={"placement": placement})
        if auto_confirm:
            self.confirm_resize(target, source)
        return dict(self._finish_result(dest, target.record, before, True, False), placement=placement)

    def _resize_same_host(self, side, spec, migration, before, placement, auto_confirm):
        """resize on the server's own host (same_host_resize.py): the move claim there, then the
        disks kept and grown and the domain redefined; rolled back on a failure."""
        hv = side.hv
        with self.api.heartbeat.holding(Renewer([side])):
            side.save(task_state=states.RESIZE_PREP, migration=migration)
            self.notifier.notify("compute.instance.resize.prep.start", hv.name, notification_payload(side.record))
            try:
                with hv.claims, locks.HostLock(hv.pool(), "claim", timeout=self.api.remaining(
                        "claiming on %s" % hv.name)):
                    with self._group_lock(spec):
                        move_claim_check(self.api, hv, spec, hv.refresh_facts(), side.record["uuid"])
                same_host_resize.resize_instance(self, side)
                same_host_resize.finish_resize(self, side)
            except Exception as exc:
                fault = {"code": 500, "created": utcnow(), "message": "resize on %s rolled back: %s" % (hv.name, exc)}
                try:
                    same_host_resize.revert_resize(self, side, status="error", fault=fault)
                except Exception as undo_exc:  # said with the failure; the next run recovers it
                    exc = "%s (and its roll-back: %s)" % (exc, undo_exc)
                raise MoveFailed("resize of %s on %s failed and was rolled back: %s" % (side.record["name"], hv.name,
                                                                                        exc),
                                 servers=[server_view(side.record, hv)], details={"placement": placement})
            if auto_confirm:
                same_host_resize.confirm_resize(self, side)
        return dict(self._finish_result(hv, side.record, before, True, False), placement=placement)

    @staticmethod
    def _same_host(record, hv):
        migration = record.get("migration") or {}
        return migration.get("source_compute") == migration.get("dest_compute") == hv.name

    def _finish_result(self, hv, record, before, changed, auto_confirm):
        if auto_confirm and record.get("vm_state") == states.RESIZED:
            return self.confirm(record["name"], gather=False)
        view = server_view(record, hv)
        return {"changed": changed, "server": view, "servers": [view], "migration": record.get("migration"),
                "diff": {"before": before, "after": view}}

    # ------------------------------------------------------------------ compute manager's halves
    def prep_resize(self, source, target, spec):
        """ComputeManager.prep_resize on the destination: the move claim (ResourceTracker.resize_claim)
        under the host's claim lock and the group's fleet lock: placement's room for the new flavor
        and the group policy on live usage; the destination's domain defined (not started) as the
        claim, a shadow naming the source as the server's host."""
        dest = target.hv
        record = source.record
        with dest.claims, locks.HostLock(dest.pool(), "claim", timeout=self.api.remaining(
                "claiming on %s" % dest.name)):
            with self._group_lock(spec):
                facts = dest.refresh_facts()
                move_claim_check(self.api, dest, spec, facts, record["uuid"])
                target.record = copy_record(record, flavor=record["migration"]["new_flavor"], ports=[])
                manager = ComputeManager(self.api, dest)
                spec_xml = manager._domain_spec(None, target.record, dest.pool())
                target.record["lease_until"] = time.time() + states.LEASE_SECONDS
                spec_xml["record"] = instance_record.stored(target.record)
                spec_xml["memory_mb"] = record["migration"]["new_flavor"]["ram"]
                spec_xml["vcpus"] = record["migration"]["new_flavor"]["vcpus"]
                target.dom = guest.define_domain(dest.conn, spec_xml)

    @contextlib.contextmanager
    def _group_lock(self, spec):
        group = spec.instance_group
        with contextlib.ExitStack() as stack:
            if group is not None and group.policy in ("affinity", "anti-affinity"):
                home = self.api.home_hypervisor()
                stack.enter_context(locks.HostLock(home.pool(), "group-" + group.name,
                                                   timeout=self.api.remaining("taking group %s's lock" % group.name)))
            yield

    def resize_instance(self, source, target):
        """ComputeManager.resize_instance on the source: powered off (cleanly, then forced), every disk
        copied into the destination's pool (bases ensured there first), the root grown to the new
        flavor; the destination's DHCP reservations made with the same MACs and addresses."""
        hv, dest = source.hv, target.hv
        source.save(task_state=states.RESIZE_MIGRATING)
        source.save_migration(status="migrating")
        target.save(task_state=states.RESIZE_MIGRATING, migration=source.record["migration"])
        libvirt_migration.wait_shutdown(source.dom, min(SHUTDOWN_TIMEOUT, self.api.remaining("powering off")))
        layout = libvirt_migration.domain_layout(source.dom)
        uuid = source.record["uuid"]
        new_flavor = source.record["migration"]["new_flavor"]
        grow = {uuid + ".disk": new_flavor["disk"] * units.Gi}
        if new_flavor.get("ephemeral"):
            grow[uuid + ".disk.eph0"] = new_flavor["ephemeral"] * units.Gi
        started = time.monotonic()
        copied = libvirt_migration.copy_disks(hv.conn, hv.pool(), dest.conn, dest.pool(), uuid, layout, grow=grow,
                                              skip=(uuid + ".disk.swap",))
        # the disks in a build's order: root, ephemeral, swap (made anew at the new flavor's size),
        # config drive
        by_name = dict((disk["path"].rsplit("/", 1)[-1], disk) for disk in layout["disks"])
        base = storage.pool_path(dest.pool())
        disks = []
        for suffix in (".disk", ".disk.eph0", ".disk.swap", ".disk.config"):
            name = uuid + suffix
            if suffix == ".disk.swap":
                old = storage.find_volume(dest.pool(), name)
                if old is not None:
                    storage.delete_volume(old)
                if not new_flavor.get("swap"):
                    continue
                storage.create_volume(dest.pool(), name, new_flavor["swap"] * units.Mi, "qcow2")
                disks.append({"path": base + "/" + name, "format": "qcow2"})
            elif name in by_name:
                disks.append(dict(by_name[name], path=base + "/" + name))
            elif suffix == ".disk.eph0" and new_flavor.get("ephemeral"):
                # a flavor that adds an ephemeral disk: made empty, as a build makes it
                old = storage.find_volume(dest.pool(), name)
                if old is not None:
                    storage.delete_volume(old)
                storage.create_volume(dest.pool(), name, new_flavor["ephemeral"] * units.Gi, "qcow2")
                disks.append({"path": base + "/" + name, "format": "qcow2"})
        for disk, dev in zip(disks, ("vda", "vdb", "vdc", "vdd", "vde")):
            disk["dev"] = dev
        ports = console_and_ports_on(dest, source, target, uuid)
        target.layout = dict(layout, disks=disks)
        target.save(ports=ports)
        source.save(task_state=states.RESIZE_MIGRATED)
        source.save_migration(status="post-migrating", disk_bytes=sum(copied.values()),
                              disk_copy_seconds=round(time.monotonic() - started, 3))

    def finish_resize(self, source, target):
        """ComputeManager.finish_resize on the destination: the domain with the new flavor, its copied
        disks and the same MACs, powered on if the server ran; vm_state resized. The source's copy
        becomes the shadow, kept (powered off) until confirm or revert."""
        dest = target.hv
        record = source.record
        migration = dict(record["migration"], status="finished")
        target.save(task_state=states.RESIZE_FINISH, migration=migration)
        manager = ComputeManager(self.api, dest)
        spec = manager._domain_spec(None, target.record, dest.pool(), {
            "disks": target.layout["disks"],
            "nics": [{"network": p["network"], "mac": p["mac"]} for p in target.record["ports"]]})
        for key in ("kernel", "initrd", "cmdline"):
            if target.layout.get(key):
                spec[key] = target.layout[key]
        spec_data = dict(target.record.get("request_spec") or {}, flavor=migration["new_flavor"])
        done = dict(target.record, host=dest.name, request_spec=spec_data, availability_zone=dest.config["availability_zone"],
                    vm_state=states.RESIZED, task_state=None, lease_until=None, migration=migration)
        spec["record"] = instance_record.stored(done)
        target.dom = guest.define_domain(dest.conn, spec)
        if migration["old_vm_state"] == states.ACTIVE:
            guest.start_domain(target.dom)
            if not guest.wait_for_state(target.dom, states.RUNNING, self.api.remaining("starting on %s" % dest.name)):
                raise ComputeError("%s did not reach RUNNING on %s" % (record["name"], dest.name))
        target.record = done
        target.save(power_state=guest.power_state(target.dom))
        source.save(host=dest.name, vm_state=states.RESIZED, task_state=None, migration=migration,
                    power_state=guest.power_state(source.dom))
        self.notifier.notify("compute.instance.finish_resize.end", dest.name, notification_payload(target.record))

    def _roll_back(self, source, target, exc):
        """A move that failed before its destination finished: the destination's copy removed (domain,
        volumes, reservations), the source as it was (powered on again if it ran)."""
        migration = dict(source.record.get("migration") or {}, status="error", updated_at=utcnow())
        if target.hv is not None and target.hv is not source.hv:
            self._clean_side(target.hv, source.record["uuid"], source.record["name"],
                             (target.record or {}).get("ports") or source.record.get("ports") or [])
        old_vm_state = migration.get("old_vm_state") or states.ACTIVE
        dom = source.dom or guest.find_domain(source.hv.conn, source.record["name"])
        source.dom = dom
        if old_vm_state == states.ACTIVE and not dom.isActive():
            guest.start_domain(dom)
            guest.wait_for_state(dom, states.RUNNING, 30)
        fault = {"code": 500, "created": utcnow(), "message": "move to %s rolled back: %s"
                 % (migration.get("dest_compute"), exc)}
        source.record["lease_until"] = None
        source.save(host=source.hv.name, vm_state=old_vm_state, task_state=None, migration=migration,
                    flavor=migration.get("old_flavor") or source.record.get("flavor"),
                    power_state=guest.power_state(dom), fault=fault)

    def _clean_side(self, hv, uuid, name, ports):
        """What one host holds of a server's move: its domain (of that uuid), volumes, reservations."""
        dom = guest.find_domain(hv.conn, name)
        if dom is not None:
            record = instance_record.read_record(dom)
            if record is not None and record.get("uuid") == uuid:
                guest.destroy_domain(dom)
        pool = hv.pool()
        for vol in storage.instance_volumes(pool, uuid):
            storage.delete_volume(vol)
        for port in ports:
            net = libvirt_network.find_network(hv.conn, port["network"])
            if net is not None:
                libvirt_network.release_fixed_ip(pool, net, port["mac"])
