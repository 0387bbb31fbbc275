# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's side of the engine-vs-Nova benchmark and check; runs in benchmarks/.venv-nova.

    .venv-nova/bin/python nova_harness.py INPUT.json           # the benchmark (timed)
    .venv-nova/bin/python nova_harness.py --cases CASES.json   # the differential check

INPUT.json: {"hosts": [...], "request": {...}, "decisions": N, "repetitions": R,
"engine_choices": [host name per instance]} (scheduler_inputs.py). CASES.json:
{"cases": [case, with "engine": {"hosts": [...], "novalidhost": bool}], ...}
(scheduler_cases.py). Prints one JSON object on stdout.

Nothing of the collection's engine is imported or copied here. Nova's side is
Nova's own code plus placement, emulated from placement's rules
(placement_emulation.py):

- The hosts. From each host's raw inputs (totals, reserved amounts, ratios, its
  instances and their flavors): a nova.objects.ComputeNode made the way Nova's
  resource tracker makes it (ResourceTracker._update_usage_from_instances'
  starting values, local_gb_used = reserved_host_disk_mb / 1024, memory_mb_used =
  reserved_host_memory_mb, vcpus_used = reserved_host_cpus, then Nova's own
  ResourceTracker._update_usage for each live instance, so the ComputeNode's
  integer fields truncate as Nova's do), then a nova HostState updated from it
  (HostState.update: _update_from_compute_node, service, aggregates,
  instances). A placement resource provider per host: the libvirt driver's
  inventory, one allocation per existing instance (Nova's
  resources_from_flavor_and_bfv of its flavor), its aggregates, and the
  COMPUTE_STATUS_DISABLED trait when its service is disabled (Nova's
  compute_status_filter request filter forbids it).
- The request: a nova.objects.RequestSpec; the server group as the conductor
  passes it (members: the existing members and the request's instances; hosts:
  the hosts of the existing members); the amounts asked of placement from
  Nova's resources_from_flavor_and_bfv (swap rounded up to whole GB).
- The loop of SchedulerManager._schedule: allocation candidates once per
  request (the providers where one instance fits; member_of the aggregates
  carrying the requested availability zone, as Nova's
  map_az_to_placement_aggregate request filter asks; disabled hosts
  forbidden), then for every instance: spec.instance_uuid, Nova's
  _get_sorted_hosts over the previous sorted list (HostManager filters and
  weighers), the claim of the first host of that order with room in placement
  given every allocation so far (earlier instances of the request included; a
  host filled during the request stays in the list, filtered and weighed, and
  is only passed over by the claim), then _consume_selected_host (which takes
  root + ephemeral from free_disk_mb, not swap). An instance with no host to
  claim fails the whole request (NoValidHost, as _ensure_sufficient_hosts):
  min_count does not let Nova place part of a request.
- Filters: Nova's default enabled_filters (ComputeFilter,
  ComputeCapabilitiesFilter, ImagePropertiesFilter, the two server-group
  filters; no RamFilter, DiskFilter or CoreFilter, placement does that work); the
  check adds AggregateInstanceExtraSpecsFilter, which the engine enables by
  default, so flavors' aggregate_instance_extra_specs: keys mean the same on both
  sides. Weighers: all of nova.scheduler.weights.all_weighers, the [filter_scheduler]
  multipliers of each case, io_ops_weight_multiplier 0 (the collection has no
  IoOpsWeigher).

Simplifications, documented: disk_available_least is not reported (the scheduler
then uses free_disk_gb); no NUMA, PCI, metrics or migrations; placement's
max_placement_results (1000) is not applied (the benchmark's 10,000 hosts are all
candidates); an instance's usage dict is its flavor (no overhead, not
boot-from-volume); every host has the same hypervisor version.

The comparison, at each instance: the host the engine chose must be the one Nova
claimed, or a tie: a host of Nova's sorted list that placement could claim too,
whose weight under Nova's weighing equals the claimed host's within 1e-9 (Nova
keeps input order among equal weights, the engine takes the lower name; the
engine's host is then the one claimed and consumed, so both sides go on from the
same state). The whole outcome must agree: both place every instance, or both
raise NoValidHost at the same instance (an engine that places part of a request
where Nova raises NoValidHost disagrees). When the engine raised NoValidHost
its outcome carries failed_at and the hosts it chose before
(scheduler_engine_side.choices_before_failure), compared one by one as above. Known deliberate differences of the engine that the
generated cases leave out (scheduler_cases.py): an availability zone that no
aggregate carries (Nova: no restriction; the engine: only hosts in no zone),
image properties compared by position, a numeric extra-spec operator against a
text aggregate value, the IoOpsWeigher.

The benchmark times, per decision, Nova's in-process code only:
_get_sorted_hosts plus _consume_selected_host (wall and thread CPU time); the
emulated placement (candidates, claims) is measured apart, untimed in the ratio.
"""

from __future__ import absolute_import, division, print_function

import copy
import datetime
import gc
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import placement_emulation  # noqa: E402  pylint: disable=wrong-import-position

TOLERANCE = 1e-9
DISABLED_TRAIT = "COMPUTE_STATUS_DISABLED"
CHECK_FILTERS = ["AggregateInstanceExtraSpecsFilter"]
MULTIPLIER_OPTIONS = ("ram_weight_multiplier", "cpu_weight_multiplier", "disk_weight_multiplier",
                      "num_instances_weight_multiplier", "soft_affinity_weight_multiplier",
                      "soft_anti_affinity_weight_multiplier", "build_failure_weight_multiplier")


def setup_nova(extra_filters=()):
    import nova.conf
    from nova import objects
    objects.register_all()
    conf = nova.conf.CONF
    conf([], project="nova", default_config_files=[])
    # The collection has no IoOpsWeigher: Nova's counts each instance of the
    # request as an I/O operation on its host (-1.0 by default). Off, so both
    # sides weigh with the same meaning; it is still computed (same cost).
    conf.set_override("io_ops_weight_multiplier", 0.0, group="filter_scheduler")
    if extra_filters:
        conf.set_override("enabled_filters", list(conf.filter_scheduler.enabled_filters) + list(extra_filters),
                          group="filter_scheduler")
    # A production scheduler logs at INFO (debug = False); Nova's handlers
    # still build their debug dictionaries, which is part of its cost.
    logger = logging.getLogger("nova")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return conf


def make_manager(extra_filters=()):
    from nova.scheduler import filters, host_manager, manager, weights
    conf = setup_nova(extra_filters)
    hm = object.__new__(host_manager.HostManager)
    hm.filter_handler = filters.HostFilterHandler()
    filter_classes = hm.filter_handler.get_matching_classes(conf.filter_scheduler.available_filters)
    hm.filter_cls_map = {cls.__name__: cls for cls in filter_classes}
    hm.filter_obj_map = {}
    hm.enabled_filters = hm._choose_host_filters(hm._load_filters())
    hm.weight_handler = weights.HostWeightHandler()
    weigher_classes = hm.weight_handler.get_matching_classes(conf.filter_scheduler.weight_classes)
    hm.weighers = [cls() for cls in weigher_classes]
    mgr = object.__new__(manager.SchedulerManager)
    mgr.host_manager = hm
    return conf, manager.SchedulerManager, mgr, hm


def supported_instances(cpu_arch, virt_type):
    arches = [cpu_arch] + (["i686"] if cpu_arch == "x86_64" else [])
    hv_types = ["qemu"] + (["kvm"] if virt_type == "kvm" else [])
    return [[arch, hv, "hvm"] for arch in arches for hv in hv_types]


def nova_flavor(flavor):
    from nova import objects
    return objects.Flavor(name=flavor.get("name", "flavor"), vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
                          root_gb=flavor["disk"], ephemeral_gb=flavor.get("ephemeral", 0),
                          swap=flavor.get("swap", 0), extra_specs=dict(flavor.get("extra_specs") or {}))


def flavor_resources(flavor):
    """What Nova asks placement for this flavor (nova.scheduler.utils)."""
    from nova.scheduler import utils
    return utils.resources_from_flavor_and_bfv(nova_flavor(flavor), False)


class _TrackerStats:
    """The part of ResourceTracker.stats[nodename] that _update_usage reads."""

    def __init__(self):
        self.num_instances = 0


class _Tracker:
    """What ResourceTracker._update_usage reads of its tracker: the node, its stats."""

    def __init__(self, nodename, compute_node):
        self.compute_nodes = {nodename: compute_node}
        self.stats = {nodename: _TrackerStats()}


def compute_node(h, index, now):
    """The ComputeNode Nova's resource tracker would report for host dict h."""
    from nova import objects
    from nova.compute import resource_tracker
    cn = objects.ComputeNode(
        uuid="%08d-0000-4000-8000-000000000000" % index, host=h["name"], hypervisor_hostname=h["name"],
        vcpus=h["vcpus"], memory_mb=h["memory_mb"], local_gb=h["local_gb"],
        hypervisor_type="QEMU", hypervisor_version=h["hypervisor_version"], cpu_info="{}",
        host_ip="192.0.2.1", disk_available_least=None, numa_topology=None,
        pci_device_pools=objects.PciDevicePoolList(), metrics="[]",
        supported_hv_specs=[objects.HVSpec.from_list(s) for s in supported_instances(h["cpu_arch"],
                                                                                     h["virt_type"])],
        cpu_allocation_ratio=h["cpu_allocation_ratio"], ram_allocation_ratio=h["ram_allocation_ratio"],
        disk_allocation_ratio=h["disk_allocation_ratio"], updated_at=now, current_workload=0, running_vms=0)
    # ResourceTracker._update_usage_from_instances: the starting values.
    cn.local_gb_used = h["reserved_host_disk_mb"] / 1024
    cn.memory_mb_used = h["reserved_host_memory_mb"]
    cn.vcpus_used = h["reserved_host_cpus"]
    cn.free_ram_mb = cn.memory_mb - cn.memory_mb_used
    cn.free_disk_gb = cn.local_gb - cn.local_gb_used
    tracker = _Tracker(h["name"], cn)
    live = [i for i in h["instances"] if i.get("vm_state") != "deleted"]
    for instance in live:
        tracker.stats[h["name"]].num_instances += 1
        flavor = instance["flavor"]
        usage = {"memory_mb": flavor["ram"], "swap": flavor.get("swap", 0), "vcpus": flavor["vcpus"],
                 "root_gb": flavor["disk"], "ephemeral_gb": flavor.get("ephemeral", 0), "numa_topology": None}
        resource_tracker.ResourceTracker._update_usage(tracker, usage, h["name"])
    cn.stats = {"num_instances": str(len(live)), "failed_builds": str(h["failed_builds"]), "io_workload": "0"}
    return cn


def build_hosts(host_dicts):
    """Nova's HostStates and the placement emulation's providers of the hosts."""
    from nova import objects
    from nova.scheduler import host_manager
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    long_ago = now - datetime.timedelta(days=1)
    aggregates = {}
    resources_cache = {}
    states = []
    placement = placement_emulation.Placement()
    for index, h in enumerate(host_dicts):
        cn = compute_node(h, index, now)
        host_aggregates = []
        for agg in h["aggregates"]:
            if agg["name"] not in aggregates:
                aggregates[agg["name"]] = objects.Aggregate(
                    id=len(aggregates) + 1, name=agg["name"], hosts=[], metadata=dict(agg["metadata"]),
                    uuid="%08d-0000-4000-a000-000000000000" % (len(aggregates) + 1))
            aggregates[agg["name"]].hosts.append(h["name"])
            host_aggregates.append(aggregates[agg["name"]])
        service = {
            "id": index, "host": h["name"], "binary": "nova-compute", "topic": "compute",
            "disabled": not h["enabled"], "disabled_reason": None if h["enabled"] else "check",
            "forced_down": False, "last_seen_up": now if h["up"] else long_ago,
            "created_at": long_ago, "updated_at": now}
        instances = dict((i["uuid"], objects.Instance(uuid=i["uuid"])) for i in h["instances"]
                         if i.get("vm_state") != "deleted")
        state = host_manager.HostState(h["name"], h["name"], "00000000-0000-0000-0000-000000000001")
        state.update(compute=cn, service=service, aggregates=host_aggregates, inst_dict=instances)
        states.append(state)
        provider = placement.add_provider(placement_emulation.ResourceProvider(
            h["name"], placement_emulation.host_inventories(h), [a.uuid for a in host_aggregates],
            [] if h["enabled"] else [DISABLED_TRAIT]))
        for instance in h["instances"]:
            if instance.get("vm_state") == "deleted":
                continue
            key = json.dumps(instance["flavor"], sort_keys=True)
            if key not in resources_cache:
                resources_cache[key] = flavor_resources(instance["flavor"])
            provider.add_allocation(instance["uuid"], resources_cache[key])
    return states, placement, aggregates


def build_spec(req, host_dicts):
    from nova import objects
    group = None
    if req.get("group"):
        g = req["group"]
        existing = set(g["members"])
        # The conductor (scheduler_utils.setup_instance_group): the group's
        # members, with the request's instances the API added, and the hosts of
        # the members already placed.
        group_hosts = sorted(set(h["name"] for h in host_dicts for i in h["instances"]
                                 if i["uuid"] in existing and i.get("vm_state") != "deleted"))
        group = objects.InstanceGroup(name=g["name"], policy=g["policy"], policies=[g["policy"]],
                                      rules=dict(g.get("rules") or {}),
                                      members=list(g["members"]) + list(req["instance_uuids"]),
                                      hosts=group_hosts, uuid="11111111-0000-4000-8000-000000000000")
    return objects.RequestSpec(
        flavor=nova_flavor(req["flavor"]),
        image=objects.ImageMeta.from_dict({"name": req["image"]["name"], "properties": req["image"]["properties"]}),
        num_instances=req["num_instances"], instance_group=group, ignore_hosts=None, force_hosts=None,
        force_nodes=None, requested_destination=None, scheduler_hints={}, project_id="bench", user_id="bench",
        pci_requests=None, numa_topology=None, is_bfv=False, requested_resources=[],
        availability_zone=req.get("availability_zone"), instance_uuid=req["instance_uuids"][0])


def member_of(req, aggregates):
    """map_az_to_placement_aggregate: the aggregates carrying the requested zone
    (None: no zone asked, or no aggregate carries it, then no restriction)."""
    zone = req.get("availability_zone")
    if not zone:
        return None
    uuids = [a.uuid for a in aggregates.values() if a.metadata.get("availability_zone") == zone]
    return set(uuids) or None


def conf_max_attempts():
    import nova.conf
    return nova.conf.CONF.scheduler.max_attempts


def set_multipliers(conf, multipliers):
    for option in MULTIPLIER_OPTIONS:
        conf.clear_override(option, group="filter_scheduler")
    for option, value in (multipliers or {}).items():
        conf.set_override(option, float(value), group="filter_scheduler")


def allocation_requests(states, candidates, resources):
    """{provider uuid: [allocation request]} as Nova's scheduler gets them from
    GET /allocation_candidates (one per provider: one provider per host, no
    nested or sharing providers): the alloc_reqs_by_rp_uuid of
    SchedulerManager._schedule."""
    return dict((h.uuid, [{"allocations": {h.uuid: {"resources": dict(resources)}}, "mappings": {"": [h.uuid]}}])
                for h in states if h.host in candidates)


def hosts_with_alloc_reqs(hosts, alloc_reqs_by_rp_uuid):
    """SchedulerManager._schedule's generator: each HostState gets a deep copy of
    its allocation requests as the first filtering reads it."""
    for host in hosts:
        host.allocation_candidates = copy.deepcopy(alloc_reqs_by_rp_uuid[host.uuid])
        yield host


def schedule(data, mgr_cls, mgr, hm, decisions=None, engine=None, timed=False):
    """Nova's _schedule over data's hosts and request, placement emulated.

    engine: the engine's outcome {"hosts": [...], "novalidhost": bool} to check
    against, or None. decisions: stop after that many instances (the benchmark).
    Returns a dict: nova_hosts ([host, weight] per claimed instance), failed_at
    (the instance no host could be claimed for, or None), disagreement (None or
    a dict), seconds ([wall, cpu] per decision, if timed), placement_s."""
    host_dicts = data["hosts"]
    req = data["request"]
    hosts, placement, aggregates = build_hosts(host_dicts)
    spec = build_spec(req, host_dicts)
    resources = flavor_resources(req["flavor"])
    uuids = req["instance_uuids"]
    if decisions is not None:
        uuids = uuids[:decisions]
    engine_hosts = None
    engine_failed = engine is not None and engine.get("novalidhost")
    if engine is not None and (not engine_failed or engine.get("failed_at") is not None):
        engine_hosts = list(engine["hosts"])    # on NoValidHost: the hosts before its failed_at
    weighed_seen = []
    original = type(hm).get_weighed_hosts

    def get_weighed_hosts(host_list, spec_obj):
        weighed = original(hm, host_list, spec_obj)
        weighed_seen.append(weighed)
        return weighed
    hm.get_weighed_hosts = get_weighed_hosts
    if timed:
        gc.collect()    # the timed loop starts without garbage left by building
    start = time.perf_counter()
    candidates = set(placement.allocation_candidates(resources, member_of(req, aggregates), [DISABLED_TRAIT]))
    alloc_reqs_by_rp_uuid = allocation_requests(hosts, candidates, resources)
    placement_s = time.perf_counter() - start
    hosts = hosts_with_alloc_reqs([h for h in hosts if h.host in candidates], alloc_reqs_by_rp_uuid)
    seconds = []
    claimed_hosts, claimed_alloc_reqs = [], []
    nova_hosts = []
    failed_at = None
    disagreement = None
    try:
        for num, uuid in enumerate(uuids):
            spec.instance_uuid = uuid
            spec.obj_reset_changes(["instance_uuid"])
            del weighed_seen[:]
            start, start_cpu = time.perf_counter(), time.thread_time()
            hosts = mgr_cls._get_sorted_hosts(mgr, spec, hosts, num)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
            start = time.perf_counter()
            claimable = None
            for host in hosts:
                if host.allocation_candidates and placement.providers[host.host].fits(resources):
                    claimable = host
                    break
            placement_s += time.perf_counter() - start
            if claimable is None:
                failed_at = num
                seconds.append([elapsed, elapsed_cpu])
                break
            weights = dict((w.obj.host, w.weight) for w in (weighed_seen[-1] if weighed_seen else []))
            take = claimable
            best = weights.get(claimable.host, 0.0)
            if engine_hosts is not None:
                ours = engine_hosts[num] if num < len(engine_hosts) else None
                if ours != claimable.host:
                    mine = [h for h in hosts if h.host == ours]
                    ours_fits = bool(mine) and placement.providers[ours].fits(resources)
                    if mine and ours_fits and abs(weights.get(ours, 0.0) - best) <= TOLERANCE:
                        take = mine[0]
                    else:
                        disagreement = {
                            "instance": num, "nova": claimable.host, "nova_weight": best,
                            "engine": ours, "engine_weight": weights.get(ours),
                            "engine_host_in_nova_list": bool(mine),
                            "engine_host_claimable": bool(ours_fits) if ours else None,
                            "unclaimable_above": [h.host for h in hosts[:hosts.index(claimable)]],
                        }
                        break
            start = time.perf_counter()
            placement.claim(take.host, uuid, resources)
            placement_s += time.perf_counter() - start
            start, start_cpu = time.perf_counter(), time.thread_time()
            mgr_cls._consume_selected_host(take, spec, instance_uuid=uuid)
            seconds.append([elapsed + time.perf_counter() - start, elapsed_cpu + time.thread_time() - start_cpu])
            nova_hosts.append([take.host, weights.get(take.host, 0.0)])
            claimed_hosts.append(take)
            claimed_alloc_reqs.append(take.allocation_candidates[0])
        if failed_at is None and disagreement is None and len(uuids) == len(req["instance_uuids"]) and seconds:
            # Every instance placed: the Selections with their alternates
            # (max_attempts - 1 each), which _schedule returns; its cost (an
            # extra filter and weigh pass for a multi-instance request) is
            # the request's, counted in its last decision. Not run when the
            # benchmark stops before the request's end.
            start, start_cpu = time.perf_counter(), time.thread_time()
            mgr_cls._get_alternate_hosts(mgr, claimed_hosts, spec, hosts, len(uuids) - 1,
                                         conf_max_attempts() - 1, alloc_reqs_by_rp_uuid, "1.36", claimed_alloc_reqs)
            seconds[-1][0] += time.perf_counter() - start
            seconds[-1][1] += time.thread_time() - start_cpu
    finally:
        hm.get_weighed_hosts = original.__get__(hm)
    if engine is not None and disagreement is None:
        placed = len(engine["hosts"])
        if failed_at is not None and (not engine_failed or (engine_hosts is not None and failed_at < placed)):
            disagreement = {"instance": failed_at, "nova": "NoValidHost",
                            "engine": engine["hosts"][failed_at] if placed > failed_at else
                            "placed %d of %d, no NoValidHost" % (placed, len(uuids)),
                            "unclaimable_above": [h.host for h in hosts]}
        elif failed_at is None and engine_failed and engine_hosts is None and len(uuids) == len(req["instance_uuids"]):
            disagreement = {"instance": None, "nova": "placed all %d" % len(uuids), "engine": "NoValidHost",
                            "nova_hosts": [h for h, _w in nova_hosts]}
    return {"nova_hosts": nova_hosts, "failed_at": failed_at, "disagreement": disagreement,
            "seconds": seconds, "placement_s": placement_s}


def benchmark(data):
    conf, mgr_cls, mgr, hm = make_manager(data.get("extra_filters") or ())
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    # Warm up (first-call costs: lazy imports, caches), not recorded.
    schedule(data, mgr_cls, mgr, hm, decisions=1)
    runs = []
    check = None
    for repetition in range(max(1, data.get("repetitions", 1))):
        first = repetition == 0
        failed = data.get("engine_failed_at")
        engine = {"hosts": data.get("engine_choices") or [], "novalidhost": failed is not None,
                  "failed_at": failed} if first else None
        result = schedule(data, mgr_cls, mgr, hm, decisions=data["decisions"], engine=engine, timed=True)
        if first:
            mismatches = []
            if result["disagreement"] is not None and result["disagreement"]["instance"] is not None \
                    and result["disagreement"]["instance"] < data["decisions"]:
                mismatches.append(dict(result["disagreement"], decision=result["disagreement"]["instance"]))
            check = {"choices": result["nova_hosts"], "mismatches": mismatches, "failed_at": result["failed_at"],
                     "placement_emulation_s": result["placement_s"]}
        runs.append(result["seconds"])
    return {
        "nova_version": metadata.version("nova"),
        "python": sys.version.split()[0],
        "enabled_filters": list(conf.filter_scheduler.enabled_filters),
        "weighers": [w.__class__.__name__ for w in hm.weighers],
        "runs": runs,
        "check": check,
    }


def check_cases(data):
    """Every case against its engine outcome: one result per case."""
    conf, mgr_cls, mgr, hm = make_manager(CHECK_FILTERS)
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    results = []
    for case in data["cases"]:
        set_multipliers(conf, case.get("weight_multipliers"))
        try:
            result = schedule(case, mgr_cls, mgr, hm, engine=case.get("engine"))
        except Exception as exc:  # pylint: disable=broad-except
            result = {"error": "%s: %s" % (type(exc).__name__, exc), "disagreement": None,
                      "nova_hosts": [], "failed_at": None}
        results.append({"seed": case.get("seed"), "nova_hosts": [h for h, _w in result["nova_hosts"]],
                        "nova_weights": [w for _h, w in result["nova_hosts"]],
                        "failed_at": result["failed_at"], "disagreement": result["disagreement"],
                        "error": result.get("error")})
    set_multipliers(conf, None)
    return {"nova_version": metadata.version("nova"), "python": sys.version.split()[0],
            "enabled_filters": list(conf.filter_scheduler.enabled_filters),
            "weighers": [w.__class__.__name__ for w in hm.weighers], "results": results}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--cases":
        with open(argv[1]) as handle:
            out = check_cases(json.load(handle))
    else:
        with open(argv[0]) as handle:
            out = benchmark(json.load(handle))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
