# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from operator import attrgetter

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights import registry as w
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import column, normalize
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, RequestSpec, ServerGroup)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.reference_scheduler import weigh_hosts


def host(name, mem_used=0, vcpus_used=0, disk_used=0, instances=(), memory_mb=4096, **config):
    facts = {"hypervisor_hostname": name, "hypervisor_type": "QEMU", "hypervisor_version": 8002000,
             "virt_type": "kvm", "cpu_arch": "x86_64", "vcpus": 4, "vcpus_used": vcpus_used,
             "memory_mb": memory_mb, "memory_mb_used": mem_used, "local_gb": 20, "local_gb_used": disk_used,
             "running_vms": 0, "instances": list(instances)}
    config.setdefault("name", name)
    return HostState.from_facts(facts, config)


def members(group, count, prefix):
    return [{"uuid": "%s-%d" % (prefix, i), "name": "%s-%d" % (prefix, i), "vm_state": "active",
             "server_group": group, "flavor": {"name": "f", "vcpus": 1, "ram": 1, "disk": 0}}
            for i in range(count)]


def spec(group=None):
    return RequestSpec(Flavor("f", 1, 256, 1), ImageMeta("img"), instance_group=group)


def only(cls, multiplier=None):
    return [cls(multiplier)]


def order(weighed):
    return [pair[0].host for pair in weighed]


def weights(weighed):
    return [pair[1] for pair in weighed]


# ------------------------------------------------------------------ normalize
def test_normalize():
    assert normalize([]) == []
    assert normalize([5, 5, 5]) == [0.0, 0.0, 0.0]
    assert normalize([1, 2, 3]) == [0.0, 0.5, 1.0]
    assert normalize([-2, 0, 2]) == [0.0, 0.5, 1.0]
    assert normalize([2, 4], minval=0) == [0.5, 1.0]
    assert normalize([4, 4], minval=0) == [1.0, 1.0]
    assert normalize([1, 2], maxval=4) == [0.0, 1 / 3.0]
    assert normalize([0, 0], minval=0) == [0.0, 0.0]


# ---------------------------------------------------------------- RAMWeigher
def test_ram_weigher_positive_spreads():
    hosts = [host("h1", mem_used=3000), host("h2", mem_used=1000), host("h3", mem_used=2000)]
    weighed = weigh_hosts(hosts, spec(), only(w.RAMWeigher))
    assert order(weighed) == ["h2", "h3", "h1"]
    # minval 0: weight = free / max free
    assert weighed[0][1] == 1.0
    assert weighed[2][1] == pytest.approx((4096 - 512 - 3000) / (4096 - 512 - 1000.0))


def test_ram_weigher_negative_packs():
    hosts = [host("h1", mem_used=3000), host("h2", mem_used=1000), host("h3", mem_used=2000)]
    weighed = weigh_hosts(hosts, spec(), only(w.RAMWeigher, -1.0))
    assert order(weighed) == ["h1", "h3", "h2"]
    assert weighed[-1][1] == -1.0


def test_ram_weigher_clamps_overcommitted_host_at_zero():
    hosts = [host("h1", mem_used=5000), host("h2", mem_used=2560)]
    raw = w.RAMWeigher().weigh_objects(hosts, spec())
    assert raw == [0, 1024]


# ------------------------------------------------------------ CPU / disk
def test_cpu_weigher_uses_free_vcpus_after_ratio():
    hosts = [host("h1", vcpus_used=12), host("h2", vcpus_used=4)]
    assert w.CPUWeigher().weigh_objects(hosts, spec()) == [4.0, 12.0]
    assert order(weigh_hosts(hosts, spec(), only(w.CPUWeigher))) == ["h2", "h1"]
    assert order(weigh_hosts(hosts, spec(), only(w.CPUWeigher, -1))) == ["h1", "h2"]


def test_disk_weigher():
    hosts = [host("h1", disk_used=15), host("h2", disk_used=5)]
    assert w.DiskWeigher().weigh_objects(hosts, spec()) == [5 * 1024, 15 * 1024]
    assert order(weigh_hosts(hosts, spec(), only(w.DiskWeigher))) == ["h2", "h1"]


# ------------------------------------------------------- NumInstancesWeigher
def test_num_instances_weigher_off_by_default_and_signed():
    hosts = [host("h1"), host("h2", instances=members(None, 3, "x"))]
    assert w.NumInstancesWeigher().multiplier == 0.0
    assert weights(weigh_hosts(hosts, spec(), only(w.NumInstancesWeigher))) == [0.0, 0.0]
    assert order(weigh_hosts(hosts, spec(), only(w.NumInstancesWeigher, -1))) == ["h1", "h2"]
    assert order(weigh_hosts(hosts, spec(), only(w.NumInstancesWeigher, 1))) == ["h2", "h1"]


# -------------------------------------------------------- soft (anti-)affinity
def test_soft_affinity_prefers_hosts_with_members():
    hosts = [host("h1", instances=members("g", 1, "a")), host("h2", instances=members("g", 3, "b")),
             host("h3")]
    weighed = weigh_hosts(hosts, spec(ServerGroup("g", "soft-affinity")), only(w.ServerGroupSoftAffinityWeigher))
    assert order(weighed) == ["h2", "h1", "h3"]
    assert weights(weighed) == [1.0, pytest.approx(1 / 3.0), 0.0]
    # another policy, or no group: no effect
    for s in (spec(ServerGroup("g", "soft-anti-affinity")), spec(ServerGroup("g", "affinity")), spec()):
        assert weights(weigh_hosts(hosts, s, only(w.ServerGroupSoftAffinityWeigher))) == [0.0] * 3


def test_soft_anti_affinity_prefers_hosts_without_members():
    hosts = [host("h1", instances=members("g", 1, "a")), host("h2", instances=members("g", 3, "b")),
             host("h3")]
    s = spec(ServerGroup("g", "soft-anti-affinity"))
    assert w.ServerGroupSoftAntiAffinityWeigher().weigh_objects(hosts, s) == [-1, -3, 0]
    weighed = weigh_hosts(hosts, s, only(w.ServerGroupSoftAntiAffinityWeigher))
    assert order(weighed) == ["h3", "h1", "h2"]
    assert weights(weighed) == [1.0, pytest.approx(2 / 3.0), 0.0]


# ------------------------------------------------------------ BuildFailure
def test_build_failure_weigher_sinks_failing_hosts():
    hosts = [host("h1", failed_builds=2), host("h2"), host("h3", failed_builds=1)]
    weigher = w.BuildFailureWeigher()
    assert weigher.weigh_objects(hosts, spec()) == [2, 0, 1]
    assert weigher.weight_multiplier(hosts[0]) == -1000000.0
    weighed = weigh_hosts(hosts, spec(), [weigher])
    assert order(weighed) == ["h2", "h3", "h1"]
    assert weights(weighed) == [0.0, -500000.0, -1000000.0]


def test_build_failure_outweighs_ram():
    hosts = [host("h1", failed_builds=1), host("h2", mem_used=3000)]
    assert order(weigh_hosts(hosts, spec(), w.build_weighers())) == ["h2", "h1"]


# ------------------------------------------------------------ weigh_hosts
def test_single_host_and_empty_list_are_not_weighed():
    assert weigh_hosts([], spec()) == []
    only_host = host("h1")
    assert weigh_hosts([only_host], spec()) == [(only_host, 0.0)]


def test_ties_go_to_the_lower_name():
    hosts = [host("h3"), host("h1"), host("h2")]
    weighed = weigh_hosts(hosts, spec())
    assert order(weighed) == ["h1", "h2", "h3"]
    assert len(set(weights(weighed))) == 1


def test_default_weighers_sum():
    hosts = [host("h1", mem_used=1792), host("h2")]   # h1: half the free RAM of h2
    weighed = dict((h.host, wt) for h, wt in weigh_hosts(hosts, spec()))
    # RAM 0.5 vs 1.0; CPU and disk equal (1.0 each with minval 0)
    assert weighed == {"h1": pytest.approx(2.5), "h2": pytest.approx(3.0)}


def test_aggregate_metadata_overrides_multiplier():
    packed = host("h1", mem_used=3000, aggregates=[{"name": "a", "metadata": {"ram_weight_multiplier": "-1.0"}},
                                                   {"name": "b", "metadata": {"ram_weight_multiplier": "2"}}])
    assert w.RAMWeigher().weight_multiplier(packed) == -1.0
    assert w.RAMWeigher().weight_multiplier(host("h2")) == 1.0
    bad = host("h3", aggregates=[{"name": "a", "metadata": {"ram_weight_multiplier": "lots"}}])
    assert w.RAMWeigher(3.0).weight_multiplier(bad) == 3.0
    weighed = dict((h.host, wt) for h, wt in weigh_hosts([packed, host("h2")], spec(), only(w.RAMWeigher)))
    assert weighed["h1"] == pytest.approx(-1.0 * (4096 - 512 - 3000) / (4096 - 512.0))
    assert weighed["h2"] == 1.0


def test_build_weighers_options():
    assert w.MULTIPLIER_DEFAULTS == {
        "ram_weight_multiplier": 1.0, "cpu_weight_multiplier": 1.0, "disk_weight_multiplier": 1.0,
        "num_instances_weight_multiplier": 0.0, "soft_affinity_weight_multiplier": 1.0,
        "soft_anti_affinity_weight_multiplier": 1.0, "build_failure_weight_multiplier": 1000000.0}
    built = dict((x.name, x.multiplier) for x in w.build_weighers({"ram_weight_multiplier": -2}))
    assert built["RAMWeigher"] == -2.0 and built["CPUWeigher"] == 1.0
    with pytest.raises(ValueError, match="ram_multiplier: unknown"):
        w.build_weighers({"ram_multiplier": 1})
    with pytest.raises(ValueError, match="cpu_weight_multiplier"):
        w.build_weighers({"cpu_weight_multiplier": "x"})
    with pytest.raises(ValueError, match="cpu_weight_multiplier"):
        w.build_weighers({"cpu_weight_multiplier": True})


def test_columns_are_the_attributes_of_each_host():
    """weights.base.column reads every weigher's attribute (and any other) as attrgetter does."""
    hosts = [HostState("h%d" % i, vcpus=4 + i, vcpus_used=i, memory_mb=4096 * (i + 1), memory_mb_used=512 * i,
                       local_gb=100, local_gb_used=i, failed_builds=i % 2) for i in range(5)]
    hosts[2].consume_instance(Flavor("f", 1, 256, 1))
    attributes = [cls.attribute for cls in w.ALL_WEIGHERS if cls.attribute] + ["vcpu_room", "host"]
    assert "free_ram_mb" in attributes
    for attribute in attributes:
        assert column(hosts, attribute) == list(map(attrgetter(attribute), hosts)), attribute
    assert column([], "free_ram_mb") == []
