# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The claim on a host (nova.compute.claims, ResourceTracker.instance_claim): live usage and
the server group re-checked under the host's lock, the domain defined as the claim."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.exception import (
    ComputeError, InstanceExists, RescheduledByPolicyException, RescheduledException, TaskTimeout)
from ansible_collections.novalite.compute.plugins.module_utils.placement import allocation_candidates
from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import resources_from_flavor
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as filters
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks


@contextlib.contextmanager
def instance_claim(manager, request, instance):
    """ResourceTracker.instance_claim: re-check live usage under the host's lock.

    The claim is the domain itself, defined (not started) with the instance
    record while the lock is held, so every later claim counts it. On any
    failure inside the block the claim is aborted: everything built is removed.
    """
    conn = manager.hv.conn
    try:
        pool = manager.hv.pool()
        # The host's claim lock, then the fleet's: no run waits for a host's lock while it holds the
        # fleet's, so those are held only for the checks and the define.
        with manager.hv.claims, locks.HostLock(pool, "claim", timeout=manager.api.remaining(
                "claiming on %s" % manager.hv.name)):
            with fleet_locks(manager.api, request, instance):
                check_name_free(manager.api, instance)
                facts = manager.hv.refresh_facts()
                check_claim(manager, request, instance, facts)
                manager._renew_lease(instance)
                dom = guest.define_domain(conn, manager._domain_spec(request, instance, pool))
    except (RescheduledException, InstanceExists, TaskTimeout):
        raise
    except Exception as exc:  # any failure to claim sends the build to an alternate, while time is left
        if time.monotonic() >= manager.api.deadline:
            raise TaskTimeout("timeout: the task's %ss ran out claiming on %s (%s)"
                              % (manager.api.timeout, manager.hv.name, exc))
        raise RescheduledException("claim on %s failed: %s" % (manager.hv.name, exc))
    try:
        yield dom
    except Exception as exc:
        message = str(exc) if isinstance(exc, (RescheduledException, TaskTimeout)) else "build on %s failed: %s" % (
            manager.hv.name, exc)
        try:
            with manager.hv.lock:
                lost = not manager.hv.alive()
                if lost:
                    manager.hv.reconnect()
                    locks.release_lost_locks(manager.hv.conn)
            manager._cleanup(instance, manager.hv.pool())
            if lost:  # an upload cut off with the connection left its base half-written
                for base in imagecache.half_written_bases(manager.hv.conn, manager.hv.config["storage_pool"],
                                                          locked_too=True):
                    imagecache.remove_half_written_base(manager.hv.conn, manager.hv.config["storage_pool"], base)
        except Exception as cleanup_exc:  # the host is gone: say what stays there
            message += ("; what it built on %s could not be removed (%s): nova_host_facts reports it "
                        "as an orphan once its lease ends" % (manager.hv.name, cleanup_exc))
        if isinstance(exc, TaskTimeout):
            raise TaskTimeout(message)   # no time for an alternate
        raise RescheduledException(message)


@contextlib.contextmanager
def fleet_locks(api, request, instance):
    """The locks that make a name, and a hard affinity group's host, one across the fleet: held
    on the home hypervisor (the first one by name that answers: the same for every run over the
    same hypervisors while it answers) inside the host's claim, in one order (the group's, then
    the name's)."""
    home = api.home_hypervisor()
    group = request["scheduler_hints"].get("group")
    with contextlib.ExitStack() as stack:
        if group and api.catalogs["server_groups"][group]["policy"] == "affinity":
            stack.enter_context(locks.HostLock(home.pool(), "group-" + group,
                                               timeout=api.remaining("taking group %s's lock" % group)))
        stack.enter_context(locks.HostLock(home.pool(), "name-" + instance["name"],
                                           timeout=api.remaining("taking %s's name lock" % instance["name"])))
        yield


def check_name_free(api, instance):
    """The name, live on every reachable hypervisor: InstanceExists when another run's server or a
    foreign domain has it (a copy of this very instance, left by an attempt that failed, does not
    count). A host that stopped answering during the run is passed over: it was checked when the
    run started, and a copy made there since would have needed the fleet lock."""
    for hv in api.hypervisors.values():
        if not hv.up or not hv.alive():
            continue
        try:
            dom = guest.find_domain(hv.conn, instance["name"])
            record = instance_record.read_record(dom) if dom is not None else None
        except Exception as exc:  # the host stopped answering meanwhile
            if not hv.alive():
                continue
            raise RescheduledException("cannot check that %s is free on %s: %s" % (instance["name"], hv.name, exc))
        if dom is None or (record is not None and record.get("uuid") == instance["uuid"]):
            continue
        if record is None:
            raise InstanceExists("name: a domain named %r already exists on hypervisor %s and is not managed by "
                                 "novalite.compute" % (instance["name"], hv.name))
        raise InstanceExists("name: %s is another run's server on %s (uuid %s)" % (
            instance["name"], hv.name, record.get("uuid")), host=hv.name, uuid=record.get("uuid"))


def live_group_hosts(api, group_name):
    """The hosts holding a member of the group now, read from every reachable hypervisor."""
    hosts = set()
    for hv in api.hypervisors.values():
        if hv.up and hv.alive() and any(record.get("server_group") == group_name
                                        for record in instance_record.list_records(hv.conn)):
            hosts.add(hv.name)
    return hosts


def check_claim(manager, request, instance, facts):
    """Placement's capacity check and the server-group filters, on the host's live usage."""
    state = HostState.from_facts(facts, dict(manager.hv.config, up=True, failed_builds=0))
    spec = manager.api._request_spec(request, 1)
    group = spec.instance_group
    if group is not None:
        if group.policy == "affinity":  # under the group's fleet lock: placements elsewhere, live
            hosts = live_group_hosts(manager.api, group.name) - set([manager.hv.name])
        else:
            hosts = set(hv.name for hv in manager.api.hypervisors.values() if hv is not manager.hv and hv.up
                        and any(r.get("server_group") == group.name for r in hv.facts["instances"]))
        if any(r.get("server_group") == group.name for r in facts["instances"]):
            hosts.add(manager.hv.name)
        group.hosts = sorted(hosts)
    resources = resources_from_flavor(spec.flavor)
    short = allocation_candidates.missing(state.rooms, resources)
    if short:
        raise RescheduledException("claim on %s refused by placement: the host's live usage leaves no room "
                                   "for %s" % (manager.hv.name, ", ".join("%s %d" % (rc, resources[rc])
                                                                          for rc in short)))
    for filter_cls in (filters.ServerGroupAntiAffinityFilter, filters.ServerGroupAffinityFilter):
        if not filter_cls().host_passes(state, spec):
            raise RescheduledByPolicyException("claim on %s refused by %s: the members now on the hosts "
                                               "break the group's policy here"
                                               % (manager.hv.name, filter_cls.__name__))


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
