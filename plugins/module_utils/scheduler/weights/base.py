# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.BaseHostWeigher (nova.weights.BaseWeigher) and nova.weights.normalize.

A weigher gives one host's raw figure, _weigh_object(host_state, spec_obj); the
scheduler normalises each weigher's figures to 0..1 over the hosts, and a host's
weight is the sum of multiplier * normalised figure (scheduler/weighing.py).
Higher wins. A multiplier comes from the options (Nova's names and defaults)
and, like Nova, an aggregate's metadata key of the same name overrides it for
its hosts (the smallest value if several aggregates set it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from itertools import repeat
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


# The figures the weighers read, a column at a time: a comprehension that names the
# slot is read about twice as fast by CPython as the same slot through attrgetter.
def _free_ram_mb(hosts):
    return [host.free_ram_mb for host in hosts]


def _free_vcpus(hosts):
    return [host.free_vcpus for host in hosts]


def _free_disk_mb(hosts):
    return [host.free_disk_mb for host in hosts]


def _failed_builds(hosts):
    return [host.failed_builds for host in hosts]


def _num_instances(hosts):
    return [host.num_instances for host in hosts]


_COLUMNS = {"free_ram_mb": _free_ram_mb, "free_vcpus": _free_vcpus, "free_disk_mb": _free_disk_mb,
            "failed_builds": _failed_builds, "num_instances": _num_instances}


def column(hosts, attribute):
    """[host.<attribute> for each host] (HostState attributes)."""
    read = _COLUMNS.get(attribute)
    return read(hosts) if read is not None else list(map(attrgetter(attribute), hosts))


class BaseHostWeigher:
    """option: the multiplier's option name; minval/maxval clamp the raw figures
    and replace the list's min/max in normalize().

    attribute: a weigher whose raw figure is one HostState attribute names it,
    and _weigh_object and weigh_objects follow; other weighers define
    _weigh_object.

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
        """weigh_object of each host (nova.weights.BaseWeigher.weigh_objects)."""
        if self.attribute is None:
            weigh = self._weigh_object
            weights = [weigh(host_state, spec_obj) for host_state in host_states]
        else:
            weights = column(host_states, self.attribute)
        if self.minval is not None and weights and min(weights) < self.minval:
            weights = list(map(max, weights, repeat(self.minval)))
        if self.maxval is not None and weights and max(weights) > self.maxval:
            weights = list(map(min, weights, repeat(self.maxval)))
        return weights
