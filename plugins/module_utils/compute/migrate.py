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
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import same_host_resize
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.claims import live_group_hosts
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.placement import allocation_candidates
from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import resources_from_flavor
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as filters
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import NoValidHost, select_destinations
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec, spec_from_stored, spec_to_stored)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import migration as libvirt_migration
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

# nova.objects.migration's types and statuses
RESIZE = "resize"
MIGRATION = "migration"
LIVE_MIGRATION = "live-migration"
EVACUATION = "evacuation"
# where a cold move's migration goes: pre-migrating -> migrating -> post-migrating -> finished
# -> confirming -> confirmed, or -> reverting -> reverted; error when it was rolled back
DONE = ("finished", "confirming", "reverting")

SHUTDOWN_TIMEOUT = 30


class MoveFailed(ComputeError):
    """A move failed and was rolled back: the server is where it was."""


def stored_request_spec(record, catalogs=None):
    """The server's stored RequestSpec (plain data), or, for a server created before specs were
    stored, one built from its record as Nova's RequestSpec.from_components does for an instance
    without one: its flavor, image (the catalog's properties when the catalog still has it), server
    group and project; no availability zone (the record keeps the zone it landed in, not one asked
    for) and no hints."""
    if record.get("request_spec"):
        return record["request_spec"]
    catalogs = catalogs or {}
    image = (catalogs.get("images") or {}).get(record.get("image")) or {}
    group = None
    group_name = record.get("server_group")
    if group_name:
        conf = (catalogs.get("server_groups") or {}).get(group_name)
        group = ServerGroup(group_name, conf["policy"], rules=conf.get("rules") or {}) if conf else None
    spec = build_request_spec(
        flavor=Flavor.from_dict(record.get("flavor")),
        image=ImageMeta(record.get("image") or "unknown", properties=image.get("properties") or {},
                        min_ram=image.get("min_ram") or 0, min_disk=image.get("min_disk") or 0),
        instance_group=group, project_id=record.get("project_id") or "default")
    return spec_to_stored(spec)


def _copy_record(record, **changes):
    copy = dict((k, v) for k, v in record.items() if k not in ("domain",))
    copy.update(changes)
    return copy


class _Side:
    """One host's copy of the server during a move: its hypervisor, domain and record."""

    def __init__(self, api, hv, record, dom=None):
        self.api = api
        self.hv = hv
        self.record = record
        self.dom = dom

    def save(self, **changes):
        self.record.update(changes)
        self.record["updated_at"] = utcnow()
        if states.is_complete(self.record) and not self.record.get("migration_live"):
            self.record["lease_until"] = None
        else:
            self.record["lease_until"] = time.time() + states.LEASE_SECONDS
        if self.dom is None:
            self.dom = guest.find_domain(self.hv.conn, self.record["name"])
        instance_record.save_record(self.dom, instance_record.stored(self.record))

    def save_migration(self, **changes):
        migration = dict(self.record.get("migration") or {})
        migration.update(changes, updated_at=utcnow())
        self.save(migration=migration)


class _Renewer:
    """What the heartbeat renews while a move runs: both sides' leases."""

    def __init__(self, sides):
        self.sides = sides

    def renew(self):
        for side in self.sides:
            if side.dom is not None and side.record.get("task_state") is not None:
                try:
                    side.save()
                except Exception:  # a side being removed: its next step says so
                    pass


# ------------------------------------------------------------------------------ finding the server
def find_server(api, name):
    """(Hypervisor, record, [(Hypervisor, record)] shadows) of the named server (name or UUID), once
    any move a dead run left half-done on it is recovered. ComputeError naming `name` when no
    reachable host has it."""
    request = api._resolve_uuid({"name": name, "max_count": 1})
    copies = instance_list.find_copies(api.hypervisors.values(), set([request["name"]]))
    pairs = copies.get(request["name"], [])
    if pairs and not api.check_mode and recover_moves(api, pairs):
        pairs = instance_list.refreshed(api, [request["name"]])[request["name"]]
    servers = [(hv, r) for hv, r in pairs if not states.is_shadow(r, hv.name)]
    shadows = [(hv, r) for hv, r in pairs if states.is_shadow(r, hv.name)]
    if not servers:
        raise ComputeError("name: no server %r on the hypervisors that answer%s" % (
            name, "" if not api.unreachable() else " (%s do not answer)" % ", ".join(sorted(api.unreachable()))))
    found = instance_list.settle(api, {request["name"]: servers})
    hv, record = found[request["name"]]
    shadows = [(shv, r) for shv, r in shadows if r.get("uuid") == record.get("uuid")]
    return hv, record, shadows


def _sides_of(pairs):
    """{migration uuid: {"source": (hv, record), "dest": (hv, record)}} of the copies that carry a
    migration, each side by the host the migration names."""
    moves = {}
    for hv, record in pairs:
        migration = record.get("migration")
        if not migration:
            continue
        move = moves.setdefault(migration["uuid"], {})
        if hv.name == migration.get("dest_compute"):
            move["dest"] = (hv, record)
        elif hv.name == migration.get("source_compute"):
            move["source"] = (hv, record)
    return moves


def recover_moves(api, pairs):
    """Finish or roll back the moves a dead run left (a task_state of a move, its lease over). A
    move whose lease is live belongs to a run still at it (or one killed less than a lease ago): it
    is waited for within the task's timeout, then ComputeError. True if anything was done."""
    done = False
    name = pairs[0][1].get("name") if pairs else None
    while True:
        now = time.time()
        waiting = None
        for _move_uuid, move in sorted(_sides_of(pairs).items()):
            records = [r for _hv, r in move.values()]
            busy = [r for r in records if r.get("task_state") in states.MOVE_STATES]
            if not busy:
                both_claim = "source" in move and "dest" in move and not any(
                    states.is_shadow(r, hv.name) for hv, r in move.values())
                if both_claim:
                    busy = records      # both sides claim the server: a finish cut short
                else:
                    continue
            live = [r for r in busy if states.task_in_progress(r, now)]
            if live:
                waiting = live[0]
                continue
            MoveTask(api).recover(move)
            done = True
        if waiting is None:
            return done
        if time.monotonic() > api.deadline:
            raise ComputeError("name: %s is being moved by another run (task_state %s; its lease runs %.0f s "
                               "more); try again when it ends"
                               % (waiting.get("name"), waiting.get("task_state"), waiting["lease_until"] - now))
        time.sleep(instance_list.POLL_SECONDS)
        pairs = instance_list.refreshed(api, [name])[name]


# ------------------------------------------------------------------------------ the task
class MoveTask:
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
            problem = hv.up and hv.name not in spec.ignore_hosts and _ports_problem(hv, record)
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
        if target_host is not None and target_host not in self.api.hypervisors:
            raise ComputeError("host: %r is not one of the hypervisors (%s)"
                               % (target_host, ", ".join(sorted(self.api.hypervisors))))
        if gather:
            self.api.gather_host_states()
        hv, record, shadows = find_server(self.api, name)
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
        source = _Side(self.api, hv, _copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        source.record["request_spec"] = stored
        if dest is hv:
            return self._resize_same_host(source, spec, migration, before, placement, auto_confirm)
        target = _Side(self.api, dest, None)
        renewer = _Renewer([source, target])
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
        with self.api.heartbeat.holding(_Renewer([side])):
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
                target.record = _copy_record(record, flavor=record["migration"]["new_flavor"], ports=[])
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
        ports = _console_and_ports_on(dest, source, target, uuid)
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

    # ------------------------------------------------------------------ confirm / revert
    def confirm(self, name, override_lock=False, gather=True):
        """compute.API.confirm_resize: the source's copy removed; vm_state back to what it was."""
        if gather:
            self.api.gather_host_states()
        hv, record, shadows = find_server(self.api, name)
        instance_actions.check_instance_lock(instance_actions.CONFIRM_RESIZE, record, override_lock)
        if record.get("vm_state") != states.RESIZED:
            view = server_view(record, hv)
            return {"changed": False, "server": view, "servers": [view], "migration": record.get("migration")}
        before = server_view(record, hv)
        if self.api.check_mode:
            return {"changed": True, "server": before, "servers": [before]}
        target = _Side(self.api, hv, _copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        if self._same_host(record, hv):
            same_host_resize.confirm_resize(self, target)
            view = server_view(target.record, hv)
            return {"changed": True, "server": view, "servers": [view], "migration": target.record.get("migration"),
                    "diff": {"before": before, "after": view}}
        source = None
        for shv, shadow in shadows:
            if shv.name == (record.get("migration") or {}).get("source_compute"):
                source = _Side(self.api, shv, _copy_record(shadow))
        self.confirm_resize(target, source)
        view = server_view(target.record, hv)
        return {"changed": True, "server": view, "servers": [view], "migration": target.record.get("migration"),
                "diff": {"before": before, "after": view}}

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
        if gather:
            self.api.gather_host_states()
        hv, record, shadows = find_server(self.api, name)
        instance_actions.check_instance_lock(instance_actions.REVERT_RESIZE, record, override_lock)
        if record.get("vm_state") != states.RESIZED:
            view = server_view(record, hv)
            return {"changed": False, "server": view, "servers": [view], "migration": record.get("migration")}
        before = server_view(record, hv)
        migration = record.get("migration") or {}
        if self._same_host(record, hv):
            if self.api.check_mode:
                return {"changed": True, "server": before, "servers": [before]}
            side = _Side(self.api, hv, _copy_record(record), guest.find_domain(hv.conn, record["domain"]))
            same_host_resize.revert_resize(self, side)
            view = server_view(side.record, hv)
            return {"changed": True, "server": view, "servers": [view], "migration": side.record.get("migration"),
                    "diff": {"before": before, "after": view}}
        source = None
        for shv, shadow in shadows:
            if shv.name == migration.get("source_compute"):
                source = _Side(self.api, shv, _copy_record(shadow))
        if source is None:
            raise ComputeError("revert: the source host %s of %s does not answer or no longer holds its copy; "
                               "nothing was changed" % (migration.get("source_compute"), name))
        if self.api.check_mode:
            return {"changed": True, "server": before, "servers": [before]}
        target = _Side(self.api, hv, _copy_record(record), guest.find_domain(hv.conn, record["domain"]))
        self.revert_resize(target, source)
        view = server_view(source.record, source.hv)
        return {"changed": True, "server": view, "servers": [view], "migration": source.record.get("migration"),
                "diff": {"before": before, "after": view}}

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

    # ------------------------------------------------------------------ live migration
    def live_migrate(self, name, target_host=None, completion_timeout=None, override_lock=False, gather=True,
                     bandwidth_mib=None):
        """compute.API.live_migrate -> LiveMigrationTask: the destination the scheduler picks with the
        stored spec (the source ignored), or `target_host`, still filtered; the move claim there;
        pre_live_migration (bases, empty overlays, the config drive, the DHCP reservations); libvirt's
        live migration with the overlays copied (no shared storage); post_live_migration (the source's
        volumes and reservations removed). A failure, an abort or `completion_timeout` seconds passing
        leave the guest running on the source, the destination holding nothing of it."""
        if target_host is not None and target_host not in self.api.hypervisors:
            raise ComputeError("host: %r is not one of the hypervisors (%s)"
                               % (target_host, ", ".join(sorted(self.api.hypervisors))))
        if gather:
            self.api.gather_host_states()
        hv, record, _shadows = find_server(self.api, name)
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
        source = _Side(self.api, hv, _copy_record(record, request_spec=stored),
                       guest.find_domain(hv.conn, record["domain"]))
        target = _Side(self.api, dest, None)
        renewer = _Renewer([source, target])
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
            target.record = _copy_record(source.record, host=dest.name, task_state=None, lease_until=None,
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
        ports = _console_and_ports_on(dest, source, target, uuid)
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

    # ------------------------------------------------------------------ recovery
    def recover(self, move):
        """A move a dead run left: finished on the destination -> it stands (the source made the shadow;
        a confirm or revert cut short is completed); else rolled back onto the source."""
        source = move.get("source")
        dest = move.get("dest")
        src_side = _Side(self.api, source[0], _copy_record(source[1])) if source else None
        dst_side = _Side(self.api, dest[0], _copy_record(dest[1])) if dest else None
        if dst_side is not None:
            dst_side.dom = guest.find_domain(dst_side.hv.conn, dst_side.record["name"])
            if self._same_host(dst_side.record, dst_side.hv):
                return same_host_resize.recover(self, dst_side)
        if src_side is not None:
            src_side.dom = guest.find_domain(src_side.hv.conn, src_side.record["name"])
        dst_migration = (dst_side.record.get("migration") or {}) if dst_side else {}
        status = dst_migration.get("status")
        live = dst_migration.get("migration_type") == LIVE_MIGRATION or (
            src_side is not None and (src_side.record.get("migration") or {}).get("migration_type") == LIVE_MIGRATION)
        if live:
            return self._recover_live(src_side, dst_side)
        finished = dst_side is not None and dst_side.record.get("host") == dst_side.hv.name
        if finished and status == "reverting" and src_side is not None:
            self.revert_resize(dst_side, src_side)
        elif finished and status in ("finished", "confirming"):
            if status == "confirming" or src_side is None:
                self.confirm_resize(dst_side, src_side)
            else:
                src_side.save(host=dst_side.hv.name, vm_state=states.RESIZED, task_state=None,
                              migration=dst_migration)
                if dst_side.record.get("task_state") is not None:
                    dst_side.save(task_state=None)
        elif src_side is not None:
            migration = src_side.record.get("migration") or {}
            if dst_side is None:
                # the destination's copy may be half made with no record yet: its volumes by uuid
                dest_name = migration.get("dest_compute")
                dest_hv = self.api.hypervisors.get(dest_name)
                if dest_hv is not None and dest_hv.up:
                    dst_side = _Side(self.api, dest_hv, None)
            target = dst_side or _Side(self.api, src_side.hv, None)
            if target.hv is src_side.hv:
                target = _NoSide()
            self._roll_back(src_side, target, "its run stopped at task_state %s" % src_side.record.get("task_state"))
        elif dst_side is not None:
            # only the destination's side answers and it never finished: nothing of it is the server
            self._clean_side(dst_side.hv, dst_side.record["uuid"], dst_side.record["name"],
                             dst_side.record.get("ports") or [])


def _recover_live(self, src_side, dst_side):
    """A live migration whose run died: libvirt cancels a migration whose managing client went, so the
    guest runs on the source unless the migration had completed (the source's domain gone, the
    destination's running): then it stands; else the destination's copy is removed."""
    src_running = src_side is not None and src_side.dom is not None and src_side.dom.isActive()
    dst_running = dst_side is not None and dst_side.dom is not None and dst_side.dom.isActive()
    if dst_running and not src_running and (src_side is None or src_side.dom is None):
        migration = dict(dst_side.record.get("migration") or {}, status="completed", updated_at=utcnow())
        dst_side.record["lease_until"] = None
        dst_side.save(host=dst_side.hv.name, task_state=None, migration=migration,
                      availability_zone=dst_side.hv.config["availability_zone"],
                      power_state=guest.power_state(dst_side.dom))
        if src_side is not None:
            self.post_live_migration(src_side, dst_side)
        return
    if src_side is None:
        return      # the source does not answer: nothing is decided without it
    migration = src_side.record.get("migration") or {}
    dest_hv = dst_side.hv if dst_side is not None else self.api.hypervisors.get(migration.get("dest_compute"))
    target = _Side(self.api, dest_hv, None) if dest_hv is not None and dest_hv.up else _NoSide()
    if target.hv is not None:
        self._clean_side(target.hv, src_side.record["uuid"], src_side.record["name"],
                         src_side.record.get("ports") or [])
    migration = dict(migration, status="failed", updated_at=utcnow())
    src_side.record["lease_until"] = None
    src_side.save(host=src_side.hv.name, task_state=None, migration=migration,
                  power_state=guest.power_state(src_side.dom) if src_side.dom is not None else 0)


MoveTask._recover_live = _recover_live


class _NoSide:
    """No destination to clean."""

    hv = None
    record = None


def move_claim_check(api, dest, spec, facts, uuid):
    """ResourceTracker.resize_claim's checks on the destination's live usage: placement's room for the
    flavor, and the server group's policy (the server itself, on its source, not counted)."""
    state = HostState.from_facts(facts, dict(dest.config, up=True, failed_builds=0))
    group = spec.instance_group
    spec = spec.copy()
    spec.instance_uuid = uuid
    if group is not None:
        spec.instance_group = group = group.copy()
        hosts = set()
        for hv in api.hypervisors.values():
            if not hv.up:
                continue
            records = facts["instances"] if hv is dest else hv.facts["instances"]
            if any(r.get("server_group") == group.name and r.get("uuid") != uuid
                   and not states.is_shadow(r, hv.name) for r in records):
                hosts.add(hv.name)
        if group.policy == "affinity":
            hosts |= live_group_hosts(api, group.name) - set([dest.name])
        group.hosts = sorted(hosts)
        group.members = [r.get("uuid") for r in facts["instances"]
                         if r.get("server_group") == group.name and r.get("uuid") != uuid]
    resources = resources_from_flavor(spec.flavor)
    short = allocation_candidates.missing(state.rooms, resources)
    if short:
        raise ComputeError("move claim on %s refused by placement: the host's live usage leaves no room for %s"
                           % (dest.name, ", ".join("%s %d" % (rc, resources[rc]) for rc in short)))
    for filter_cls in (filters.ServerGroupAntiAffinityFilter, filters.ServerGroupAffinityFilter):
        if not filter_cls().host_passes(state, spec):
            raise ComputeError("move claim on %s refused by %s: the members now on the hosts break the group's "
                               "policy there" % (dest.name, filter_cls.__name__))


def _ports_problem(hv, record):
    """Why `hv` cannot give the server its ports (a network missing, an address another MAC holds),
    or None."""
    for port in record.get("ports") or []:
        if port["network"] not in hv.networks:
            return "network %s is missing" % port["network"]
        if port.get("ip"):
            net = libvirt_network.find_network(hv.conn, port["network"])
            problem = libvirt_network.fixed_ip_problem(net, port["ip"], port["mac"])
            if problem:
                return problem
    return None


def _console_and_ports_on(dest, source, target, uuid):
    """On the destination of a move: the console log, and the same MACs and addresses reserved
    on its networks (on record first); the ports with their addresses."""
    if storage.find_volume(dest.pool(), uuid + ".console.log") is None:
        storage.create_volume(dest.pool(), uuid + ".console.log", 0, "raw")
    target.save(ports=[dict(port) for port in source.record.get("ports") or []])
    ports = []
    for port in source.record.get("ports") or []:
        net = libvirt_network.find_network(dest.conn, port["network"])
        if net is None:
            raise ComputeError("network %s is missing on %s" % (port["network"], dest.name))
        with dest.reservations:
            ip = libvirt_network.reserve_fixed_ip(dest.conn, dest.pool(), net, port["mac"], source.record["name"],
                                                  port.get("ip"))
        ports.append(dict(port, ip=ip))
    return ports
