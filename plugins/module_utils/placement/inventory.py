# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What placement knows of a compute node and of a flavor, as Nova 34 reports them.

A node's inventories are those nova.virt.libvirt.driver.LibvirtDriver.update_provider_tree
reports: VCPU, MEMORY_MB and DISK_GB with total, reserved, allocation_ratio and
max_unit = total, and none for a class whose total is 0 (placement refuses such an
inventory). A flavor asks for nova.scheduler.utils.resources_from_flavor: VCPU = vcpus,
MEMORY_MB = ram, DISK_GB = root_gb + ephemeral_gb + swap rounded up to whole GB, and
nothing of a class it asks 0 of.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

VCPU = "VCPU"
MEMORY_MB = "MEMORY_MB"
DISK_GB = "DISK_GB"
RESOURCE_CLASSES = (VCPU, MEMORY_MB, DISK_GB)


def ceil_gb(mb):
    """nova.compute.utils.convert_mb_to_ceil_gb: MB to whole GB, rounded up."""
    return -(-int(mb) // 1024)


class Inventory:
    """One resource class of a provider: capacity = (total - reserved) * allocation_ratio."""

    __slots__ = ("total", "reserved", "allocation_ratio", "max_unit", "capacity")

    def __init__(self, total, reserved, allocation_ratio):
        self.total = int(total)
        self.reserved = int(reserved)
        self.allocation_ratio = float(allocation_ratio)
        self.max_unit = self.total
        self.capacity = (self.total - self.reserved) * self.allocation_ratio

    def to_dict(self):
        return {"total": self.total, "reserved": self.reserved, "allocation_ratio": self.allocation_ratio,
                "min_unit": 1, "max_unit": self.max_unit, "step_size": 1}

    def __repr__(self):
        return "Inventory(total=%d, reserved=%d, allocation_ratio=%r)" % (
            self.total, self.reserved, self.allocation_ratio)


def compute_node_inventories(vcpus, memory_mb, local_gb, reserved_host_cpus=0, reserved_host_memory_mb=0,
                             reserved_host_disk_mb=0, cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0,
                             disk_allocation_ratio=1.0):
    """{resource class: Inventory} of a node (the libvirt driver's update_provider_tree)."""
    inventories = {}
    if memory_mb:
        inventories[MEMORY_MB] = Inventory(memory_mb, reserved_host_memory_mb, ram_allocation_ratio)
    if vcpus:
        inventories[VCPU] = Inventory(vcpus, reserved_host_cpus, cpu_allocation_ratio)
    if local_gb:
        inventories[DISK_GB] = Inventory(local_gb, ceil_gb(reserved_host_disk_mb), disk_allocation_ratio)
    return inventories


def resources_from_flavor(flavor):
    """{resource class: amount} a flavor asks placement for; classes asked 0 of are left out."""
    amounts = {VCPU: flavor.vcpus, MEMORY_MB: flavor.ram,
               DISK_GB: flavor.disk + flavor.ephemeral + ceil_gb(flavor.swap)}
    return dict((rc, amount) for rc, amount in amounts.items() if amount)
