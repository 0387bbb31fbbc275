# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.BaseHostFilter (nova/scheduler/filters/__init__.py), and the one
way filters are applied to many hosts, derived from host_passes.

A filter defines host_passes(host_state, spec_obj) only. partition() applies it to
every host; partition_each() applies a list of filters in turn, as the scheduler
runs them. Both may be quicker than calling host_passes on each host, derived from
the same definition: host_inputs(spec_obj) names the HostState attributes the verdict
reads; where those are within the host's shape (host_state.SHAPE), the hosts of one
shape share one verdict (hosts alike share a shape, so most hosts share a handful),
and consecutive such filters are asked once per shape, in their order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from itertools import compress
from operator import not_

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import SHAPE

SHAPE_SET = frozenset(SHAPE)


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

    def host_inputs(self, spec_obj):
        """The HostState attributes host_passes reads for this request, if the filter says
        (hosts holding the same objects there share a verdict)."""
        return ()

    def reason(self, spec_obj):
        """A short phrase for the hosts this filter removes (for reports)."""
        return "rejected"

    def filter_all(self, host_states, spec_obj):
        """nova.filters.BaseFilter.filter_all: the hosts that pass, in their order."""
        return list(self.partition(list(host_states), spec_obj)[0])

    def partition(self, hosts, spec_obj):
        """(the hosts of the list hosts for which host_passes is true, the others), each
        in their order; hosts itself when all pass."""
        if not hosts or not self.applies_to(spec_obj):
            return hosts, []
        if self.reads_shape_only(spec_obj):
            passed, (rejected,) = partition_by_shape([self], hosts, spec_obj)
            return passed, rejected
        host_passes = self.host_passes
        return split(hosts, [host_passes(host, spec_obj) for host in hosts])

    def reads_shape_only(self, spec_obj):
        """True when host_inputs are all in the host's shape (one verdict per shape)."""
        inputs = self.host_inputs(spec_obj)
        return bool(inputs) and SHAPE_SET.issuperset(inputs)


def partition_each(host_filters, hosts, spec_obj):
    """Each filter over the hosts the previous one passed (as Nova's filter handler runs
    them), until none is left: (the hosts that passed all, [(filter, how many hosts it
    was given, the hosts it rejected)] for the filters that ran). Consecutive filters
    that read only the shape (or do not apply) are asked together, once per shape."""
    steps = []
    start = 0
    while start < len(host_filters) and hosts:
        end = start + 1
        while end < len(host_filters) and _shape_or_idle(host_filters[end], spec_obj):
            end += 1
        if end - start > 1 and _shape_or_idle(host_filters[start], spec_obj):
            given = len(hosts)
            hosts, rejected_each = partition_by_shape(host_filters[start:end], hosts, spec_obj)
            for host_filter, rejected in zip(host_filters[start:end], rejected_each):
                if not given:
                    break
                steps.append((host_filter, given, rejected))
                given -= len(rejected)
        else:
            end = start + 1
            passed, rejected = host_filters[start].partition(hosts, spec_obj)
            steps.append((host_filters[start], len(hosts), rejected))
            hosts = passed
        start = end
    return hosts, steps


def _shape_or_idle(host_filter, spec_obj):
    return not host_filter.applies_to(spec_obj) or host_filter.reads_shape_only(spec_obj)


def partition_by_shape(host_filters, hosts, spec_obj):
    """Filters that read only the shape (or do not apply), each over the hosts the
    previous one passed: (the hosts that passed all, [the hosts each rejected]).
    host_passes once per filter and shape, on one host of that shape."""
    applying = [(i, f) for i, f in enumerate(host_filters) if f.applies_to(spec_obj)]
    if not applying:
        return hosts, [[] for dummy in host_filters]
    shapes = [host.shape for host in hosts]
    one_of_each = dict(zip(shapes, hosts))
    rejected_shapes = [set() for dummy in host_filters]     # the shapes each filter rejects
    for shape, host in one_of_each.items():
        for index, host_filter in applying:
            if not host_filter.host_passes(host, spec_obj):
                rejected_shapes[index].add(shape)
                break
    if not any(rejected_shapes):
        return hosts, [[] for dummy in host_filters]
    passing = set(one_of_each).difference(*rejected_shapes)
    return (list(compress(hosts, map(passing.__contains__, shapes))),
            [list(compress(hosts, map(rejected.__contains__, shapes))) if rejected else []
             for rejected in rejected_shapes])


def split(hosts, verdicts):
    """(the hosts whose verdict is true, the others), each in their order."""
    if all(verdicts):
        return hosts, []
    return list(compress(hosts, verdicts)), list(compress(hosts, map(not_, verdicts)))
