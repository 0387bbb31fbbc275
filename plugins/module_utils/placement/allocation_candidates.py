# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement's capacity check: which providers can take an allocation.

A provider fits an amount of a resource class when it has an inventory of that class,
amount <= max_unit and used + amount <= capacity ((total - reserved) * allocation_ratio),
for every class asked (placement's allocation candidates, and the claim's
_check_capacity_exceeded). A provider's room in a class is the largest amount that fits,
min(max_unit, capacity - used): the check is then room >= amount. capacity - used is exact
in floating point wherever it is between 0 and capacity, so the two forms agree.
The providers are the scheduler's HostStates, which keep their rooms in vcpu_room,
memory_mb_room and disk_gb_room (read by name: one comprehension over a thousand hosts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import DISK_GB, MEMORY_MB, VCPU

NO_INVENTORY = float("-inf")


def room(inventory, used):
    """The largest amount of the class that still fits (-inf without an inventory)."""
    if inventory is None:
        return NO_INVENTORY
    return float(min(inventory.max_unit, inventory.capacity - used))


def fits(rooms, resources):
    """True when every amount of resources ({class: amount}) is within rooms ({class: room})."""
    return all(rooms.get(rc, NO_INVENTORY) >= amount for rc, amount in resources.items())


def missing(rooms, resources):
    """The classes of resources that do not fit, in their order."""
    return [rc for rc, amount in resources.items() if not rooms.get(rc, NO_INVENTORY) >= amount]


def needs(resources):
    """(VCPU, MEMORY_MB, DISK_GB): the amounts of resources ({class: amount}) a host's
    vcpu_room, memory_mb_room and disk_gb_room must hold; -inf for a class not asked
    (any room holds it, no inventory too)."""
    return (float(resources.get(VCPU, NO_INVENTORY)), float(resources.get(MEMORY_MB, NO_INVENTORY)),
            float(resources.get(DISK_GB, NO_INVENTORY)))


def fits_host(host, host_needs):
    """True when the host's rooms hold every amount of host_needs (see needs())."""
    vcpus, memory_mb, disk_gb = host_needs
    return host.vcpu_room >= vcpus and host.memory_mb_room >= memory_mb and host.disk_gb_room >= disk_gb


def partition(hosts, host_needs):
    """(the hosts that fit host_needs (see needs()), the others), each in their order;
    hosts itself when all fit: placement's allocation candidates."""
    vcpus, memory_mb, disk_gb = host_needs
    fit = [h for h in hosts if h.vcpu_room >= vcpus and h.memory_mb_room >= memory_mb and h.disk_gb_room >= disk_gb]
    if len(fit) == len(hosts):
        return hosts, []
    return fit, [h for h in hosts if not (h.vcpu_room >= vcpus and h.memory_mb_room >= memory_mb
                                          and h.disk_gb_room >= disk_gb)]
