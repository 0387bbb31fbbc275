# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as f
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.image_props_filter import (
    version_int_to_str, version_satisfies)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, RequestSpec, ServerGroup)


def host(name="h1", instances=(), facts=None, **config):
    data = {"hypervisor_hostname": name, "hypervisor_type": "QEMU", "hypervisor_version": 8002000,
            "virt_type": "kvm", "cpu_arch": "x86_64", "vcpus": 4, "vcpus_used": 0, "memory_mb": 4096,
            "memory_mb_used": 0, "local_gb": 20, "local_gb_used": 0, "running_vms": 0,
            "instances": list(instances)}
    data.update(facts or {})
    config.setdefault("name", name)
    return HostState.from_facts(data, config)


def record(uuid, name, group=None, vm_state="active"):
    return {"uuid": uuid, "name": name, "vm_state": vm_state, "server_group": group, "project_id": "p",
            "flavor": {"name": "f", "vcpus": 1, "ram": 256, "disk": 1}}


def spec(vcpus=1, ram=512, disk=1, ephemeral=0, swap=0, extra_specs=None, properties=None, **kw):
    return RequestSpec(Flavor("f", vcpus, ram, disk, ephemeral, swap, extra_specs),
                       ImageMeta("img", properties), **kw)


def passes(filter_cls, host_state, spec_obj):
    return filter_cls().host_passes(host_state, spec_obj)


# ------------------------------------------------------------ ComputeFilter
def test_compute_filter():
    assert passes(f.ComputeFilter, host(), spec())
    assert not passes(f.ComputeFilter, host(enabled=False), spec())
    assert not passes(f.ComputeFilter, host(up=False), spec())
    assert not passes(f.ComputeFilter, HostState.from_facts(None, {"name": "h"}), spec())


# --------------------------------------------------- AvailabilityZoneFilter
def test_availability_zone_filter():
    hs = host(availability_zone="az1")
    assert passes(f.AvailabilityZoneFilter, hs, spec())
    assert passes(f.AvailabilityZoneFilter, hs, spec(availability_zone="az1"))
    assert not passes(f.AvailabilityZoneFilter, hs, spec(availability_zone="az2"))
    assert passes(f.AvailabilityZoneFilter, host(), spec(availability_zone="nova"))
    agg = host(aggregates=[{"name": "a", "metadata": {"availability_zone": "az3"}}])
    assert passes(f.AvailabilityZoneFilter, agg, spec(availability_zone="az3"))


# ---------------------------------------- AggregateInstanceExtraSpecsFilter
AGGS = [{"name": "fast", "metadata": {"disk": "ssd", "gpu": "a100, v100", "cores": "16"}},
        {"name": "other", "metadata": {"rack": "r1"}}]


@pytest.mark.parametrize("extra_specs,expected", [
    (None, True),
    ({"disk": "ssd"}, True),
    ({"aggregate_instance_extra_specs:disk": "ssd"}, True),
    ({"disk": "hdd"}, False),
    ({"aggregate_instance_extra_specs:disk": "hdd"}, False),
    ({"missing": "x"}, False),
    ({"hw:cpu_policy": "dedicated"}, True),             # other scope: ignored
    ({"gpu": "v100"}, True),                            # comma list in aggregate metadata
    ({"gpu": "<in> a10"}, True),
    ({"cores": ">= 8"}, True),
    ({"cores": ">= 32"}, False),
    ({"cores": "== 16"}, True),
    ({"disk": "<or> hdd <or> ssd"}, True),
    ({"disk": "<or> hdd <or> nvme"}, False),
    ({"disk": "s== ssd"}, True),
    ({"disk": "ssd", "rack": "r1"}, True),
    ({"disk": "ssd", "rack": "r2"}, False),
    ({"disk": ">= 1"}, False),                          # non-numeric never matches a number
])
def test_aggregate_instance_extra_specs(extra_specs, expected):
    hs = host(aggregates=AGGS)
    assert passes(f.AggregateInstanceExtraSpecsFilter, hs, spec(extra_specs=extra_specs)) is expected


def test_aggregate_instance_extra_specs_host_without_aggregates():
    assert not passes(f.AggregateInstanceExtraSpecsFilter, host(), spec(extra_specs={"disk": "ssd"}))


# ------------------------------------------------------- ImagePropertiesFilter
@pytest.mark.parametrize("properties,virt_type,expected", [
    ({}, "qemu", True),
    ({"hw_architecture": "x86_64"}, "kvm", True),
    ({"architecture": "amd64"}, "kvm", True),
    ({"architecture": "i386"}, "kvm", True),
    ({"architecture": "aarch64"}, "kvm", False),
    ({"hypervisor_type": "qemu"}, "qemu", True),
    ({"hypervisor_type": "qemu"}, "kvm", True),
    ({"img_hv_type": "kvm"}, "kvm", True),
    ({"hypervisor_type": "KVM"}, "qemu", False),
    ({"hypervisor_type": "xen"}, "kvm", False),
    ({"hw_vm_mode": "hvm"}, "qemu", True),
    ({"vm_mode": "hv"}, "qemu", True),
    ({"vm_mode": "xen"}, "qemu", False),
    ({"architecture": "x86_64", "hypervisor_type": "kvm", "vm_mode": "hvm"}, "kvm", True),
    ({"img_hv_requested_version": ">=8.0"}, "kvm", True),
    ({"architecture": "x86_64", "img_hv_requested_version": ">= 8.2, < 9"}, "kvm", True),
    ({"architecture": "x86_64", "img_hv_requested_version": ">=9.0"}, "kvm", False),
    ({"architecture": "x86_64", "hypervisor_version_requires": "==8.2.0"}, "kvm", True),
    ({"architecture": "x86_64", "img_hv_requested_version": "latest"}, "kvm", False),
])
def test_image_properties(properties, virt_type, expected):
    hs = host(facts={"virt_type": virt_type})
    assert passes(f.ImagePropertiesFilter, hs, spec(properties=properties)) is expected


def test_image_properties_unknown_host_capabilities():
    hs = host(facts={"cpu_arch": None})
    assert passes(f.ImagePropertiesFilter, hs, spec())
    assert not passes(f.ImagePropertiesFilter, hs, spec(properties={"architecture": "x86_64"}))


def test_version_helpers():
    assert version_int_to_str(8002001) == "8.2.1"
    assert version_int_to_str(10000000) == "10.0.0"
    assert version_satisfies("8.2.1", ">=8.2, <8.3")
    assert not version_satisfies("8.2.1", "!=8.2.1")
    assert version_satisfies("8.0.0", "==8")


# ------------------------------------------------------------- server groups
def test_anti_affinity_filter():
    group = ServerGroup("g", "anti-affinity")
    busy = host("h1", [record("u1", "a", group="g")])
    free = host("h2", [record("u2", "b", group="other"), record("u3", "c", group="g", vm_state="deleted")])
    assert not passes(f.ServerGroupAntiAffinityFilter, busy, spec(instance_group=group))
    assert passes(f.ServerGroupAntiAffinityFilter, free, spec(instance_group=group))
    assert passes(f.ServerGroupAntiAffinityFilter, busy, spec())
    assert passes(f.ServerGroupAntiAffinityFilter, busy, spec(instance_group=ServerGroup("g", "soft-anti-affinity")))


def test_anti_affinity_filter_members_by_uuid():
    hs = host("h1", [record("u1", "a")])
    assert not passes(f.ServerGroupAntiAffinityFilter, hs,
                      spec(instance_group=ServerGroup("g", "anti-affinity", members=["u1"])))


def test_anti_affinity_max_server_per_host():
    group = ServerGroup("g", "anti-affinity", {"max_server_per_host": 2})
    one = host("h1", [record("u1", "a", group="g")])
    two = host("h2", [record("u2", "b", group="g"), record("u3", "c", group="g")])
    assert passes(f.ServerGroupAntiAffinityFilter, one, spec(instance_group=group))
    assert not passes(f.ServerGroupAntiAffinityFilter, two, spec(instance_group=group))


def test_anti_affinity_instance_already_on_host_passes():
    hs = host("h1", [record("u1", "a", group="g")])
    s = spec(instance_group=ServerGroup("g", "anti-affinity"))
    s.instance_uuid = "u1"
    assert passes(f.ServerGroupAntiAffinityFilter, hs, s)


def test_affinity_filter():
    assert passes(f.ServerGroupAffinityFilter, host("h1"), spec(instance_group=ServerGroup("g", "affinity")))
    group = ServerGroup("g", "affinity", hosts=["h2"])
    assert not passes(f.ServerGroupAffinityFilter, host("h1"), spec(instance_group=group))
    assert passes(f.ServerGroupAffinityFilter, host("h2"), spec(instance_group=group))
    soft = ServerGroup("g", "soft-affinity", hosts=["h2"])
    assert passes(f.ServerGroupAffinityFilter, host("h1"), spec(instance_group=soft))


# ------------------------------------------------------- same/different host
def test_same_host_filter():
    hs = host("h1", [record("u1", "web1"), record("u2", "old", vm_state="deleted")])
    assert passes(f.SameHostFilter, hs, spec())
    assert passes(f.SameHostFilter, hs, spec(scheduler_hints={"same_host": ["u1"]}))
    assert passes(f.SameHostFilter, hs, spec(scheduler_hints={"same_host": ["zz", "web1"]}))
    assert passes(f.SameHostFilter, hs, spec(scheduler_hints={"same_host": "web1"}))
    assert not passes(f.SameHostFilter, hs, spec(scheduler_hints={"same_host": ["web9"]}))
    assert not passes(f.SameHostFilter, hs, spec(scheduler_hints={"same_host": ["old"]}))


def test_different_host_filter():
    hs = host("h1", [record("u1", "web1")])
    assert passes(f.DifferentHostFilter, hs, spec())
    assert not passes(f.DifferentHostFilter, hs, spec(scheduler_hints={"different_host": ["u1"]}))
    assert not passes(f.DifferentHostFilter, hs, spec(scheduler_hints={"different_host": ["x", "web1"]}))
    assert passes(f.DifferentHostFilter, hs, spec(scheduler_hints={"different_host": ["web2"]}))


# -------------------------------------------------------------- registry
def test_registry_and_per_request_flags():
    assert f.DEFAULT_FILTERS == [
        "ComputeFilter", "AvailabilityZoneFilter", "AggregateInstanceExtraSpecsFilter", "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter",
        "ServerGroupAffinityFilter", "SameHostFilter", "DifferentHostFilter"]
    assert sorted(f.ALL_FILTERS) == sorted(f.DEFAULT_FILTERS)
    once = sorted(name for name, cls in f.ALL_FILTERS.items() if cls.run_filter_once_per_request)
    assert once == ["AggregateInstanceExtraSpecsFilter", "AvailabilityZoneFilter", "ComputeFilter",
                    "DifferentHostFilter", "ImagePropertiesFilter", "SameHostFilter"]
    for name, cls in f.ALL_FILTERS.items():
        assert cls.name == name == cls.__name__


def test_filters_do_not_change_the_host():
    hs = host("h1", [record("u1", "a", group="g")])
    before = (dict(hs.usages), hs.free_ram_mb, hs.vcpus_used, dict(hs.instances))
    s = spec(instance_group=ServerGroup("g", "anti-affinity"), scheduler_hints={"same_host": ["a"]})
    for cls in f.ALL_FILTERS.values():
        cls().filter_all([hs], s)
    assert before == (hs.usages, hs.free_ram_mb, hs.vcpus_used, hs.instances)
