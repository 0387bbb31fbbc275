# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, Instance, ServerGroup, build_request_spec)


def record(uuid, name, vcpus=1, ram=512, disk=1, vm_state="active", group=None, project="p"):
    return {"uuid": uuid, "name": name, "vm_state": vm_state, "task_state": None, "server_group": group,
            "project_id": project, "flavor": {"name": "f", "vcpus": vcpus, "ram": ram, "disk": disk,
                                              "ephemeral": 0, "swap": 0, "extra_specs": {}}}


def facts(**kw):
    data = {"hypervisor_hostname": "node1.example", "hypervisor_type": "QEMU", "hypervisor_version": 8002000,
            "virt_type": "kvm", "cpu_arch": "x86_64", "vcpus": 8, "vcpus_used": 3, "memory_mb": 16384,
            "memory_mb_used": 2048, "local_gb": 100, "local_gb_used": 10, "running_vms": 2, "instances": []}
    data.update(kw)
    return data


def test_nova_defaults_and_formulas():
    hs = HostState.from_facts(facts(), {"name": "h1"})
    assert (hs.host, hs.nodename) == ("h1", "node1.example")
    assert hs.availability_zone == "nova"
    assert hs.ratios == {"cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 1.0}
    assert hs.reserved == {"reserved_host_memory_mb": 512, "reserved_host_disk_mb": 0, "reserved_host_cpus": 0}
    assert hs.enabled and hs.up and hs.failed_builds == 0
    assert hs.free_ram_mb == 16384 - 512 - 2048
    assert hs.total_usable_ram_mb == 16384
    assert hs.free_disk_mb == 100 * 1024 - 10 * 1024
    assert hs.total_usable_disk_gb == 100
    assert (hs.vcpus_total, hs.vcpus_used) == (8, 3)
    assert hs.free_vcpus == 8 * 4.0 - 3
    assert dict((rc, (i.total, i.reserved, i.capacity)) for rc, i in hs.inventories.items()) == {
        "VCPU": (8, 0, 32.0), "MEMORY_MB": (16384, 512, 15872.0), "DISK_GB": (100, 0, 100.0)}


def test_config_overrides_and_reserved_amounts():
    config = {"name": "h1", "availability_zone": "az1", "cpu_allocation_ratio": 2.0, "ram_allocation_ratio": 1.5,
              "disk_allocation_ratio": 2.0, "reserved_host_memory_mb": 1024, "reserved_host_disk_mb": 2048,
              "reserved_host_cpus": 2, "enabled": False, "failed_builds": 3, "uri": "qemu:///system",
              "aggregates": [{"name": "ssd", "metadata": {"disk": "ssd"}}]}
    hs = HostState.from_facts(facts(), config)
    assert hs.availability_zone == "az1"
    assert hs.free_ram_mb == 16384 - 1024 - 2048
    assert hs.free_disk_mb == 100 * 1024 - 2048 - 10 * 1024
    assert hs.vcpus_used == 3 + 2
    assert dict((rc, (i.total, i.reserved, i.capacity)) for rc, i in hs.inventories.items()) == {
        "VCPU": (8, 2, 12.0), "MEMORY_MB": (16384, 1024, 15360 * 1.5), "DISK_GB": (100, 2, 196.0)}
    assert not hs.enabled and hs.failed_builds == 3
    assert hs.aggregates[0].name == "ssd" and hs.aggregates[0].metadata == {"disk": "ssd"}


def test_unreachable_host_is_down_and_empty():
    hs = HostState.from_facts(None, {"name": "h9", "up": False})
    assert hs.host == "h9" and not hs.up
    assert (hs.total_usable_ram_mb, hs.vcpus_total, hs.num_instances, hs.instances) == (0, 0, 0, {})
    assert not HostState.from_facts(None, {"name": "h9"}).up
    with pytest.raises(ValueError, match="name"):
        HostState.from_facts(None, {})


def test_name_falls_back_to_hypervisor_hostname():
    assert HostState.from_facts(facts()).host == "node1.example"


def test_bad_ratio_is_rejected():
    with pytest.raises(ValueError, match="cpu_allocation_ratio"):
        HostState.from_facts(facts(), {"name": "h1", "cpu_allocation_ratio": -1})
    with pytest.raises(ValueError, match="ram_allocation_ratio"):
        HostState.from_facts(facts(), {"name": "h1", "ram_allocation_ratio": "lots"})


def test_instances_are_read():
    hs = HostState.from_facts(facts(instances=[record("u1", "web1", group="g"), record("u2", "web2"),
                                               record("u3", "gone", vm_state="deleted", group="g")]),
                              {"name": "h1"})
    assert sorted(hs.instances) == ["u1", "u2", "u3"]
    assert isinstance(hs.instances["u1"], Instance) and hs.instances["u1"].host == "h1"
    assert hs.num_instances == 2
    assert hs.holds_instance("u1") and hs.holds_instance("web2")
    assert not hs.holds_instance("u3") and not hs.holds_instance("gone") and not hs.holds_instance("x")
    assert hs.count_group_members(ServerGroup("g", "affinity")) == 1
    assert hs.count_group_members(ServerGroup("g2", "affinity", members=["u2", "u1", "zz"])) == 2
    assert hs.count_group_members(ServerGroup("g", "affinity", members=["u1"])) == 1


def test_supported_instances_follow_virt_type():
    kvm = HostState.from_facts(facts(virt_type="kvm"), {"name": "h1"})
    qemu = HostState.from_facts(facts(virt_type="qemu", cpu_arch="aarch64"), {"name": "h2"})
    assert ("x86_64", "kvm", "hvm") in kvm.supported_instances
    assert ("x86_64", "qemu", "hvm") in kvm.supported_instances
    assert ("i686", "qemu", "hvm") in kvm.supported_instances
    assert list(qemu.supported_instances) == [("aarch64", "qemu", "hvm")]
    given = HostState.from_facts(facts(supported_instances=[["s390x", "qemu", "hvm"]]), {"name": "h3"})
    assert list(given.supported_instances) == [("s390x", "qemu", "hvm")]
    assert HostState.from_facts(facts(virt_type="kvm"), {"name": "h4"}).supported_instances is kvm.supported_instances


def test_consume_from_request_updates_usage():
    hs = HostState.from_facts(facts(), {"name": "h1"})
    spec = build_request_spec(Flavor("f", 2, 1024, 10, ephemeral=5, swap=512), ImageMeta("img"),
                              instance_group=ServerGroup("g", "anti-affinity"))
    before = (hs.free_ram_mb, hs.free_disk_mb, hs.vcpus_used, hs.num_instances)
    inst = hs.consume_from_request(spec, "new-uuid", "web3")
    assert hs.free_ram_mb == before[0] - 1024
    assert hs.free_disk_mb == before[1] - 15 * 1024       # Nova's consumption leaves swap out
    assert hs.usages["DISK_GB"] == 10 + 15 + 1              # placement's allocation rounds it up
    assert hs.vcpus_used == before[2] + 2
    assert hs.num_instances == before[3] + 1
    assert hs.instances["new-uuid"] is inst and inst.server_group == "g" and inst.name == "web3"
    assert hs.count_group_members(spec.instance_group) == 1
    assert hs.holds_instance("web3")


def test_consume_instance_or_bare_flavor():
    hs = HostState.from_facts(facts(), {"name": "h1"})
    hs.consume_instance(Flavor("f", 1, 256, 1), server_group="g")
    hs.consume_instance(Flavor("f", 1, 256, 1))
    original = Instance("u9", "x", Flavor("f", 1, 256, 1))
    hs.consume_instance(original, server_group="g")
    assert original.server_group is None
    assert hs.num_instances == 3 and len(hs.instances) == 3
    assert hs.count_group_members(ServerGroup("g", "affinity")) == 2
    assert hs.free_ram_mb == 16384 - 512 - 2048 - 3 * 256


def test_copy_is_independent():
    hs = HostState.from_facts(facts(instances=[record("u1", "web1")]), {"name": "h1"})
    other = hs.copy()
    other.consume_instance(Flavor("f", 4, 4096, 20), server_group="g")
    assert hs.free_ram_mb == 16384 - 512 - 2048 and hs.vcpus_used == 3
    assert list(hs.instances) == ["u1"] and hs.num_instances == 1
    assert hs.count_group_members(ServerGroup("g", "affinity")) == 0
    assert other.num_instances == 2


def rooms(hs):
    return (hs.memory_mb_room, hs.disk_gb_room, hs.vcpu_room, hs.free_vcpus)


def test_rooms_are_the_largest_amounts_placement_admits_and_follow_consumption():
    hs = HostState.from_facts(facts(), {"name": "h1", "ram_allocation_ratio": 1.5, "disk_allocation_ratio": 0.5,
                                        "cpu_allocation_ratio": 2.0})
    # RAM: (16384 - 512) * 1.5 - 2048 exceeds the total, so the total bounds it;
    # disk: 100 * 0.5 - 10 is below the total; vCPUs: 8 * 2.0 - 3 exceeds 8.
    assert rooms(hs) == (16384, 40.0, 8, 13.0)
    hs.consume_instance(Flavor("f", 6, 15000, 30))
    assert rooms(hs) == ((16384 - 512) * 1.5 - (2048 + 15000), 10.0, 7.0, 7.0)
    copy = hs.copy()
    copy.consume_instance(Flavor("f", 1, 1000, 1))
    assert rooms(copy) == ((16384 - 512) * 1.5 - (2048 + 16000), 9.0, 6.0, 6.0)
    assert rooms(hs)[0] == (16384 - 512) * 1.5 - (2048 + 15000)


def test_no_vcpu_count_is_no_vcpu_inventory():
    hs = HostState("h1", vcpus=0)
    assert hs.vcpu_room == float("-inf") and "VCPU" not in hs.inventories


def test_hosts_with_the_same_aggregate_keys_share_one_set():
    first = HostState("h1", aggregates=[{"name": "a", "metadata": {"ssd": "true", "tier": "1"}}])
    second = HostState("h2", aggregates=[{"name": "b", "metadata": {"tier": "2"}},
                                         {"name": "c", "metadata": {"ssd": "false"}}])
    assert first.metadata_keys == frozenset(["ssd", "tier"]) and first.metadata_keys is second.metadata_keys
    assert HostState("h3").metadata_keys == frozenset()


def test_hosts_equal_in_zone_aggregates_image_support_and_version_share_one_shape():
    zone = [{"name": "z1", "metadata": {"availability_zone": "z1"}}]
    one = HostState("h1", cpu_arch="x86_64", availability_zone="z1", aggregates=zone, hypervisor_version=7002000)
    two = HostState("h2", cpu_arch="x86_64", availability_zone="z1", aggregates=zone, hypervisor_version=7002000,
                    memory_mb_used=4096, instances=[record("u1", "a")])
    assert one.shape is two.shape and one.copy().shape is one.shape
    for other in (HostState("h3", cpu_arch="aarch64", availability_zone="z1", aggregates=zone,
                            hypervisor_version=7002000),
                  HostState("h4", cpu_arch="x86_64", availability_zone="z1", aggregates=zone,
                            hypervisor_version=8000000),
                  HostState("h5", cpu_arch="x86_64", availability_zone="z1", hypervisor_version=7002000)):
        assert other.shape is not one.shape, other


def test_free_disk_is_in_whole_gb_as_the_resource_tracker_keeps_it():
    """Nova's tracker keeps local_gb_used in whole GB, truncating reserved_host_disk_mb / 1024
    and each instance's swap / 1024; the facts' local_gb_used has the swap rounded up, as
    placement allocates it. Placement's view keeps its own rounding (reserved up)."""
    swapped = dict(record("u1", "a"), flavor={"name": "f", "vcpus": 1, "ram": 256, "disk": 1, "swap": 512})
    hs = HostState.from_facts(facts(local_gb_used=2 + 1, instances=[swapped, record("u2", "b")]),
                              {"name": "h1", "reserved_host_disk_mb": 1500})
    assert hs.free_disk_mb == (100 - 1 - 2) * 1024          # 1500 MB reserved -> 1 GB, 512 MB swap -> 0 GB
    assert hs.inventories["DISK_GB"].reserved == 2 and hs.usages["DISK_GB"] == 3
