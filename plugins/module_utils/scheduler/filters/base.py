# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.BaseHostFilter (nova/scheduler/filters/__init__.py), and the one
way a filter is applied to many hosts, derived from host_passes.

A filter defines host_passes(host_state, spec_obj) only. partition() applies it to
every host; it may be quicker than calling host_passes on each host, derived from the
same definition: host_inputs(spec_obj) names the HostState attributes the verdict
reads, and hosts holding the same (or equal) objects there get one verdict
(HostState shares equal values, so most hosts share a handful).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from itertools import compress
from operator import attrgetter, not_

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
        inputs = self.host_inputs(spec_obj)
        if not inputs:
            host_passes = self.host_passes
            return split(hosts, [host_passes(host, spec_obj) for host in hosts])
        # host_passes once per distinct set of objects there (HostState shares equal
        # values, so most hosts share a handful), on one host holding it; the objects
        # known by identity (hashing nested tuples host by host would cost more).
        if SHAPE_SET.issuperset(inputs):
            keys = [host.shape for host in hosts]       # one object per distinct SHAPE
        elif len(inputs) == 1:
            keys = list(map(id, map(attrgetter(inputs[0]), hosts)))
        else:
            keys = list(zip(*[map(id, map(attrgetter(name), hosts)) for name in inputs]))
        if keys.count(keys[0]) == len(keys):
            return (hosts, []) if self.host_passes(hosts[0], spec_obj) else ([], hosts)
        verdict_of = dict((key, self.host_passes(host, spec_obj)) for key, host in dict(zip(keys, hosts)).items())
        if all(verdict_of.values()):
            return hosts, []
        return split(hosts, list(map(verdict_of.__getitem__, keys)))


def split(hosts, verdicts):
    """(the hosts whose verdict is true, the others), each in their order."""
    if all(verdicts):
        return hosts, []
    return list(compress(hosts, verdicts)), list(compress(hosts, map(not_, verdicts)))
