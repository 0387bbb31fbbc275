# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's side of the engine-vs-Nova benchmark: objects from scheduler_inputs dicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import os
import sys
import tempfile
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_collection():
    """Make ansible_collections.novalite.compute importable from this checkout
    (as tests/conftest.py does) and return the scheduler modules.

    NOVALITE_ENGINE_ROOT=DIR imports the engine of another copy of the
    collection instead (e.g. `git archive` of an older commit), in a process
    that has not imported the collection yet."""
    source = os.environ.get("NOVALITE_ENGINE_ROOT")
    try:
        if source:
            raise ImportError("the engine of %s" % source)
        import ansible_collections.novalite.compute  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        source = os.path.abspath(source or REPO)
        root = os.path.join(tempfile.gettempdir(), "novalite-collections-%d-%s"
                            % (os.getuid(), zlib.crc32(source.encode()) & 0xffffffff))
        link = os.path.join(root, "ansible_collections", "novalite", "compute")
        if not os.path.islink(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(source, link)
        sys.path.insert(0, root)
    from ansible_collections.novalite.compute.plugins.module_utils.scheduler import host_state, request_spec
    from ansible_collections.novalite.compute.plugins.module_utils.scheduler import manager as scheduler
    return host_state, request_spec, scheduler


host_state_mod, request_spec_mod, scheduler_mod = import_collection()


def build_hosts(host_dicts):
    result = []
    for h in host_dicts:
        result.append(host_state_mod.HostState(
            h["name"], hypervisor_type="QEMU", hypervisor_version=h["hypervisor_version"],
            virt_type=h["virt_type"], cpu_arch=h["cpu_arch"], vcpus=h["vcpus"], vcpus_used=h["vcpus_used"],
            memory_mb=h["memory_mb"], memory_mb_used=h["memory_mb_used"], local_gb=h["local_gb"],
            local_gb_used=h["local_gb_used"], instances=h["instances"],
            availability_zone=h["availability_zone"], aggregates=h["aggregates"],
            cpu_allocation_ratio=h["cpu_allocation_ratio"], ram_allocation_ratio=h["ram_allocation_ratio"],
            disk_allocation_ratio=h["disk_allocation_ratio"],
            reserved_host_memory_mb=h["reserved_host_memory_mb"], reserved_host_disk_mb=h["reserved_host_disk_mb"],
            reserved_host_cpus=h["reserved_host_cpus"], enabled=h["enabled"], up=h["up"],
            failed_builds=h["failed_builds"]))
    return result


def build_spec(req, min_count=1):
    """The engine's RequestSpec; min_count None leaves the engine's default (an
    engine without min_count places all of a request or raises NoValidHost)."""
    rs = request_spec_mod
    group = None
    if req["group"]:
        g = req["group"]
        group = rs.ServerGroup(g["name"], g["policy"], rules=g.get("rules"), members=g["members"])
    extra = {}
    if min_count is not None and "min_count" in inspect.signature(rs.build_request_spec).parameters:
        extra["min_count"] = min_count      # an engine that still places part of a request
    return rs.build_request_spec(
        rs.Flavor(**req["flavor"]), rs.ImageMeta(req["image"]["name"], req["image"]["properties"]),
        num_instances=req["num_instances"], instance_uuids=req["instance_uuids"],
        availability_zone=req.get("availability_zone"), instance_group=group,
        scheduler_hints={"group": group.name} if group else None, project_id="bench", **extra)


def config(weight_multipliers=None):
    return scheduler_mod.SchedulerConfig(weight_multipliers=weight_multipliers)


def select(hosts, spec, cfg=None):
    return scheduler_mod.select_destinations(hosts, spec, cfg or config())


def prefix_request(req, count):
    """The request of its first count instances (same uuids, same group)."""
    return dict(req, num_instances=count, instance_uuids=list(req["instance_uuids"][:count]))


def choices_before_failure(hosts, req, placed, cfg=None):
    """The hosts the engine chose for the instances it placed before raising
    NoValidHost at instance placed: the same hosts and the request of the
    first placed instances (the later instances' uuids are on no host, so the
    first choices do not depend on them). None if that request fails too (it
    should not)."""
    if not placed:
        return []
    try:
        result = select(hosts, build_spec(prefix_request(req, placed), min_count=None), cfg)
    except scheduler_mod.NoValidHost:
        return None
    return [s.host for s in result.selections]


def outcome(case):
    """The engine's outcome for a scheduler_cases case, in nova_harness's shape:
    {"hosts": [host per placed instance], "novalidhost": bool}; on NoValidHost
    also "failed_at" (the instance no host was found for) when this engine's
    NoValidHost says how many it placed, "hosts" then being the hosts chosen
    for those (choices_before_failure)."""
    cfg = config(case.get("weight_multipliers"))
    spec = build_spec(case["request"], min_count=None)
    try:
        result = select(build_hosts(case["hosts"]), spec, cfg)
    except scheduler_mod.NoValidHost as exc:
        placed = getattr(exc, "placed", None)
        before = None if placed is None else choices_before_failure(build_hosts(case["hosts"]), case["request"],
                                                                    placed, cfg)
        if before is None:
            return {"hosts": [], "novalidhost": True}
        return {"hosts": before, "novalidhost": True, "failed_at": placed}
    return {"hosts": [s.host for s in result.selections], "novalidhost": False}
