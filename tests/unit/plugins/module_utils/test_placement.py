# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement's arithmetic (placement/): inventories as the libvirt driver reports them, a
flavor's resources, and the capacity check the scheduler's candidates and the claim use."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.placement import allocation_candidates
from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import (
    DISK_GB, MEMORY_MB, VCPU, compute_node_inventories, resources_from_flavor)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor


def node(**figures):
    base = dict(cpu_arch="x86_64", vcpus=4, memory_mb=4096, local_gb=20, reserved_host_memory_mb=512)
    base.update(figures)
    return HostState("h1", **base)


def fits(host, vcpus=1, ram=512, disk=1, ephemeral=0, swap=0):
    return host.fits(resources_from_flavor(Flavor("f", vcpus, ram, disk, ephemeral, swap)))


def test_capacity_is_total_minus_reserved_times_the_ratio():
    """The issue's first example: 16 vCPUs, ratio 8, 4 reserved, 95 used: a 2-vCPU flavor
    does not fit (95 + 2 > (16 - 4) * 8 = 96); total * ratio - reserved would admit it."""
    host = node(vcpus=16, cpu_allocation_ratio=8.0, reserved_host_cpus=4, vcpus_used=95)
    assert not fits(host, vcpus=2)
    assert fits(host, vcpus=1)


def test_a_ratio_below_one_applies_to_what_is_left_after_the_reserved_amount():
    """The issue's second example: 65,536 MB, ratio 0.9, 4,096 reserved, 51,000 used: a
    4,096 MB flavor fits ((65536 - 4096) * 0.9 = 55296 >= 55096)."""
    host = node(memory_mb=65536, ram_allocation_ratio=0.9, reserved_host_memory_mb=4096, memory_mb_used=51000)
    assert fits(host, ram=4096)
    assert fits(host, ram=4296) and not fits(host, ram=4297)


def test_boundary_exact_hosts():
    host = node(memory_mb=4096, memory_mb_used=3000)     # (4096 - 512) * 1.0 = 3584
    assert fits(host, ram=584) and not fits(host, ram=585)
    host = node(memory_mb=4096, ram_allocation_ratio=1.5, memory_mb_used=4800)   # 3584 * 1.5 = 5376
    assert fits(host, ram=576) and not fits(host, ram=577)


def test_an_amount_above_the_total_never_fits_whatever_the_ratio():
    host = node(ram_allocation_ratio=10.0, cpu_allocation_ratio=16.0, disk_allocation_ratio=4.0)
    assert not fits(host, ram=4097) and fits(host, ram=4096)
    assert not fits(host, vcpus=5) and fits(host, vcpus=4)
    assert not fits(host, disk=21) and fits(host, disk=20)


def test_a_class_with_no_total_has_no_inventory_and_never_fits():
    assert VCPU not in node(vcpus=0).inventories
    assert not fits(node(vcpus=0), vcpus=1)
    assert DISK_GB not in node(local_gb=0).inventories
    assert not fits(node(local_gb=0), disk=1)
    assert fits(node(local_gb=0), disk=0)         # a flavor asking no disk does not ask for DISK_GB


def test_reserved_disk_and_swap_are_whole_gb_rounded_up():
    inventories = compute_node_inventories(4, 4096, 20, reserved_host_disk_mb=1025)
    assert inventories[DISK_GB].reserved == 2 and inventories[DISK_GB].capacity == 18.0
    assert resources_from_flavor(Flavor("f", 1, 512, 10, 2, 513)) == {VCPU: 1, MEMORY_MB: 512, DISK_GB: 13}
    assert resources_from_flavor(Flavor("f", 1, 512, 0)) == {VCPU: 1, MEMORY_MB: 512}
    host = node(reserved_host_disk_mb=1)                    # 19 GB left
    assert fits(host, disk=19) and not fits(host, disk=19, swap=1)


def test_usages_leave_reserved_out_and_consumption_adds_the_flavor():
    host = node(vcpus_used=1, memory_mb_used=1000, local_gb_used=3, reserved_host_cpus=1)
    assert host.usages == {VCPU: 1, MEMORY_MB: 1000, DISK_GB: 3}
    copy = host.copy()
    copy.consume_instance(Flavor("f", 2, 512, 5, 1, 1536))
    assert copy.usages == {VCPU: 3, MEMORY_MB: 1512, DISK_GB: 11}
    assert host.usages == {VCPU: 1, MEMORY_MB: 1000, DISK_GB: 3}        # the copy's own
    assert copy.rooms == {VCPU: 4.0, MEMORY_MB: 4096 - 512 - 1512.0, DISK_GB: 9.0}


def test_rooms_agree_with_the_written_out_check_on_every_boundary():
    """room >= amount is placement's used + amount <= capacity and amount <= max_unit."""
    for ratio in (0.1, 0.3, 0.7, 0.9, 1.0, 1.1, 1.5, 3.3, 16.0):
        for total, reserved in ((4096, 512), (65536, 4096), (7, 3), (100, 0)):
            inventory = compute_node_inventories(1, total, 1, ram_allocation_ratio=ratio,
                                                 reserved_host_memory_mb=reserved)[MEMORY_MB]
            for used in range(0, int(inventory.capacity) + 3, max(1, int(inventory.capacity) // 40)):
                room = allocation_candidates.room(inventory, used)
                for amount in range(max(1, int(room) - 2), int(room) + 3):
                    expected = amount <= inventory.max_unit and used + amount <= inventory.capacity
                    assert (room >= amount) == expected, (ratio, total, reserved, used, amount)


def test_partition_keeps_the_order_and_names_the_rest():
    hosts = [node(memory_mb_used=used) for used in (0, 3584, 100, 3200)]
    needs = allocation_candidates.needs({MEMORY_MB: 400, VCPU: 1})
    passed, rejected = allocation_candidates.partition(hosts, needs)
    assert passed == [hosts[0], hosts[2]] and rejected == [hosts[1], hosts[3]]
    assert allocation_candidates.partition(hosts[:1], needs) == (hosts[:1], [])
    assert allocation_candidates.missing(hosts[1].rooms, {MEMORY_MB: 400, VCPU: 1}) == [MEMORY_MB]


@pytest.mark.parametrize("name", ["RamFilter", "DiskFilter", "CoreFilter"])
def test_the_filters_placement_replaced_are_refused_by_name(name):
    with pytest.raises(ValueError, match="enabled_filters: %s was removed from Nova in Train" % name):
        SchedulerConfig(enabled_filters=["ComputeFilter", name])
