# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""select_destinations (incremental) against the straightforward loop it replaced
(reference_scheduler.py), on many seeded random requests: the selections, their
alternates and weights, the filter report, the weighed top and NoValidHost must
be identical."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as filters
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import partition_each
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import (
    NoValidHost, select_destinations)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils import reference_scheduler

OPTIONS = ["ram_weight_multiplier", "cpu_weight_multiplier", "disk_weight_multiplier",
           "num_instances_weight_multiplier", "soft_affinity_weight_multiplier",
           "soft_anti_affinity_weight_multiplier", "build_failure_weight_multiplier"]
POLICIES = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]


def random_aggregates(rng):
    pool = [
        {"name": "az-x", "metadata": {"availability_zone": "az-x"}},
        {"name": "ssd", "metadata": {"ssd": "true", "tier": "gold"}},
        {"name": "tier", "metadata": {"tier": "silver"}},
    ]
    for option in OPTIONS:
        value = rng.choice(["2.0", "0", "-1.5", "0.5", "junk", "3"])
        pool.append({"name": "agg-" + option, "metadata": {option: value}})
    return rng.sample(pool, rng.randint(0, 3))


def random_host(rng, name, group_names, uuid_pool):
    instances = []
    for k in range(rng.randint(0, 3)):
        uuid = rng.choice(uuid_pool) if rng.random() < 0.15 else "%s-i%d" % (name, k)
        instances.append({"uuid": uuid, "name": "vm-%s-%d" % (name, k), "vm_state": rng.choice(["active"] * 5 + ["deleted"]),
                          "server_group": rng.choice(group_names + [None, None]), "project_id": "p",
                          "flavor": {"name": "f", "vcpus": 1, "ram": 256, "disk": 1}})
    memory = rng.choice([1024, 2048, 3072, 4608, 8192])
    return HostState(
        name, hypervisor_version=rng.choice([8002000, 6000000]), virt_type=rng.choice(["kvm", "qemu"]),
        cpu_arch=rng.choice(["x86_64"] * 6 + ["aarch64"]), vcpus=rng.choice([0, 1, 2, 4, 8]),
        vcpus_used=rng.randint(0, 6), memory_mb=memory, memory_mb_used=rng.choice([0, 0, 256, 512, 1024, 1500]),
        local_gb=rng.choice([5, 10, 20, 40]), local_gb_used=rng.randint(0, 8), instances=instances,
        availability_zone=rng.choice(["nova", "az1", "az2"]), aggregates=random_aggregates(rng),
        cpu_allocation_ratio=rng.choice([1.0, 2.0, 4.0, 0.9]), ram_allocation_ratio=rng.choice([1.0, 1.0, 1.5, 0.9]),
        disk_allocation_ratio=rng.choice([1.0, 2.0, 0.7]), reserved_host_memory_mb=rng.choice([0, 256, 512]),
        reserved_host_disk_mb=rng.choice([0, 0, 100, 1024, 3000]), reserved_host_cpus=rng.choice([0, 0, 1]),
        enabled=rng.random() > 0.08, up=rng.random() > 0.08, failed_builds=rng.choice([0, 0, 0, 1, 3]))


def random_case(seed):
    rng = random.Random(seed)
    group_names = ["g1", "g2"]
    num = rng.choice([1, 1, 2, 3, 3, 5, 8, 12, 20])
    uuids = ["req-%d" % i for i in range(num)]
    uuid_pool = uuids + ["ext-1", "ext-2"]
    hosts = [random_host(rng, "h%02d" % i, group_names, uuid_pool) for i in rng.sample(range(40), rng.randint(0, 24))]
    enabled = list(filters.DEFAULT_FILTERS)
    if rng.random() < 0.5:
        enabled = rng.sample(enabled, rng.randint(0, len(enabled)))
    multipliers = {}
    for option in OPTIONS:
        if rng.random() < 0.4:
            multipliers[option] = rng.choice([0, 1, -1, 2.5, -0.5, 1000, 1e6])
    config = SchedulerConfig(enabled_filters=enabled, weight_multipliers=multipliers,
                             max_attempts=rng.randint(1, 4), host_subset_size=rng.choice([1, 1, 2, 3]))
    group = None
    if rng.random() < 0.6:
        policy = rng.choice(POLICIES)
        rules = {"max_server_per_host": rng.randint(1, 3)} if policy == "anti-affinity" and rng.random() < 0.5 else None
        members = rng.sample(uuid_pool + ["h01-i0", "h02-i1"], rng.randint(0, 3))
        hosts_hint = rng.sample(["h01", "h05", "h09"], rng.randint(0, 1))
        group = ServerGroup(rng.choice(group_names), policy, rules, members=members, hosts=hosts_hint)
    hints = {}
    if rng.random() < 0.15:
        hints["same_host"] = rng.sample(["h03-i0", "vm-h04-1", "ext-1"], rng.randint(1, 2))
    if rng.random() < 0.15:
        hints["different_host"] = rng.sample(["h03-i0", "vm-h05-0", "ext-2"], rng.randint(1, 2))
    if group is not None and rng.random() < 0.5:
        hints["group"] = group.name
    extra_specs = {}
    if rng.random() < 0.15:
        extra_specs = rng.choice([{"ssd": "true"}, {"aggregate_instance_extra_specs:tier": "<or> gold <or> silver"},
                                  {"hw:cpu_policy": "dedicated"}])
    properties = rng.choice([{}, {}, {"hw_architecture": "x86_64"}, {"img_hv_type": "kvm"},
                             {"hw_architecture": "x86_64", "img_hv_requested_version": ">= 7.0"}])
    flavor = Flavor("f", rng.randint(1, 3), rng.choice([256, 512, 1024, 1536]), rng.choice([0, 1, 2, 5]),
                    rng.choice([0, 0, 1]), rng.choice([0, 0, 512]), extra_specs)
    spec = build_request_spec(
        flavor, ImageMeta("img", properties), num_instances=num,
        availability_zone=rng.choice([None, None, None, "az1", "az-x"]), scheduler_hints=hints,
        instance_group=group, instance_uuids=uuids if rng.random() < 0.7 else None,
        ignore_hosts=rng.sample(["h01", "h02", "h07"], rng.randint(0, 2)) if rng.random() < 0.2 else None)
    return hosts, spec, config


def outcome(function, hosts, spec, config, seed):
    try:
        result = function(hosts, spec, config, rng=random.Random(seed))
    except NoValidHost as exc:
        return ("NoValidHost", str(exc), exc.report, exc.placed)
    return ([(s.host, s.alternates, s.weight, s.instance_uuid) for s in result.selections],
            result.filter_report, result.weighed)


@pytest.mark.parametrize("chunk", range(10))
def test_same_as_the_reference_loop(chunk):
    for seed in range(chunk * 100, chunk * 100 + 100):
        hosts, spec, config = random_case(seed)
        expected = outcome(reference_scheduler.select_destinations, hosts, spec, config, seed)
        got = outcome(select_destinations, hosts, spec, config, seed)
        assert got == expected, "seed %d" % seed


def test_same_as_the_reference_loop_on_many_hosts():
    """Larger pools, where the incremental paths (index, rescaling) do the work."""
    for seed in range(20):
        rng = random.Random(1000 + seed)
        hosts = [random_host(rng, "n%03d" % i, ["g1"], ["req-0"]) for i in range(rng.choice([60, 150]))]
        multipliers = rng.choice([{}, {"ram_weight_multiplier": -1.0}, {"cpu_weight_multiplier": 0},
                                  {"num_instances_weight_multiplier": -2.0},
                                  {"ram_weight_multiplier": -1.0, "cpu_weight_multiplier": -1.0}])
        config = SchedulerConfig(weight_multipliers=multipliers, max_attempts=rng.randint(1, 4),
                                 host_subset_size=rng.choice([1, 2]))
        group = ServerGroup("g1", rng.choice(POLICIES)) if rng.random() < 0.5 else None
        spec = build_request_spec(Flavor("f", 1, rng.choice([128, 256, 1024]), 1, swap=rng.choice([0, 512])),
                                  ImageMeta("img"),
                                  num_instances=rng.choice([30, 80]), instance_group=group)
        expected = outcome(reference_scheduler.select_destinations, hosts, spec, config, seed)
        got = outcome(select_destinations, hosts, spec, config, seed)
        assert got == expected, "seed %d" % seed


def test_partition_and_weigh_objects_agree_with_the_per_host_methods():
    """What the scheduler runs over many hosts (partition, filter_all, weigh_objects) is what
    host_passes/weigh_object give host by host."""
    for seed in range(300):
        hosts, spec, config = random_case(seed)
        spec.instance_uuid = (spec.instance_uuids or ["req-0"])[0]
        for host_filter in [cls() for cls in filters.ALL_FILTERS.values()]:
            expected = [h.host for h in hosts if host_filter.host_passes(h, spec)]
            assert [h.host for h in host_filter.filter_all(hosts, spec)] == expected, (seed, host_filter.name)
            passed, rejected = host_filter.partition(hosts, spec)
            assert [h.host for h in passed] == expected
            assert [h.host for h in rejected] == [h.host for h in hosts if not host_filter.host_passes(h, spec)], \
                (seed, host_filter.name)
        for weigher in config.weighers:
            expected = [weigher.weigh_object(h, spec) for h in hosts]
            assert weigher.weigh_objects(hosts, spec) == expected, (seed, weigher.name)
            if not weigher.applies_to(spec):
                assert not any(expected), (seed, weigher.name)


def test_partition_each_is_each_filter_in_turn_host_by_host():
    """The filters applied together (the shape-only ones asked once per shape) give
    what each filter's host_passes gives host by host over the hosts the previous
    one passed: the same survivors, and for each filter that ran the same hosts given
    and rejected; none runs once no host is left."""
    for seed in range(300):
        hosts, spec, config = random_case(seed)
        spec.instance_uuid = (spec.instance_uuids or ["req-0"])[0]
        expected_steps = []
        left = list(hosts)
        for host_filter in config.filters:
            if not left:
                break
            rejected = [h.host for h in left if not host_filter.host_passes(h, spec)]
            expected_steps.append((host_filter.name, len(left), rejected))
            left = [h for h in left if h.host not in rejected]
        passed, steps = partition_each(config.filters, list(hosts), spec)
        assert [h.host for h in passed] == [h.host for h in left], seed
        assert [(f.name, given, [h.host for h in rejected]) for f, given, rejected in steps] == expected_steps, seed


def test_a_dominating_host_moves_the_bounds_at_every_placement(monkeypatch):
    """One host with far more of everything takes instance after instance, and each
    placement lowers the largest free RAM, vCPU and disk: the weights are walked
    under moving bounds (and the order rebuilt), still exactly the reference's."""
    from ansible_collections.novalite.compute.plugins.module_utils.scheduler import weighing
    walks = []
    original = weighing.HostWeights._walk

    def walk(self, count, bounds):
        walks.append(count)
        return original(self, count, bounds)
    monkeypatch.setattr(weighing.HostWeights, "_walk", walk)
    rng = random.Random(7)
    hosts = [HostState("big", cpu_arch="x86_64", vcpus=64, memory_mb=262144, local_gb=4000)]
    hosts += [HostState("s%03d" % i, cpu_arch="x86_64", vcpus=8, memory_mb=rng.choice([16384, 24576, 32768]),
                        memory_mb_used=rng.randint(0, 8000), local_gb=rng.choice([200, 400]),
                        local_gb_used=rng.randint(0, 50)) for i in range(300)]
    for multipliers in ({}, {"ram_weight_multiplier": 3.0, "disk_weight_multiplier": 0.5}):
        config = SchedulerConfig(weight_multipliers=multipliers, max_attempts=3)
        spec = build_request_spec(Flavor("f", 1, 1024, 10), ImageMeta("img"), num_instances=120)
        expected = outcome(reference_scheduler.select_destinations, hosts, spec, config, 0)
        assert outcome(select_destinations, hosts, spec, config, 0) == expected
        assert [s[0] for s in expected[0]].count("big") > 20
    assert walks
