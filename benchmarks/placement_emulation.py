# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack Placement's capacity rules, for the Nova side of the engine-vs-Nova check.

Standard library only. Written from placement's own rules (openstack-placement
16.0.0, read from its source, not a dependency) and from how Nova's libvirt
driver reports inventory; never from the collection's engine:

- Inventory (nova/virt/libvirt/driver.py LibvirtDriver.update_provider_tree):
  one record per resource class the host has, and none for a class whose total
  is 0 (`if memory_mb:`, `if vcpus:`, `if disk_gb:`):

    VCPU       total = vcpus,     reserved = reserved_host_cpus
    MEMORY_MB  total = memory_mb, reserved = reserved_host_memory_mb
    DISK_GB    total = local_gb,  reserved = ceil(reserved_host_disk_mb / 1024)
               (ComputeDriver._get_reserved_host_disk_gb_from_config,
               compute.utils.convert_mb_to_ceil_gb; no image-cache reserve,
               reserve_disk_space_for_image_cache is off by default)

  with min_unit = 1, max_unit = total, step_size = 1 and the host's
  cpu/ram/disk allocation ratio.

- A flavor's request (nova/scheduler/utils.py resources_from_flavor, not
  boot-from-volume): VCPU = vcpus, MEMORY_MB = ram,
  DISK_GB = root_gb + ephemeral_gb + ceil(swap_mb / 1024); a class asked 0 of
  is not asked for. flavor_resources() below says the same for the input
  generator; the Nova harness uses Nova's own resources_from_flavor_and_bfv.

- Capacity (placement/objects/allocation.py _check_capacity_exceeded, and the
  WHERE clause of research_context.get_providers_with_resource for
  GET /allocation_candidates):

    capacity = (total - reserved) * allocation_ratio
    fits     = used + amount <= capacity
               and min_unit <= amount <= max_unit and amount % step_size == 0

  for every class asked for; a provider without an inventory record of a
  class asked for never fits (InvalidInventory; no candidate row). `used` is
  the sum of the allocations against the provider: every existing instance's,
  plus those claimed earlier in the same request (each claim is its own
  PUT /allocations/{instance}).

Simplifications: a host is one resource provider (no nested providers, no
sharing DISK_GB providers, no PCPU); the arithmetic is Python's float (placement
computes it in SQL; its allocation_ratio column is a Float); the "over capacity
but no worse than before" exception of _check_capacity_exceeded only concerns
replacing a consumer's allocations, which a new instance never does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

VCPU = "VCPU"
MEMORY_MB = "MEMORY_MB"
DISK_GB = "DISK_GB"
CLASSES = (VCPU, MEMORY_MB, DISK_GB)


def ceil_gb(mb):
    """compute.utils.convert_mb_to_ceil_gb: MB rounded up to whole GB."""
    return -(-int(mb or 0) // 1024)


def flavor_resources(flavor):
    """{class: amount} a flavor asks placement for (zero amounts left out).
    flavor: {vcpus, ram, disk, ephemeral, swap} (ram and swap in MB, disks in GB)."""
    amounts = {
        VCPU: flavor["vcpus"],
        MEMORY_MB: flavor["ram"],
        DISK_GB: flavor["disk"] + flavor.get("ephemeral", 0) + ceil_gb(flavor.get("swap", 0)),
    }
    return dict((rc, amount) for rc, amount in amounts.items() if amount)


def host_inventories(host):
    """The libvirt driver's inventory of a host (a scheduler_inputs host dict)."""
    result = {}
    for rc, total, reserved, ratio in (
            (MEMORY_MB, host["memory_mb"], host["reserved_host_memory_mb"], host["ram_allocation_ratio"]),
            (VCPU, host["vcpus"], host["reserved_host_cpus"], host["cpu_allocation_ratio"]),
            (DISK_GB, host["local_gb"], ceil_gb(host["reserved_host_disk_mb"]), host["disk_allocation_ratio"])):
        if total:
            result[rc] = {"total": int(total), "reserved": int(reserved), "min_unit": 1, "max_unit": int(total),
                          "step_size": 1, "allocation_ratio": float(ratio)}
    return result


def capacity(inventory):
    """(total - reserved) * allocation_ratio."""
    return (inventory["total"] - inventory["reserved"]) * inventory["allocation_ratio"]


def amount_fits(inventory, used, amount):
    """One class: the checks of _check_capacity_exceeded and of the candidates query."""
    if inventory is None:
        return False
    if amount < inventory["min_unit"] or amount > inventory["max_unit"] or amount % inventory["step_size"]:
        return False
    return used + amount <= capacity(inventory)


class ResourceProvider:
    """A compute node's provider: inventories, usage per class, aggregates, traits."""

    def __init__(self, name, inventories, aggregates=(), traits=()):
        self.name = name
        self.inventories = inventories
        self.usage = dict((rc, 0) for rc in inventories)
        self.aggregates = frozenset(aggregates)
        self.traits = frozenset(traits)
        self.allocations = {}

    def fits(self, resources):
        """True if every class asked for (amount > 0) fits."""
        for rc, amount in resources.items():
            if amount and not amount_fits(self.inventories.get(rc), self.usage.get(rc, 0), amount):
                return False
        return True

    def add_allocation(self, consumer, resources):
        """Record a consumer's allocation without checking it (existing instances:
        placement accepted them when they were made, whatever has changed since)."""
        self.allocations[consumer] = dict(resources)
        for rc, amount in resources.items():
            if amount:
                self.usage[rc] = self.usage.get(rc, 0) + amount

    def __repr__(self):
        return "ResourceProvider(%s, usage=%r)" % (self.name, self.usage)


class Placement:
    """The providers and the two calls the scheduler makes."""

    def __init__(self):
        self.providers = {}

    def add_provider(self, provider):
        self.providers[provider.name] = provider
        return provider

    def allocation_candidates(self, resources, member_of=None, forbidden_traits=()):
        """GET /allocation_candidates for one instance's resources: the names of
        the providers where it fits now, in the order they were added.
        member_of: aggregates of which the provider must be in at least one
        (None: no restriction). forbidden_traits: traits it must not have."""
        forbidden = frozenset(forbidden_traits)
        result = []
        for name, provider in self.providers.items():
            if member_of is not None and provider.aggregates.isdisjoint(member_of):
                continue
            if not forbidden.isdisjoint(provider.traits):
                continue
            if provider.fits(resources):
                result.append(name)
        return result

    def claim(self, name, consumer, resources):
        """PUT /allocations/{consumer} against one provider: True and recorded
        if it fits given the usage now (earlier claims included), else False (409)."""
        provider = self.providers[name]
        if not provider.fits(resources):
            return False
        provider.add_allocation(consumer, resources)
        return True
