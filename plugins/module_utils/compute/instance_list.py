# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The named servers as the hypervisors hold them (nova.compute.instance_list lists instances
across cells; here across hypervisors), one server per name.

A name can have more than one copy on the hosts: the half-built copy a lost host kept while its
build was rescheduled to another host (the same uuid), a build another run has under way, a
build whose run died. settle() decides which copy is the server, waits for the builds other runs
have under way, and reaps what dead runs left."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

POLL_SECONDS = 1.0


def find_copies(hypervisors, names):
    """{name: [(Hypervisor, record)]}: every copy of each named server on the reachable hosts,
    in host order."""
    found = {}
    for hv in hypervisors:
        if hv.up:
            for record in hv.facts["instances"]:
                if record.get("name") in names:
                    found.setdefault(record["name"], []).append((hv, record))
    return found


def settle(api, copies):
    """{name: (Hypervisor, record)}: the server of each name, once no other run builds it.

    - an unfinished copy whose uuid has a complete copy elsewhere was left on a host lost during
      its build, which went on elsewhere: reaped at once;
    - an unfinished copy whose lease is live: another run builds it: waited for, within the task's
      timeout (a killed run's lease runs out within states.LEASE_SECONDS, so a run whose timeout is
      longer outwaits a run killed at any point);
    - an unfinished copy whose lease ran out: its run died: reaped;
    - two complete copies of one name are two servers: refused, naming both hosts.
    In check mode nothing is reaped (the reapable copies are left out)."""
    deadline = api.deadline
    copies = dict((name, list(pairs)) for name, pairs in copies.items())
    while True:
        waiting = []
        for name, pairs in sorted(copies.items()):
            # a shadow (the other host's side of a move) is not the server: recover_moves handles it
            pairs = [(hv, r) for hv, r in pairs if not (r.get("migration") and states.is_shadow(r, hv.name))]
            complete = [(hv, r) for hv, r in pairs if not states.is_transient(r)]
            finished = set(r.get("uuid") for _hv, r in complete)
            kept = list(complete)
            for hv, record in pairs:
                if not states.is_transient(record):  # built (an action may be under way on it)
                    continue
                rescheduled = record.get("uuid") in finished
                if not rescheduled and states.build_in_progress(record, time.time()):
                    kept.append((hv, record))
                    waiting.append(name)
                elif not api.check_mode:
                    _reap(api, hv, record, name)
            copies[name] = kept
            if len(complete) > 1:
                raise ComputeError("name: %s exists as %d servers, on %s; delete the extra ones (by uuid) "
                                   "before running again" % (name, len(complete), ", ".join(
                                       "%s (uuid %s)" % (hv.name, r.get("uuid")) for hv, r in complete)))
        if not waiting:
            return dict((name, pairs[0]) for name, pairs in copies.items() if pairs)
        if time.monotonic() > deadline:
            name = waiting[0]
            hv, record = [(hv, r) for hv, r in copies[name] if states.is_transient(r)][0]
            raise ComputeError("name: %s is being built by another run on %s (task_state %s; its lease runs "
                               "%.0f s more); try again when it ends" % (
                                   name, hv.name, record.get("task_state"), record["lease_until"] - time.time()))
        time.sleep(POLL_SECONDS)
        copies.update(refreshed(api, waiting))


def refreshed(api, names):
    """Every copy of the named servers, read again from every reachable host (a build may have
    moved to another host meanwhile)."""
    for hv in api.hypervisors.values():
        if hv.up:
            hv.refresh_facts()
    fresh = find_copies(api.hypervisors.values(), set(names))
    return dict((name, fresh.get(name, [])) for name in names)


def _reap(api, hv, record, name):
    try:
        ComputeManager(api, hv).reap_abandoned(record)
        hv.refresh_facts()
    except Exception as exc:  # reported with the server it concerns
        raise ComputeError("name: the abandoned build of %s on %s could not be removed: %s" % (name, hv.name, exc))


def check_names_free(api, names, copies):
    """The names without a copy in the facts, looked up live on every reachable host (a build may
    have defined its domain since the facts were read): another run's copies are added to
    `copies`; a domain with one of our names but no record of ours is not ours to touch."""
    for hv in api.hypervisors.values():
        if not hv.up:
            continue
        for name in names:
            if name in copies:
                continue
            dom = guest.find_domain(hv.conn, name)
            record = instance_record.read_record(dom) if dom is not None else None
            if record is not None:
                copies.setdefault(name, []).append((hv, dict(record, domain=name, power_state=guest.power_state(dom))))
            elif dom is not None:
                raise ComputeError("name: a domain named %r already exists on hypervisor %s and is "
                                   "not managed by novalite.compute" % (name, hv.name))
    return copies


SERVER_FILTERS = ("name", "id", "hypervisor", "status", "metadata", "server_group", "project")


def list_servers(hypervisors, filters):
    """[server view] of every complete-or-building server on the reachable hypervisors (already
    gathered) that matches every filter given (a None filter matches all), sorted by name then host."""
    found = []
    for hv in hypervisors:
        if not hv.up:
            continue
        for record in hv.facts["instances"]:
            if states.is_shadow(record, hv.name):
                continue    # the other host's side of a move: the server is listed where it is
            server = server_view(record, hv)
            if _matches(server, filters):
                found.append(server)
    return sorted(found, key=lambda s: (s["name"] or "", s["hypervisor_hostname"] or ""))


def _matches(server, filters):
    # name: the server's name or its UUID, as openstack.cloud.server_info's name (and Nova's
    # find by name or id) takes either.
    if filters.get("name") is not None and filters["name"] not in (server["name"], server["id"]) \
            and filters["name"].lower() != (server["id"] or ""):
        return False
    checks = (("id", server["id"]), ("hypervisor", server["hypervisor_hostname"]),
              ("server_group", server["server_group"]), ("project", server["project_id"]))
    for key, value in checks:
        if filters.get(key) is not None and filters[key] != value:
            return False
    if filters.get("status") is not None and filters["status"].upper() != server["status"]:
        return False
    wanted = filters.get("metadata") or {}
    return all(server["metadata"].get(key) == str(value) for key, value in wanted.items())
