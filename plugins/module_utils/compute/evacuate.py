# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evacuation: the servers of a host that is down, rebuilt elsewhere through the scheduler.

Nova's compute.api.API.evacuate (allowed only when the source's compute service is down:
ComputeServiceInUse otherwise; vm_state active, stopped or error, no task), then the conductor's
rebuild_instance: select_destinations with the stored RequestSpec and the source ignored, and the
destination's rebuild from the image with the same UUID, name, MACs and addresses. Here the down
host's records are read from their replicas (compute/replicas.py); the destination builds the
server as a create does (the same claim, filters, networks and disks; the same reschedules to the
alternates) and its record carries the evacuation's migration (status done). When the source
answers again, its stale copy is destroyed, never started, and the migration becomes completed
(ComputeManager._destroy_evacuated_instances): destroy_evacuated_instances, run by every task
that gathers the hosts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import readiness
from ansible_collections.novalite.compute.plugins.module_utils.compute import replicas
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.conductor import ComputeTaskManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.migrate import MoveTask
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import stored_request_spec
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import spec_from_stored
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks

EVACUATION = "evacuation"


def evacuate(api, request):
    """nova_server_action action=evacuate: every server of request["source_host"] (or the named
    ones), each to the host the scheduler picks (or request["host"], still filtered)."""
    api.gather_host_states()
    source = request["source_host"]
    if source not in api.hypervisors:
        raise ComputeError("source_host: %r is not one of the hypervisors (%s)" % (
            source, ", ".join(sorted(api.hypervisors))))
    if api.hypervisors[source].up:
        raise ComputeError("source_host: Compute service of %s is still in use (it answers): only the servers "
                           "of a host that is down are evacuated" % source)
    target = request.get("host")
    if target is not None:
        if target not in api.hypervisors or target == source:
            raise ComputeError("host: %r is not another of the hypervisors" % target)
        if not api.hypervisors[target].up:
            raise ComputeError("host: %s does not answer: %s" % (target, api.hypervisors[target].error))
    on_source = replicas.replicas_of(api, source)
    live = dict((r.get("uuid"), (hv, r)) for hv in api.hypervisors.values() if hv.up
                for r in hv.facts["instances"] if not states.is_shadow(r, hv.name) and not states.is_transient(r))
    wanted = _selected(request.get("servers") or [], on_source, live, source)
    results, todo = [], []
    for uuid in wanted:
        if uuid in live:        # evacuated already (or moved): where it is now
            hv, record = live[uuid]
            results.append(_view(record, hv, changed=False))
            continue
        document = on_source[uuid]
        record = document["record"]
        ia.check_instance_state(ia.EVACUATE, record, time.time())
        todo.append((record, _build_request(api, record, document["user_data"])))
    for record, build in todo:
        if api.check_mode:
            selection, placement = _select(api, record, source, target)
            results.append(_view(dict(record, host=selection.host), api.hypervisors[selection.host], changed=True,
                                 destination=selection.host, placement=placement))
            continue
        # one run at a time evacuates a server: a second waits, then finds it done
        with locks.HostLock(api.home_hypervisor().pool(), "evacuate-" + record["uuid"],
                            timeout=api.remaining("taking %s's evacuation lock" % record["name"])):
            done = _settled_copy(api, record)
            if done is not None:
                results.append(_view(done[1], done[0], changed=False))
                continue    # evacuated meanwhile by another run
            selection, placement = _select(api, record, source, target)
            instance = _instance(record, source, selection.host)
            ComputeTaskManager(api).build_instances(build, [instance], [selection])
            if instance["vm_state"] == states.ERROR:
                raise ComputeError("evacuation of %s from %s failed: %s" % (
                    record["name"], source, (instance.get("fault") or {}).get("message")),
                    servers=[_view(record, None, changed=False)], details={"placement": placement})
            hv = api.hypervisors[instance["host"]]
            _migration_done(hv, instance)
            if record.get("vm_state") == states.STOPPED:    # as Nova before API 2.95: the state it had
                instance["domain"] = instance["name"]
                ComputeManager(api, hv).stop_instance(instance, 0)
            replicas.replicate(api, hv, instance, build.get("userdata"))
            results.append(_view(instance, hv, changed=True, destination=hv.name, placement=placement))
        unready = readiness.not_ready(api, [instance]) if api.wait and instance["vm_state"] == states.ACTIVE else []
        if unready:
            raise ComputeError("wait_for: %s" % "; ".join(unready), servers=results)
    return {"changed": any(view["action"]["changed"] for view in results), "servers": results, "warnings": []}


def _select(api, record, source, target):
    spec = spec_from_stored(stored_request_spec(record, api.catalogs), ignore_hosts=[source],
                            instance_uuid=record["uuid"])
    return MoveTask(api)._select(record, spec, source, target)


def _settled_copy(api, record):
    """(hv, record) of the server's complete copy on an answering host, read live (another run
    evacuated it meanwhile), or None once no copy is left: a build a dead run left (its lease over)
    is reaped, one whose run lives is waited for within the task's timeout."""
    while True:
        copies = [(hv, r) for hv in api.hypervisors.values() if hv.up
                  for r in instance_record.list_records(hv.conn) if r.get("uuid") == record["uuid"]]
        complete = [(hv, r) for hv, r in copies if not states.is_transient(r)]
        if complete:
            return complete[0]
        building = [(hv, r) for hv, r in copies if states.build_in_progress(r, time.time())]
        if not building:
            for hv, r in copies:
                ComputeManager(api, hv).reap_abandoned(dict(r, domain=r["name"]))
            return None
        time.sleep(min(1.0, api.remaining("waiting for another run's evacuation of %s on %s"
                                          % (record["name"], building[0][0].name))))


def _selected(names, on_source, live, source):
    """The uuids to evacuate: every replica's server of the source, or the named ones (a name or
    UUID; one already evacuated from the source counts, as it is done)."""
    if not names:
        return sorted(on_source, key=lambda uuid: on_source[uuid]["record"].get("name") or "")
    evacuated = dict((uuid, record) for uuid, (_hv, record) in live.items()
                     if (record.get("migration") or {}).get("migration_type") == EVACUATION
                     and record["migration"].get("source_compute") == source)
    wanted = []
    for index, name in enumerate(names):
        found = [uuid for uuid, doc in on_source.items() if name in (uuid, doc["record"].get("name"))]
        found += [uuid for uuid, record in evacuated.items() if name in (uuid, record.get("name"))]
        if not found:
            raise ComputeError("server[%d]: no server %r was on %s (by the replicas the answering hosts hold)"
                               % (index, name, source))
        wanted.extend(uuid for uuid in found if uuid not in wanted)
    return wanted


def _build_request(api, record, user_data):
    """The create request that builds the server again from its image (compute.api.rebuild's
    checks: the image in the catalog and fit for the flavor, the key pair for its config drive)."""
    name = record.get("image")
    if name not in api.catalogs["images"]:
        raise ComputeError("images: %s's image %r is not in the images catalog; an evacuation rebuilds it from "
                           "its image" % (record["name"], name))
    key = record.get("key_name")
    if record.get("config_drive") and key and key not in api.catalogs["keypairs"]:
        raise ComputeError("keypairs: %s's key pair %r is not in the keypairs catalog; give it, so that the "
                           "config drive made again has it" % (record["name"], key))
    stored = stored_request_spec(record, api.catalogs)
    hints = dict(stored.get("scheduler_hints") or {})
    group = stored.get("instance_group")
    if group:   # the claim checks the group the server was created in
        api.catalogs["server_groups"].setdefault(group["name"], dict(group, rules=group.get("rules") or {}))
        hints["group"] = group["name"]
    build = {"image": api.catalogs["images"][name], "flavor": record["flavor"], "meta": record.get("metadata") or {},
             "userdata": user_data, "key_name": key, "config_drive": bool(record.get("config_drive")),
             "admin_password": None, "availability_zone": stored.get("availability_zone"),
             "scheduler_hints": hints, "event": "rebuild",
             "nics": [{"network": p["network"], "mac": p["mac"], "fixed_ip": p.get("ip")}
                      for p in record.get("ports") or []]}
    if not api.check_mode:
        compute_images.prepare_request_images(build, api.catalogs, open_url=api.open_url,
                                              timeout=api.remaining("reading image %s" % name))
    return build


def _instance(record, source, dest):
    """The server's record for its build on `dest`: its identity kept, the evacuation's migration."""
    keep = ("uuid", "name", "project_id", "user_id", "created_at", "image", "flavor", "key_name", "metadata",
            "server_group", "launch_index", "reservation_id", "config_drive", "user_data_digest", "request_spec",
            "locked", "locked_by", "owner", "replica_host")
    instance = dict((key, record[key]) for key in keep if key in record)
    instance.update(vm_state=states.BUILDING, task_state=states.SCHEDULING, power_state=states.NOSTATE,
                    launched_at=None, availability_zone=record.get("availability_zone"), ports=[],
                    migration={"uuid": str(uuidlib.uuid4()), "migration_type": EVACUATION, "status": "accepted",
                               "source_compute": source, "dest_compute": dest, "created_at": utcnow()})
    return instance


def _migration_done(hv, instance):
    instance["migration"] = dict(instance["migration"], dest_compute=hv.name, status="done")
    _save(hv, instance)


def _save(hv, record):
    dom = guest.find_domain(hv.conn, record["name"])
    current = instance_record.read_record(dom) if dom is not None else None
    if current is not None and current.get("uuid") == record["uuid"]:
        instance_record.save_record(dom, instance_record.stored(dict(current, migration=record["migration"])))


def _view(record, hv, changed, **detail):
    view = server_view(record, hv)
    view["action"] = dict({"name": ia.EVACUATE, "changed": changed}, **detail)
    if record.get("migration"):
        view["migration"] = record["migration"]
    return view


def destroy_evacuated_instances(api):
    """ComputeManager._destroy_evacuated_instances, for every host that answers: a copy of a server
    that was evacuated from it (the server's record elsewhere carries the evacuation, source this
    host) is destroyed, never started, with its disks and reservations; the evacuation's migration
    becomes completed. True when anything was destroyed."""
    if api.check_mode:
        return False
    done = False
    for dest in api.hypervisors.values():
        if not dest.up:
            continue
        for record in dest.facts["instances"]:
            migration = record.get("migration") or {}
            if migration.get("migration_type") != EVACUATION or migration.get("status") != "done":
                continue
            source = api.hypervisors.get(migration.get("source_compute"))
            if source is None or not source.up:
                continue
            for stale in [r for r in source.facts["instances"] if r.get("uuid") == record.get("uuid")]:
                ComputeManager(api, source)._cleanup(dict(stale), source.pool())   # driver.destroy: no notification
                done = True
            record["migration"] = dict(migration, status="completed")
            _save(dest, record)
    if done:
        for hv in api.hypervisors.values():
            if hv.up:
                hv.refresh_facts()
    return done
