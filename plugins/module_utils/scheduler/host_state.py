# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.host_manager.HostState, built from what nova_host_facts reports.

No I/O: HostState.from_facts(facts, config) turns a hypervisor's facts and its
inventory settings into the figures the filters and weighers read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from operator import attrgetter

from ansible_collections.novalite.compute.plugins.module_utils.placement import allocation_candidates
from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import (
    DISK_GB, MEMORY_MB, VCPU, compute_node_inventories, resources_from_flavor)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor, Instance

# The HostState attribute holding the node's room in each resource class.
ROOM_OF = {VCPU: "vcpu_room", MEMORY_MB: "memory_mb_room", DISK_GB: "disk_gb_room"}

# Nova's defaults for the per-hypervisor settings.
CONFIG_DEFAULTS = {
    "availability_zone": "nova",
    "aggregates": (),
    "cpu_allocation_ratio": 4.0,
    "ram_allocation_ratio": 1.0,
    "disk_allocation_ratio": 1.0,
    "reserved_host_memory_mb": 512,
    "reserved_host_disk_mb": 0,
    "reserved_host_cpus": 0,
    "enabled": True,
    "up": True,
    "failed_builds": 0,
}
RATIO_OPTIONS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")
RESERVED_OPTIONS = ("reserved_host_memory_mb", "reserved_host_disk_mb", "reserved_host_cpus")


class Aggregate:
    """A host aggregate: a name and string metadata. Treated as read-only: hosts
    given the same aggregate as a dict share one object, as in Nova."""

    __slots__ = ("name", "metadata")

    def __init__(self, name, metadata=None):
        self.name = name
        self.metadata = dict((str(k), str(v)) for k, v in (metadata or {}).items())

    def __repr__(self):
        return "Aggregate(%r, %r)" % (self.name, self.metadata)


def _number(field, value, cast):
    try:
        number = cast(value)
    except (TypeError, ValueError):
        raise ValueError("%s: %r is not a number" % (field, value))
    if isinstance(value, bool) or number < 0:
        raise ValueError("%s: %r must be a non-negative number" % (field, value))
    return number


# The attributes a HostShape stands for.
SHAPE = ("enabled", "up", "availability_zone", "aggregates", "supported_instances", "hypervisor_version")

_TRIPLETS = {}
_SHAPES = {}
_AGGREGATES = {}
_AGGREGATE_TUPLES = {}
_METADATA_KEYS = {}
_VALUES = {}


def _shared(table, value):
    """One object for equal values of a type (hosts alike share it)."""
    try:
        return table.setdefault((type(value), value), value)
    except TypeError:       # unhashable: not shared
        return value


def _shared_aggregate(data):
    """The Aggregate for a {name, metadata} dict, one object for equal dicts."""
    aggregate = Aggregate(data.get("name"), data.get("metadata"))
    key = (aggregate.name, tuple(sorted(aggregate.metadata.items())))
    return _AGGREGATES.setdefault(key, aggregate)


def _shared_metadata_keys(aggregates):
    """The frozenset of the metadata keys of aggregates, one object for equal sets."""
    keys = frozenset(key for aggregate in aggregates for key in aggregate.metadata)
    return _shared(_METADATA_KEYS, keys)


class HostShape:
    """The hosts equal in SHAPE share one (hashed by identity: a quick key).
    aggregate_metadata: their aggregates' metadata, once a filter has asked
    (filters/utils.py aggregate_metadata_get_by_host)."""

    __slots__ = ("values", "aggregate_metadata")

    def __init__(self, values):
        self.values = values      # the shared objects themselves (their ids key _SHAPES)
        self.aggregate_metadata = None


def _shared_shape(host_state):
    values = tuple(getattr(host_state, name) for name in SHAPE)
    key = tuple(map(id, values))
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _SHAPES[key] = HostShape(values)     # holds the objects: their ids stay theirs
    return shape


def _shared_triplets(supported_instances):
    """A tuple of (arch, hv_type, vm_mode) tuples, the same object for equal contents
    (hosts alike share it, and filters decide once per distinct object)."""
    triplets = tuple(tuple(s) for s in supported_instances)
    return _shared(_TRIPLETS, triplets)


def _supported_instances(cpu_arch, virt_type):
    """(arch, hv_type, vm_mode) triplets, as the libvirt driver derives them from
    the capabilities: every QEMU host runs 'qemu' (TCG) domains, a KVM host also
    'kvm'; an x86_64 host also runs i686 guests."""
    if not cpu_arch:
        return []
    arches = [cpu_arch.lower()]
    if arches[0] == "x86_64":
        arches.append("i686")
    hv_types = ["qemu"] + (["kvm"] if (virt_type or "").lower() == "kvm" else [])
    return [(arch, hv_type, "hvm") for arch in arches for hv_type in hv_types]


class HostState:
    """What the scheduler knows of one compute node: placement's view and Nova's.

    Placement's view (what decides whether an instance fits, placement/):

      inventories          {VCPU, MEMORY_MB, DISK_GB: Inventory} as the libvirt
                           driver reports them (total, reserved, allocation ratio)
      usages               {class: used}, the instances' allocations (facts.vcpus_used,
                           memory_mb_used, local_gb_used; reserved not included)
      vcpu_room, memory_mb_room, disk_gb_room
                           the largest amount of each class that fits,
                           min(total, (total - reserved) * ratio - used)

    Nova's figures (what the weighers read), as the resource tracker makes them,
    where *_used include the reserved amounts:

      vcpus_used           = facts.vcpus_used + reserved_host_cpus
      free_ram_mb          = memory_mb - reserved_host_memory_mb - facts.memory_mb_used
      free_disk_mb         = (local_gb - local_gb_used) * 1024, local_gb_used in whole GB as
                             the tracker keeps it: reserved_host_disk_mb / 1024 and each
                             instance's swap / 1024 truncated (facts.local_gb_used has the
                             swap rounded up, as placement allocates it)
      free_vcpus           = vcpus * cpu_allocation_ratio - vcpus_used (CPUWeigher's figure)
      total_usable_ram_mb  = memory_mb;  total_usable_disk_gb = local_gb;  vcpus_total = vcpus

    A down host (facts None) has all figures 0. consume_from_request changes both views
    the way Nova does within one request: the claim adds the flavor's resources to the
    usages; HostState.consume_from_request takes RAM, root and ephemeral disk (not swap)
    and vCPUs from Nova's figures.

    group_counts is {server group name: live instances tagged with it}.
    metadata_keys is the keys of the aggregates' metadata (a frozenset). Hosts with
    equal aggregates, metadata_keys, supported_instances, availability_zone or
    hypervisor_version share one object for it, so a filter that reads only those
    decides once per distinct object. shape is one object for the hosts equal in
    all of SHAPE (set when the host state is made: those attributes are not changed
    afterwards), so such a filter decides once per shape (filters/base.py).

    The free figures and the rooms are floats (exact for any integer up to 2**53):
    the filters and weighers then compare and divide float by float, which CPython
    does faster than int by float.
    """

    # Slots: the scheduler reads a few figures of every host in each pass;
    # the hot ones come first.
    __slots__ = ("host", "enabled", "up", "memory_mb_room", "disk_gb_room", "vcpu_room", "shape", "supported_instances",
                 "metadata_keys", "free_ram_mb", "free_vcpus", "free_disk_mb", "failed_builds", "instances",
                 "num_instances", "group_counts", "aggregates", "availability_zone", "hypervisor_version",
                 "nodename", "hypervisor_type", "virt_type", "cpu_arch", "cpu_allocation_ratio",
                 "ram_allocation_ratio", "disk_allocation_ratio", "reserved_host_memory_mb",
                 "reserved_host_disk_mb", "reserved_host_cpus", "vcpus_total", "vcpus_used",
                 "total_usable_ram_mb", "memory_mb_used", "total_usable_disk_gb", "disk_mb_used",
                 "inventories", "usages")

    def __init__(self, host, nodename=None, hypervisor_type=None, hypervisor_version=0, virt_type=None,
                 cpu_arch=None, vcpus=0, vcpus_used=0, memory_mb=0, memory_mb_used=0, local_gb=0,
                 local_gb_used=0, instances=None, availability_zone="nova", aggregates=None,
                 cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0, disk_allocation_ratio=1.0,
                 reserved_host_memory_mb=512, reserved_host_disk_mb=0, reserved_host_cpus=0,
                 enabled=True, up=True, failed_builds=0, supported_instances=None):
        if not isinstance(host, str) or not host:
            raise ValueError("name: a host state needs a host name")
        self.host = host
        self.nodename = nodename or host
        self.hypervisor_type = hypervisor_type
        self.hypervisor_version = _shared(_VALUES, hypervisor_version or 0)
        self.virt_type = virt_type
        self.cpu_arch = cpu_arch
        self.availability_zone = _shared(_VALUES, availability_zone or "nova")
        self.aggregates = _shared(_AGGREGATE_TUPLES, tuple(
            a if isinstance(a, Aggregate) else _shared_aggregate(a) for a in (aggregates or ())))
        self.metadata_keys = _shared_metadata_keys(self.aggregates)
        self.cpu_allocation_ratio = _number("cpu_allocation_ratio", cpu_allocation_ratio, float)
        self.ram_allocation_ratio = _number("ram_allocation_ratio", ram_allocation_ratio, float)
        self.disk_allocation_ratio = _number("disk_allocation_ratio", disk_allocation_ratio, float)
        self.reserved_host_memory_mb = _number("reserved_host_memory_mb", reserved_host_memory_mb, int)
        self.reserved_host_disk_mb = _number("reserved_host_disk_mb", reserved_host_disk_mb, int)
        self.reserved_host_cpus = _number("reserved_host_cpus", reserved_host_cpus, int)
        self.enabled = bool(enabled)
        self.up = bool(up)
        self.failed_builds = _number("failed_builds", failed_builds or 0, int)

        self.vcpus_total = int(vcpus)
        self.vcpus_used = int(vcpus_used) + self.reserved_host_cpus
        self.total_usable_ram_mb = int(memory_mb)
        self.memory_mb_used = int(memory_mb_used) + self.reserved_host_memory_mb
        self.free_ram_mb = float(self.total_usable_ram_mb - self.memory_mb_used)
        self.total_usable_disk_gb = int(local_gb)
        instances = [i if isinstance(i, Instance) else Instance.from_dict(i, host=host) for i in instances or ()]
        swap_rounded_up = sum(1 for instance in instances if instance.flavor.swap % 1024)
        self.disk_mb_used = (self.reserved_host_disk_mb // 1024 + int(local_gb_used) - swap_rounded_up) * 1024
        self.free_disk_mb = float(self.total_usable_disk_gb * 1024 - self.disk_mb_used)
        self.free_vcpus = self.vcpus_total * self.cpu_allocation_ratio - self.vcpus_used
        self.inventories = compute_node_inventories(
            self.vcpus_total, self.total_usable_ram_mb, self.total_usable_disk_gb, self.reserved_host_cpus,
            self.reserved_host_memory_mb, self.reserved_host_disk_mb, self.cpu_allocation_ratio,
            self.ram_allocation_ratio, self.disk_allocation_ratio)
        self.usages = {VCPU: int(vcpus_used), MEMORY_MB: int(memory_mb_used), DISK_GB: int(local_gb_used)}
        self._update_rooms()
        if supported_instances is None:
            supported_instances = _supported_instances(cpu_arch, virt_type)
        self.supported_instances = _shared_triplets(supported_instances)
        self.shape = _shared_shape(self)

        self.instances = {}
        self.group_counts = {}
        self.num_instances = 0
        for instance in instances:
            self._add_instance(instance)

    @classmethod
    def from_facts(cls, facts, config=None):
        """Build from nova_host_facts' dict and the hypervisor's settings.

        Missing settings take Nova's defaults (CONFIG_DEFAULTS); unknown keys
        are ignored. facts None (host unreachable) gives a down host, with no
        figures and unbounded rooms.
        """
        conf = dict(CONFIG_DEFAULTS)
        conf.update((k, v) for k, v in (config or {}).items() if v is not None)
        facts = facts or None
        host = conf.get("name") or (facts or {}).get("hypervisor_hostname")
        if not host:
            raise ValueError("name: the config names no host and there are no facts")
        kwargs = dict((key, conf[key]) for key in CONFIG_DEFAULTS)
        if facts is None:
            # Placement keeps the last inventory of a host that stopped answering, which
            # its missing facts cannot tell: it passes placement, and ComputeFilter names it.
            kwargs["up"] = False
            state = cls(host, **kwargs)
            state.vcpu_room = state.memory_mb_room = state.disk_gb_room = float("inf")
            return state
        return cls(
            host,
            nodename=facts.get("hypervisor_hostname"),
            hypervisor_type=facts.get("hypervisor_type"),
            hypervisor_version=facts.get("hypervisor_version") or 0,
            virt_type=facts.get("virt_type"),
            cpu_arch=facts.get("cpu_arch"),
            vcpus=facts.get("vcpus") or 0,
            vcpus_used=facts.get("vcpus_used") or 0,
            memory_mb=facts.get("memory_mb") or 0,
            memory_mb_used=facts.get("memory_mb_used") or 0,
            local_gb=facts.get("local_gb") or 0,
            local_gb_used=facts.get("local_gb_used") or 0,
            instances=facts.get("instances") or (),
            supported_instances=facts.get("supported_instances"),
            **kwargs)

    # ------------------------------------------------------------ derived figures
    @property
    def ratios(self):
        return dict((key, getattr(self, key)) for key in RATIO_OPTIONS)

    @property
    def reserved(self):
        return dict((key, getattr(self, key)) for key in RESERVED_OPTIONS)

    def _update_rooms(self):
        """The rooms of placement's view, from the inventories and usages."""
        inventories, usages = self.inventories, self.usages
        self.vcpu_room = allocation_candidates.room(inventories.get(VCPU), usages[VCPU])
        self.memory_mb_room = allocation_candidates.room(inventories.get(MEMORY_MB), usages[MEMORY_MB])
        self.disk_gb_room = allocation_candidates.room(inventories.get(DISK_GB), usages[DISK_GB])

    @property
    def rooms(self):
        """{resource class: room}."""
        return dict((rc, getattr(self, attribute)) for rc, attribute in ROOM_OF.items())

    def fits(self, resources):
        """Placement's check: the resources ({class: amount}) fit on this node now."""
        return allocation_candidates.fits(self.rooms, resources)

    def holds_instance(self, uuid_or_name):
        """True if a live instance with this uuid or name is on the host."""
        instance = self.instances.get(uuid_or_name)
        if instance is not None and not instance.deleted:
            return True
        return any(i.name == uuid_or_name and not i.deleted for i in self.instances.values())

    def count_group_members(self, group, member_set=None):
        """Members of the server group on this host: live instances whose
        server_group is the group's name, or whose uuid is in group.members.
        member_set: group.member_set(), if the caller has it."""
        if member_set is None:
            member_set = group.member_set()
        count = self.group_counts.get(group.name, 0)
        if member_set is not None:
            if member_set.isdisjoint(self.instances):
                return count
            for uuid in member_set.intersection(self.instances):
                instance = self.instances[uuid]
                if not instance.deleted and instance.server_group != group.name:
                    count += 1
            return count
        for uuid in group.members:      # a uuid listed twice counts twice
            instance = self.instances.get(uuid)
            if instance is not None and not instance.deleted and instance.server_group != group.name:
                count += 1
        return count

    # ------------------------------------------------------------ consumption
    def _add_instance(self, instance):
        key = instance.uuid or "(unnamed-%d)" % len(self.instances)
        self.instances[key] = instance
        if not instance.deleted:
            self.num_instances += 1
            if instance.server_group:
                self.group_counts[instance.server_group] = self.group_counts.get(instance.server_group, 0) + 1

    def consume_instance(self, instance_or_flavor, server_group=None):
        """Account an instance (or a bare flavor) placed here within a request, as Nova
        does: placement's usages grow by the flavor's resources (the claim); vCPUs, RAM,
        root and ephemeral disk (not swap: HostState.consume_from_request leaves it out)
        come off Nova's figures; num_instances and the instance itself (so group and
        same/different-host checks see it)."""
        if isinstance(instance_or_flavor, Flavor):
            instance = Instance("(scheduled-%d)" % len(self.instances), None, instance_or_flavor,
                                server_group=server_group, host=self.host)
        else:
            instance = instance_or_flavor
            if server_group is not None and server_group != instance.server_group:
                instance = Instance(instance.uuid, instance.name, instance.flavor, instance.vm_state,
                                    instance.task_state, server_group, instance.project_id, instance.host)
        flavor = instance.flavor
        self.usages = dict(self.usages)
        for rc, amount in resources_from_flavor(flavor).items():
            self.usages[rc] += amount
        self._update_rooms()
        disk_mb = (flavor.disk + flavor.ephemeral) * 1024
        self.vcpus_used += flavor.vcpus
        self.free_vcpus -= flavor.vcpus
        self.memory_mb_used += flavor.ram
        self.free_ram_mb -= flavor.ram
        self.disk_mb_used += disk_mb
        self.free_disk_mb -= disk_mb
        self._add_instance(instance)
        return instance

    def consume_from_request(self, spec, instance_uuid=None, name=None):
        """HostState.consume_from_request: take one instance of the spec."""
        group = spec.instance_group.name if spec.instance_group is not None else None
        uuid = instance_uuid or spec.instance_uuid or "(scheduled-%d)" % len(self.instances)
        return self.consume_instance(Instance(uuid, name, spec.flavor, "building", "scheduling", group,
                                              spec.project_id, self.host))

    def copy(self):
        """An independent copy (instances and counters copied; aggregates shared)."""
        new = object.__new__(type(self))
        for name, value in zip(HostState.__slots__, _SLOT_VALUES(self)):
            setattr(new, name, value)
        new.instances = dict(self.instances)
        new.group_counts = dict(self.group_counts)
        return new

    def __repr__(self):
        return ("HostState(%s: ram %d MB free of %d, disk %d MB free, vcpus %d/%d, %d instances%s)"
                % (self.host, self.free_ram_mb, self.total_usable_ram_mb, self.free_disk_mb,
                   self.vcpus_used, self.vcpus_total, self.num_instances,
                   "" if self.up and self.enabled else ", down" if not self.up else ", disabled"))


_SLOT_VALUES = attrgetter(*HostState.__slots__)
