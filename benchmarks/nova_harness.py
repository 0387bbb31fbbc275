# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's side of the engine-vs-Nova benchmark; runs in benchmarks/.venv-nova.

    .venv-nova/bin/python nova_harness.py INPUT.json

INPUT.json: {"hosts": [...], "request": {...}, "decisions": N, "repetitions": R,
"engine_choices": [host name per instance]} (hosts and request from
scheduler_inputs.py). Prints one JSON object on stdout.

Nova's own code does the work: HostState objects of nova.scheduler.host_manager
with the input's figures, a nova.objects.RequestSpec, the HostManager's filters
(CONF.filter_scheduler.enabled_filters, Nova's defaults) and weighers
(CONF.filter_scheduler.weight_classes = all weighers), and for every instance
the loop of SchedulerManager._schedule: spec.instance_uuid = uuid,
SchedulerManager._get_sorted_hosts (filter handler, weight handler, pick),
SchedulerManager._consume_selected_host. Timed per decision: _get_sorted_hosts
plus _consume_selected_host, wall clock and CPU time of the thread.

Not timed, and not Nova's in-process loop: placement. Nova asks placement for
the hosts with room for the flavor before the loop and claims each choice in
placement. Here a host without room for one more instance (the arithmetic of
the collection's RamFilter, DiskFilter and CoreFilter, the filters that mean what
placement's capacity check means) is dropped before each decision, so Nova
weighs the same hosts the collection's engine weighs.

The check: at each decision, the host the collection's engine chose must have,
under Nova's weighing, the weight of the host Nova put first (within 1e-9).
When it does, that host is the one consumed (ties may pick different names;
consuming the same host keeps both sides' states identical for the next
decision).
"""

from __future__ import absolute_import, division, print_function

import datetime
import gc
import json
import logging
import sys
import time

TOLERANCE = 1e-9


def setup_nova():
    import nova.conf
    from nova import objects
    objects.register_all()
    conf = nova.conf.CONF
    conf([], project="nova", default_config_files=[])
    # The collection has no IoOpsWeigher: Nova's counts each instance of the
    # request as an I/O operation on its host (-1.0 by default). Off, so both
    # sides weigh with the same meaning; it is still computed (same cost).
    conf.set_override("io_ops_weight_multiplier", 0.0, group="filter_scheduler")
    # A production scheduler logs at INFO (debug = False); Nova's handlers
    # still build their debug dictionaries, which is part of its cost.
    logger = logging.getLogger("nova")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return conf


def make_manager():
    from nova.scheduler import filters, host_manager, manager, weights
    conf = setup_nova()
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


def build_hosts(host_dicts):
    from nova import objects
    from nova.scheduler import host_manager
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import scheduler_inputs  # pylint: disable=import-outside-toplevel
    now = datetime.datetime.utcnow()
    long_ago = now - datetime.timedelta(days=1)
    aggregates = {}
    result = []
    for index, h in enumerate(host_dicts):
        state = host_manager.HostState(h["name"], h["name"], "00000000-0000-0000-0000-000000000001")
        state.uuid = "%08d-0000-4000-8000-000000000000" % index
        for key, value in scheduler_inputs.host_figures(h).items():
            setattr(state, key, value)
        state.hypervisor_type = "QEMU"
        state.hypervisor_version = h["hypervisor_version"]
        state.hypervisor_hostname = h["name"]
        state.cpu_info = {}
        state.supported_instances = supported_instances(h["cpu_arch"], h["virt_type"])
        state.stats = {}
        state.num_instances = len(h["instances"])
        state.num_io_ops = 0
        state.failed_builds = h["failed_builds"]
        state.metrics = None
        state.pci_stats = None
        state.numa_topology = None
        state.cpu_allocation_ratio = h["cpu_allocation_ratio"]
        state.ram_allocation_ratio = h["ram_allocation_ratio"]
        state.disk_allocation_ratio = h["disk_allocation_ratio"]
        state.limits = {}
        state.updated = now
        state.service = host_manager.ReadOnlyDict({
            "id": index, "host": h["name"], "binary": "nova-compute", "topic": "compute",
            "disabled": not h["enabled"], "disabled_reason": None if h["enabled"] else "bench",
            "forced_down": False, "last_seen_up": now if h["up"] else long_ago,
            "created_at": long_ago, "updated_at": now})
        state.aggregates = []
        for agg in h["aggregates"]:
            if agg["name"] not in aggregates:
                aggregates[agg["name"]] = objects.Aggregate(id=len(aggregates) + 1, name=agg["name"],
                                                            hosts=[], metadata=dict(agg["metadata"]))
            aggregates[agg["name"]].hosts.append(h["name"])
            state.aggregates.append(aggregates[agg["name"]])
        state.instances = dict((i["uuid"], objects.Instance(uuid=i["uuid"])) for i in h["instances"])
        result.append(state)
    return result


def build_spec(req):
    from nova import objects
    flavor = req["flavor"]
    group = None
    if req["group"]:
        # Nova's API adds the request's instances to the group before scheduling
        # (compute.api._provision_instances; the conductor passes the members on).
        group = objects.InstanceGroup(name=req["group"]["name"], policy=req["group"]["policy"],
                                      policies=[req["group"]["policy"]], rules={},
                                      members=list(req["group"]["members"]) + list(req["instance_uuids"]),
                                      hosts=[],
                                      uuid="11111111-0000-4000-8000-000000000000")
    return objects.RequestSpec(
        flavor=objects.Flavor(name=flavor["name"], vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
                              root_gb=flavor["disk"], ephemeral_gb=flavor["ephemeral"], swap=flavor["swap"],
                              extra_specs={}),
        image=objects.ImageMeta.from_dict({"name": req["image"]["name"], "properties": req["image"]["properties"]}),
        num_instances=req["num_instances"], instance_group=group, ignore_hosts=None, force_hosts=None,
        force_nodes=None, requested_destination=None, scheduler_hints={}, project_id="bench", user_id="bench",
        pci_requests=None, numa_topology=None, is_bfv=False, requested_resources=[],
        instance_uuid=req["instance_uuids"][0])


def has_room(state, spec):
    """Placement's capacity check, in the collection's RamFilter/DiskFilter/CoreFilter arithmetic."""
    ram = spec.memory_mb
    total = state.total_usable_ram_mb
    if total < ram or total * state.ram_allocation_ratio - (total - state.free_ram_mb) < ram:
        return False
    disk = 1024 * (spec.root_gb + spec.ephemeral_gb) + spec.flavor.swap
    total = state.total_usable_disk_gb * 1024
    if total < disk or total * state.disk_allocation_ratio - (total - state.free_disk_mb) < disk:
        return False
    if state.vcpus_total:
        if spec.vcpus > state.vcpus_total:
            return False
        if state.vcpus_total * state.cpu_allocation_ratio - state.vcpus_used < spec.vcpus:
            return False
    return True


def run_once(data, mgr_cls, mgr, hm, check):
    """One pass over the first `decisions` instances; per-decision seconds and the check."""
    hosts = build_hosts(data["hosts"])
    spec = build_spec(data["request"])
    gc.collect()    # the timed loop starts without garbage left by building
    uuids = data["request"]["instance_uuids"][:data["decisions"]]
    engine_choices = data.get("engine_choices") or []
    weighed_seen = []
    original = type(hm).get_weighed_hosts

    def get_weighed_hosts(host_list, spec_obj):
        weighed = original(hm, host_list, spec_obj)
        weighed_seen.append(weighed)
        return weighed
    hm.get_weighed_hosts = get_weighed_hosts
    seconds = []        # [wall, cpu] per decision
    placement_seconds = 0.0
    nova_choices = []
    mismatches = []
    for num, uuid in enumerate(uuids):
        spec.instance_uuid = uuid
        spec.obj_reset_changes(["instance_uuid"])
        start = time.perf_counter()
        hosts = [h for h in hosts if has_room(h, spec)]
        placement_seconds += time.perf_counter() - start
        del weighed_seen[:]
        start, start_cpu = time.perf_counter(), time.thread_time()
        hosts = mgr_cls._get_sorted_hosts(mgr, spec, hosts, num)
        if not hosts:
            seconds.append([time.perf_counter() - start, time.thread_time() - start_cpu])
            break
        chosen = hosts[0]
        elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
        take = chosen
        if check:
            weighed = weighed_seen[-1] if weighed_seen else []
            weights = dict((w.obj.host, w.weight) for w in weighed)
            best = weights.get(chosen.host, 0.0)
            ours = engine_choices[num] if num < len(engine_choices) else None
            if ours is None:
                mismatches.append({"decision": num, "nova": chosen.host, "engine": None})
            elif ours != chosen.host:
                if ours in weights and abs(weights[ours] - best) <= TOLERANCE:
                    take = [h for h in hosts if h.host == ours][0]
                else:
                    mismatches.append({"decision": num, "nova": chosen.host, "nova_weight": best,
                                       "engine": ours, "engine_weight": weights.get(ours)})
            nova_choices.append([chosen.host, best])
        start, start_cpu = time.perf_counter(), time.thread_time()
        mgr_cls._consume_selected_host(take, spec, instance_uuid=uuid)
        seconds.append([elapsed + time.perf_counter() - start, elapsed_cpu + time.thread_time() - start_cpu])
    hm.get_weighed_hosts = original.__get__(hm)
    return seconds, placement_seconds, nova_choices, mismatches


def main():
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    conf, mgr_cls, mgr, hm = make_manager()
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    # Warm up (first-call costs: lazy imports, caches), not recorded.
    run_once(dict(data, decisions=1), mgr_cls, mgr, hm, False)
    runs = []
    check = None
    for repetition in range(max(1, data.get("repetitions", 1))):
        seconds, placement, choices, mismatches = run_once(data, mgr_cls, mgr, hm, repetition == 0)
        if repetition == 0:
            check = {"choices": choices, "mismatches": mismatches, "placement_emulation_s": placement}
        runs.append(seconds)
    print(json.dumps({
        "nova_version": metadata.version("nova"),
        "python": sys.version.split()[0],
        "enabled_filters": list(conf.filter_scheduler.enabled_filters),
        "weighers": [w.__class__.__name__ for w in hm.weighers],
        "runs": runs,
        "check": check,
    }))


if __name__ == "__main__":
    main()
