# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's scheduler filters (nova.scheduler.filters), each host_passes(host_state, spec).

RamFilter, DiskFilter and CoreFilter are the pre-placement ones Nova had
before Train. Filters never change the host state. host_passes() is Nova's
test; filter_all() may use the figures HostState derives for it (its room
for each resource), and the unit tests check both agree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import operator
import re


class BaseHostFilter:
    """A filter: host_passes() says whether one host can take the instance.

    run_filter_once_per_request: the verdict cannot change between the
    instances of one request, so the scheduler only asks for the first one.

    For the later instances of a request, the scheduler asks the other filters
    again only about the hosts whose state changed: the host just chosen, and
    hosts holding an instance whose uuid the request involves (the instance
    being placed, the group member just added). So a verdict on a host must
    depend only on that host and the request, except where
    reads_group_hosts() says it also depends on the server group's hosts
    (placements elsewhere); such a filter is asked about every host again
    whenever the group's hosts change.
    """

    name = "BaseHostFilter"
    run_filter_once_per_request = False

    def host_passes(self, host_state, spec_obj):
        raise NotImplementedError

    def applies_to(self, spec_obj):
        """False when the request gives the filter nothing to check (every host passes)."""
        return True

    def reads_group_hosts(self, spec_obj):
        """True when a verdict may change with spec_obj.instance_group.hosts."""
        return False

    def filter_all(self, host_states, spec_obj, rejected=None):
        """The hosts for which host_passes() is true, in their order; the
        others are appended to the list rejected, if given, in their order.
        (A filter may do this in one pass without calling host_passes per host;
        the unit tests check both agree.)"""
        if not self.applies_to(spec_obj):
            return list(host_states)
        host_passes, reject = self.host_passes, _rejecter(rejected)
        return [host for host in host_states if host_passes(host, spec_obj) or reject(host)]

    def reason(self, spec_obj):
        """A short phrase for the hosts this filter removes (for reports)."""
        return "rejected"


def _rejecter(rejected):
    """rejected.append: in a pass `[h for h in hosts if passes(h) or reject(h)]`
    it keeps a rejected host (and returns None, so the host is left out) at no
    cost for the hosts that pass."""
    return (rejected if rejected is not None else []).append


# ----------------------------------------------------------------- resources
class RamFilter(BaseHostFilter):
    """Enough RAM: used + requested <= memory_mb * ram_allocation_ratio."""

    name = "RamFilter"

    def host_passes(self, host_state, spec_obj):
        requested = spec_obj.memory_mb
        total = host_state.total_usable_ram_mb
        # An instance may overcommit against others, never against itself.
        if total < requested:
            return False
        used = total - host_state.free_ram_mb
        return total * host_state.ram_allocation_ratio - used >= requested

    def filter_all(self, host_states, spec_obj, rejected=None):
        requested, reject = float(spec_obj.memory_mb), _rejecter(rejected)
        return [h for h in host_states if h.ram_room_mb >= requested or reject(h)]     # both conditions at once

    def reason(self, spec_obj):
        return "less than %d MB RAM usable" % spec_obj.memory_mb


class DiskFilter(BaseHostFilter):
    """Enough disk for root + ephemeral + swap: used + requested <= local_gb * 1024 * ratio."""

    name = "DiskFilter"

    def host_passes(self, host_state, spec_obj):
        requested = 1024 * (spec_obj.root_gb + spec_obj.ephemeral_gb) + spec_obj.swap
        total = host_state.total_usable_disk_gb * 1024
        if total < requested:
            return False
        used = total - host_state.free_disk_mb
        return total * host_state.disk_allocation_ratio - used >= requested

    def filter_all(self, host_states, spec_obj, rejected=None):
        requested = float(1024 * (spec_obj.root_gb + spec_obj.ephemeral_gb) + spec_obj.swap)
        reject = _rejecter(rejected)
        return [h for h in host_states if h.disk_room_mb >= requested or reject(h)]

    def reason(self, spec_obj):
        return "less than %d MB disk usable" % (
            1024 * (spec_obj.root_gb + spec_obj.ephemeral_gb) + spec_obj.swap)


class CoreFilter(BaseHostFilter):
    """Enough vCPUs: vcpus_used + requested <= vcpus * cpu_allocation_ratio."""

    name = "CoreFilter"

    def host_passes(self, host_state, spec_obj):
        if not host_state.vcpus_total:
            # Nova's fail-safe: no vCPU count means CPU collection is broken.
            return True
        requested = spec_obj.vcpus
        if requested > host_state.vcpus_total:
            return False
        limit = host_state.vcpus_total * host_state.cpu_allocation_ratio
        return limit - host_state.vcpus_used >= requested

    def filter_all(self, host_states, spec_obj, rejected=None):
        requested, reject = float(spec_obj.vcpus), _rejecter(rejected)
        return [h for h in host_states if h.vcpu_room >= requested or reject(h)]

    def reason(self, spec_obj):
        return "fewer than %d vCPUs usable" % spec_obj.vcpus


# ------------------------------------------------------------ host properties
class ComputeFilter(BaseHostFilter):
    """The compute service is enabled and up."""

    name = "ComputeFilter"
    run_filter_once_per_request = True

    def host_passes(self, host_state, spec_obj):
        return host_state.enabled and host_state.up

    def filter_all(self, host_states, spec_obj, rejected=None):
        reject = _rejecter(rejected)
        return [h for h in host_states if (h.enabled and h.up) or reject(h)]

    def reason(self, spec_obj):
        return "down or disabled"


def aggregate_metadata_get_by_host(host_state, key=None):
    """{key: set(values)} over the host's aggregates; comma lists are split."""
    metadata = {}
    for aggregate in host_state.aggregates:
        if key is None or key in aggregate.metadata:
            for k, v in aggregate.metadata.items():
                metadata.setdefault(k, set()).update(x.strip() for x in v.split(","))
    return metadata


class AvailabilityZoneFilter(BaseHostFilter):
    """The host is in the requested zone (its own, or an aggregate's availability_zone)."""

    name = "AvailabilityZoneFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.availability_zone)

    def host_passes(self, host_state, spec_obj):
        zone = spec_obj.availability_zone
        if not zone:
            return True
        zones = aggregate_metadata_get_by_host(host_state, "availability_zone").get("availability_zone", set())
        return zone == host_state.availability_zone or zone in zones

    def reason(self, spec_obj):
        return "not in zone %s" % spec_obj.availability_zone


# nova.scheduler.filters.extra_specs_ops
_EXTRA_SPEC_OPS = {
    "=": lambda x, y: float(x) >= float(y),
    "<in>": lambda x, y: y in x,
    "<all-in>": lambda x, y: all(val in x for val in y),
    "==": lambda x, y: float(x) == float(y),
    "!=": lambda x, y: float(x) != float(y),
    ">=": lambda x, y: float(x) >= float(y),
    "<=": lambda x, y: float(x) <= float(y),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
}


def extra_spec_matches(value, requirement):
    """Does a host value satisfy an extra spec such as '>= 4', '<in> ssd' or '<or> a <or> b'?"""
    words = requirement.split()
    op = words.pop(0) if words else None
    method = _EXTRA_SPEC_OPS.get(op)
    if op != "<or>" and method is None:
        return value == requirement
    if value is None:
        return False
    if op == "<or>":
        return value in words[0::2]
    if not words:
        return False
    try:
        return bool(method(value, words if op == "<all-in>" else words[0]))
    except ValueError:
        return False


class AggregateInstanceExtraSpecsFilter(BaseHostFilter):
    """Every flavor extra spec (unscoped, or scoped 'aggregate_instance_extra_specs:')
    matches the metadata of one of the host's aggregates; other scopes are ignored."""

    name = "AggregateInstanceExtraSpecsFilter"
    run_filter_once_per_request = True
    SCOPE = "aggregate_instance_extra_specs"

    def applies_to(self, spec_obj):
        return bool(spec_obj.flavor.extra_specs)

    def host_passes(self, host_state, spec_obj):
        extra_specs = spec_obj.flavor.extra_specs
        if not extra_specs:
            return True
        metadata = aggregate_metadata_get_by_host(host_state)
        for key, requirement in extra_specs.items():
            scope = key.split(":", 1)
            if len(scope) > 1:
                if scope[0] != self.SCOPE:
                    continue
                key = scope[1]
            values = metadata.get(key)
            if not values:
                return False
            if not any(extra_spec_matches(value, requirement) for value in sorted(values)):
                return False
        return True

    def reason(self, spec_obj):
        return "no aggregate matches the flavor's extra specs"


# nova.objects.fields canonical names
_ARCH_ALIASES = {"i386": "i686", "i486": "i686", "i586": "i686", "x86_32": "i686", "x86_32p": "i686",
                 "amd64": "x86_64"}
_VM_MODE_ALIASES = {"pv": "xen", "hv": "hvm", "baremetal": "hvm"}
_HV_TYPE_ALIASES = {"xapi": "xen"}


def _canonical(value, aliases):
    if value is None or value == "":
        return None
    value = str(value).lower()
    return aliases.get(value, value)


def version_int_to_str(version):
    """oslo versionutils.convert_version_to_str: 8002001 -> '8.2.1'."""
    parts = []
    version = int(version)
    while version:
        parts.insert(0, str(version % 1000))
        version //= 1000
    return ".".join(parts)


def _version_tuple(text):
    parts = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        parts.append(int(match.group(0)) if match else 0)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


_PREDICATE = re.compile(r"^\s*(<=|>=|<|>|!=|==)\s*([^\s,]+)\s*$")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


def version_satisfies(version, predicate):
    """oslo VersionPredicate: '>= 6.0, < 9' against a version string."""
    have = _version_tuple(version)
    for clause in predicate.split(","):
        match = _PREDICATE.match(clause)
        if not match:
            raise ValueError("bad version predicate %r" % predicate)
        if not _COMPARE[match.group(1)](have, _version_tuple(match.group(2))):
            return False
    return True


class ImagePropertiesFilter(BaseHostFilter):
    """The host supports the image's hw_architecture, img_hv_type and hw_vm_mode
    (legacy names architecture, hypervisor_type, vm_mode) and satisfies
    img_hv_requested_version. img_hv_type 'qemu' fits any QEMU host, 'kvm' only
    a host whose virt_type is kvm (see HostState.supported_instances)."""

    name = "ImagePropertiesFilter"
    run_filter_once_per_request = True

    @staticmethod
    def _wanted(image):
        """(arch, hv_type, vm_mode) the image asks for, canonical; None where it does not."""
        if image is None:
            return (None, None, None)
        return (_canonical(image.get("hw_architecture"), _ARCH_ALIASES),
                _canonical(image.get("img_hv_type"), _HV_TYPE_ALIASES),
                _canonical(image.get("hw_vm_mode"), _VM_MODE_ALIASES))

    def applies_to(self, spec_obj):
        return any(self._wanted(spec_obj.image))

    def host_passes(self, host_state, spec_obj):
        wanted = self._wanted(spec_obj.image)
        if not any(wanted):
            return True
        return self._supports(host_state, wanted, spec_obj.image)

    def filter_all(self, host_states, spec_obj, rejected=None):
        wanted = self._wanted(spec_obj.image)
        if not any(wanted):
            return list(host_states)
        # _supports in one pass: the capabilities are decided once per distinct
        # object (HostState shares equal ones, so most hosts have the first
        # host's), the version once per version.
        host_states = list(host_states)
        if not host_states:
            return []
        common = host_states[0].supported_instances
        verdicts = {}

        def capable(triplets):
            key = id(triplets)
            if key not in verdicts:
                verdicts[key] = self._capable(wanted, triplets)
            return verdicts[key]
        reject = _rejecter(rejected)
        image = spec_obj.image
        if image.get("img_hv_requested_version"):
            versions = set(host.hypervisor_version for host in host_states)
            version_ok = dict((version, self._version_ok(version, image)) for version in versions)
            return [h for h in host_states
                    if (capable(h.supported_instances) and version_ok[h.hypervisor_version]) or reject(h)]
        if capable(common):
            return [h for h in host_states
                    if h.supported_instances is common or capable(h.supported_instances) or reject(h)]
        return [h for h in host_states
                if (h.supported_instances is not common and capable(h.supported_instances)) or reject(h)]

    @staticmethod
    def _matches(wanted, triplet):
        return all(w is None or w == s for w, s in zip(wanted, triplet))

    def _capable(self, wanted, triplets):
        return any(self._matches(wanted, triplet) for triplet in triplets)

    def _supports(self, host_state, wanted, image):
        for supported in host_state.supported_instances:
            if self._matches(wanted, supported):
                if self._version_ok(host_state.hypervisor_version, image):
                    return True
        return False

    @staticmethod
    def _version_ok(hypervisor_version, image):
        required = image.get("img_hv_requested_version")
        if not (hypervisor_version and required):
            return True
        try:
            return version_satisfies(version_int_to_str(hypervisor_version), str(required))
        except ValueError:
            return False

    def reason(self, spec_obj):
        return "does not support the image's properties"


# ------------------------------------------------------------- server groups
class ServerGroupAntiAffinityFilter(BaseHostFilter):
    """anti-affinity: fewer than max_server_per_host (default 1) group members on the host."""

    name = "ServerGroupAntiAffinityFilter"
    policy_name = "anti-affinity"

    def applies_to(self, spec_obj):
        group = spec_obj.instance_group
        return group is not None and group.policy == self.policy_name

    def host_passes(self, host_state, spec_obj):
        group = spec_obj.instance_group
        if group is None or group.policy != self.policy_name:
            return True
        if spec_obj.instance_uuid is not None and spec_obj.instance_uuid in host_state.instances:
            return True
        return host_state.count_group_members(group) < group.max_server_per_host

    def filter_all(self, host_states, spec_obj, rejected=None):
        if not self.applies_to(spec_obj):
            return list(host_states)
        group = spec_obj.instance_group
        uuid = spec_obj.instance_uuid
        members = group.member_set()
        limit = group.max_server_per_host
        reject = _rejecter(rejected)
        return [host for host in host_states if (uuid is not None and uuid in host.instances)
                or host.count_group_members(group, members) < limit or reject(host)]

    def reason(self, spec_obj):
        group = spec_obj.instance_group
        return "already holds %d member(s) of group %s" % (
            group.max_server_per_host if group else 1, group.name if group else "?")


class ServerGroupAffinityFilter(BaseHostFilter):
    """affinity: once the group has hosts, only those hosts."""

    name = "ServerGroupAffinityFilter"
    policy_name = "affinity"

    def applies_to(self, spec_obj):
        group = spec_obj.instance_group
        return group is not None and group.policy == self.policy_name

    def reads_group_hosts(self, spec_obj):
        return self.applies_to(spec_obj)

    def host_passes(self, host_state, spec_obj):
        group = spec_obj.instance_group
        if group is None or group.policy != self.policy_name:
            return True
        if group.hosts:
            return host_state.host in group.hosts
        return True

    def reason(self, spec_obj):
        group = spec_obj.instance_group
        return "not a host of group %s" % (group.name if group else "?")


# ---------------------------------------------------------- same/different host
class SameHostFilter(BaseHostFilter):
    """same_host hint: the host holds one of the named instances (uuid or name)."""

    name = "SameHostFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.get_scheduler_hint("same_host"))

    def host_passes(self, host_state, spec_obj):
        wanted = spec_obj.get_scheduler_hint("same_host")
        if not wanted:
            return True
        return any(host_state.holds_instance(value) for value in wanted)

    def reason(self, spec_obj):
        return "holds none of %s" % ", ".join(spec_obj.get_scheduler_hint("same_host") or [])


class DifferentHostFilter(BaseHostFilter):
    """different_host hint: the host holds none of the named instances (uuid or name)."""

    name = "DifferentHostFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.get_scheduler_hint("different_host"))

    def host_passes(self, host_state, spec_obj):
        avoid = spec_obj.get_scheduler_hint("different_host")
        if not avoid:
            return True
        return not any(host_state.holds_instance(value) for value in avoid)

    def reason(self, spec_obj):
        return "holds one of %s" % ", ".join(spec_obj.get_scheduler_hint("different_host") or [])


DEFAULT_FILTERS = [
    "ComputeFilter",
    "AvailabilityZoneFilter",
    "RamFilter",
    "DiskFilter",
    "CoreFilter",
    "AggregateInstanceExtraSpecsFilter",
    "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
    "SameHostFilter",
    "DifferentHostFilter",
]

ALL_FILTERS = dict((cls.name, cls) for cls in (
    ComputeFilter, AvailabilityZoneFilter, RamFilter, DiskFilter, CoreFilter,
    AggregateInstanceExtraSpecsFilter, ImagePropertiesFilter, ServerGroupAntiAffinityFilter,
    ServerGroupAffinityFilter, SameHostFilter, DifferentHostFilter))
