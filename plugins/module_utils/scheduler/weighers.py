# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's host weighers (nova.scheduler.weights) and the weighing of nova.weights.

Each weigher gives a raw figure per host; the figures are normalised to 0..1
across the hosts and the host's weight is the sum of multiplier * normalised.
Higher wins. A multiplier comes from the options (Nova's names and defaults)
and, like Nova, an aggregate's metadata key of the same name overrides it
for its hosts (the smallest value if several aggregates set it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from operator import attrgetter


def normalize(weight_list, minval=None, maxval=None):
    """nova.weights.normalize: scale to 0..1 by the list's min and max (or the
    given bounds). All values equal -> all 0.0."""
    if not weight_list:
        return []
    maxval = float(max(weight_list) if maxval is None else maxval)
    minval = float(min(weight_list) if minval is None else minval)
    if minval == maxval:
        return [0.0] * len(weight_list)
    span = maxval - minval
    return [(w - minval) / span for w in weight_list]


class BaseHostWeigher:
    """option: the multiplier's option name; minval/maxval clamp the raw figures
    and replace the list's min/max in normalize(). attribute: the HostState
    attribute that is the raw figure, for weighers that just read one.

    A raw figure must depend only on the host and the request (its server
    group's members included): while placing the instances of one request,
    the scheduler weighs again only the hosts whose state changed.
    """

    name = "BaseHostWeigher"
    option = None
    default_multiplier = 1.0
    minval = None
    maxval = None
    attribute = None

    def __init__(self, multiplier=None):
        self.multiplier = float(self.default_multiplier if multiplier is None else multiplier)

    def weight_multiplier(self, host_state):
        """The option, overridden by aggregate metadata (nova.scheduler.utils.get_weight_multiplier)."""
        values = []
        for aggregate in host_state.aggregates:
            if self.option in aggregate.metadata:
                try:
                    values.append(float(aggregate.metadata[self.option]))
                except ValueError:
                    return self.multiplier
        return min(values) if values else self.multiplier

    def applies_to(self, spec_obj):
        """False when every host's raw figure is 0 for this request (it adds nothing)."""
        return True

    def _weigh_object(self, host_state, spec_obj):
        if self.attribute is None:
            raise NotImplementedError
        return getattr(host_state, self.attribute)

    def weigh_object(self, host_state, spec_obj):
        """The raw figure of one host, within minval..maxval."""
        weight = self._weigh_object(host_state, spec_obj)
        if self.minval is not None:
            weight = max(weight, self.minval)
        if self.maxval is not None:
            weight = min(weight, self.maxval)
        return weight

    def weigh_objects(self, host_states, spec_obj):
        """weigh_object for each host (in one pass where the figure is an attribute)."""
        if self.attribute is None:
            return [self.weigh_object(host_state, spec_obj) for host_state in host_states]
        return self._clamp(self.figures(host_states))

    def figures(self, host_states):
        """The attribute of each host. (A weigher may read its attribute in a
        comprehension instead: twice as fast as attrgetter.)"""
        return list(map(attrgetter(self.attribute), host_states))

    def _clamp(self, weights):
        """max(weight, minval) and min(weight, maxval) of each, as weigh_object."""
        low, high = self.minval, self.maxval
        if low is not None and weights and low > min(weights):
            weights = [low if low > weight else weight for weight in weights]
        if high is not None and weights and high < max(weights):
            weights = [high if high < weight else weight for weight in weights]
        return weights


class RAMWeigher(BaseHostWeigher):
    """free_ram_mb: positive multiplier spreads, negative packs."""

    name = "RAMWeigher"
    option = "ram_weight_multiplier"
    minval = 0
    attribute = "free_ram_mb"

    @staticmethod
    def figures(host_states):
        return [host.free_ram_mb for host in host_states]


class CPUWeigher(BaseHostWeigher):
    """Free vCPUs: vcpus_total * cpu_allocation_ratio - vcpus_used."""

    name = "CPUWeigher"
    option = "cpu_weight_multiplier"
    minval = 0
    attribute = "free_vcpus"

    @staticmethod
    def figures(host_states):
        return [host.free_vcpus for host in host_states]


class DiskWeigher(BaseHostWeigher):
    """free_disk_mb."""

    name = "DiskWeigher"
    option = "disk_weight_multiplier"
    minval = 0
    attribute = "free_disk_mb"

    @staticmethod
    def figures(host_states):
        return [host.free_disk_mb for host in host_states]


class NumInstancesWeigher(BaseHostWeigher):
    """num_instances; off by default, negative prefers emptier hosts."""

    name = "NumInstancesWeigher"
    option = "num_instances_weight_multiplier"
    default_multiplier = 0.0
    attribute = "num_instances"

    @staticmethod
    def figures(host_states):
        return [host.num_instances for host in host_states]


class _SoftAffinityWeigherBase(BaseHostWeigher):
    policy_name = None
    sign = 1

    def applies_to(self, spec_obj):
        group = spec_obj.instance_group
        return group is not None and group.policy == self.policy_name

    def _weigh_object(self, host_state, spec_obj):
        if not self.applies_to(spec_obj):
            return 0
        return self.sign * host_state.count_group_members(spec_obj.instance_group)

    def weigh_objects(self, host_states, spec_obj):
        if not self.applies_to(spec_obj):
            return [0] * len(host_states)
        group = spec_obj.instance_group
        members = group.member_set()
        return [self.sign * host.count_group_members(group, members) for host in host_states]


class ServerGroupSoftAffinityWeigher(_SoftAffinityWeigherBase):
    """soft-affinity: members of the group on the host."""

    name = "ServerGroupSoftAffinityWeigher"
    option = "soft_affinity_weight_multiplier"
    policy_name = "soft-affinity"


class ServerGroupSoftAntiAffinityWeigher(_SoftAffinityWeigherBase):
    """soft-anti-affinity: minus the members of the group on the host."""

    name = "ServerGroupSoftAntiAffinityWeigher"
    option = "soft_anti_affinity_weight_multiplier"
    policy_name = "soft-anti-affinity"
    sign = -1


class BuildFailureWeigher(BaseHostWeigher):
    """failed_builds, with the multiplier negated: recent failures sink a host."""

    name = "BuildFailureWeigher"
    option = "build_failure_weight_multiplier"
    default_multiplier = 1000000.0

    attribute = "failed_builds"

    @staticmethod
    def figures(host_states):
        return [host.failed_builds for host in host_states]

    def weight_multiplier(self, host_state):
        return -1 * super(BuildFailureWeigher, self).weight_multiplier(host_state)


ALL_WEIGHERS = [RAMWeigher, CPUWeigher, DiskWeigher, NumInstancesWeigher, ServerGroupSoftAffinityWeigher,
                ServerGroupSoftAntiAffinityWeigher, BuildFailureWeigher]
MULTIPLIER_DEFAULTS = dict((cls.option, cls.default_multiplier) for cls in ALL_WEIGHERS)


def build_weighers(multipliers=None):
    """One instance of every weigher, multipliers from {option: number};
    ValueError names an unknown option or a non-number."""
    multipliers = dict(multipliers or {})
    for option, value in multipliers.items():
        if option not in MULTIPLIER_DEFAULTS:
            raise ValueError("%s: unknown weight multiplier (known: %s)"
                             % (option, ", ".join(sorted(MULTIPLIER_DEFAULTS))))
        if isinstance(value, bool):
            raise ValueError("%s: %r is not a number" % (option, value))
        try:
            multipliers[option] = float(value)
        except (TypeError, ValueError):
            raise ValueError("%s: %r is not a number" % (option, value))
    return [cls(multipliers.get(cls.option)) for cls in ALL_WEIGHERS]


def weigh_hosts(hosts, spec_obj, weighers=None):
    """[(host_state, weight)] best first; ties go to the lower host name.

    weight = sum over weighers of weight_multiplier(host) * normalised raw figure.
    One host (or none) is not weighed: weight 0.0, as in Nova.
    """
    if weighers is None:
        weighers = build_weighers()
    hosts = list(hosts)
    totals = [0.0] * len(hosts)
    if len(hosts) > 1:
        overridden = set(key for host in hosts for aggregate in host.aggregates for key in aggregate.metadata)
        for weigher in weighers:
            per_host = weigher.option in overridden
            if not per_host and weigher.multiplier == 0:
                continue
            normalised = normalize(weigher.weigh_objects(hosts, spec_obj), weigher.minval, weigher.maxval)
            if per_host:
                for index, host in enumerate(hosts):
                    totals[index] += weigher.weight_multiplier(host) * normalised[index]
            else:
                # No aggregate overrides the option: one multiplier for all.
                multiplier = weigher.weight_multiplier(hosts[0])
                totals = [t + multiplier * n for t, n in zip(totals, normalised)]
    order = sorted(range(len(hosts)), key=lambda i: (-totals[i], hosts[i].host))
    return [(hosts[i], totals[i]) for i in order]
