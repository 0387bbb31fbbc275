# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The straightforward scheduler loop, kept as the oracle for scheduler.select_destinations.

Nova 34's SchedulerManager._schedule written plainly: placement's candidates (its
rule written out: used + amount <= (total - reserved) * ratio and amount <= max_unit,
for every class asked), then for every instance: run the filters over the surviving
hosts one host at a time (host_passes), weigh all survivors from scratch (normalising
each weigher over them), claim the first host in that order (the picked one first)
with room in placement, consume it; all instances or NoValidHost; alternates from
the hosts sorted once more. test_scheduler_equivalence.py checks that both agree
exactly (selections, alternates, weights, filter report, NoValidHost).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import resources_from_flavor
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import (
    NoValidHost, SchedulingResult, Selection, _FilterReport, _group_with_hosts)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.registry import build_weighers

WEIGHED_IN_RESULT = 5


def normalize(weight_list, minval=None, maxval=None):
    if not weight_list:
        return []
    maxval = float(max(weight_list) if maxval is None else maxval)
    minval = float(min(weight_list) if minval is None else minval)
    if minval == maxval:
        return [0.0] * len(weight_list)
    span = maxval - minval
    return [(w - minval) / span for w in weight_list]


def raw_weights(weigher, hosts, spec_obj):
    weights = []
    for host in hosts:
        weight = weigher._weigh_object(host, spec_obj)  # pylint: disable=protected-access
        if weigher.minval is not None:
            weight = max(weight, weigher.minval)
        if weigher.maxval is not None:
            weight = min(weight, weigher.maxval)
        weights.append(weight)
    return weights


def weigh_hosts(hosts, spec_obj, weighers=None):
    """[(host_state, weight)] best first; ties go to the lower host name. One host
    (or none) is not weighed: weight 0.0, as in Nova."""
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
            normalised = normalize(raw_weights(weigher, hosts, spec_obj), weigher.minval, weigher.maxval)
            if per_host:
                for index, host in enumerate(hosts):
                    totals[index] += weigher.weight_multiplier(host) * normalised[index]
            else:
                multiplier = weigher.weight_multiplier(hosts[0])
                totals = [t + multiplier * n for t, n in zip(totals, normalised)]
    order = sorted(range(len(hosts)), key=lambda i: (-totals[i], hosts[i].host))
    return [(hosts[i], totals[i]) for i in order]


def has_room(host, resources):
    """Placement's capacity check, as placement writes it."""
    for rc, amount in resources.items():
        inventory = host.inventories.get(rc)
        if inventory is None or amount > inventory.max_unit:
            return False
        if host.usages[rc] + amount > (inventory.total - inventory.reserved) * inventory.allocation_ratio:
            return False
    return True


def select_destinations(host_states, spec, config=None, rng=None):
    config = config or SchedulerConfig()
    hosts = sorted(host_states, key=lambda h: h.host)
    for first, second in zip(hosts, hosts[1:]):
        if first.host == second.host:
            raise ValueError("host_states: host %r appears twice" % first.host)
    if rng is None and config.host_subset_size > 1:
        rng = random.Random(0)

    work = spec.copy().validate()
    if work.instance_group is not None:
        work.instance_group = _group_with_hosts(work.instance_group, hosts)
    uuids = work.instance_uuids or ["(instance-%d)" % i for i in range(work.num_instances)]
    resources = resources_from_flavor(work.flavor)

    names = ["placement"] + list(config.enabled_filters)
    reasons = dict((f.name, f.reason(work)) for f in config.filters)
    reasons["placement"] = "no room in placement for %s" % ", ".join("%s %d" % i for i in resources.items())
    if work.ignore_hosts:
        names.insert(1, "ignore_hosts")
        reasons["ignore_hosts"] = "in the request's ignore_hosts"
    report = _FilterReport(names, reasons)
    candidates = [h for h in hosts if has_room(h, resources)]
    report.record("placement", 0, len(hosts), [h for h in hosts if not has_room(h, resources)])
    if work.ignore_hosts:
        ignored = set(work.ignore_hosts)
        report.record("ignore_hosts", 0, len(candidates), [h for h in candidates if h.host in ignored])
        candidates = [h for h in candidates if h.host not in ignored]
    per_instance = [f for f in config.filters if not f.run_filter_once_per_request]

    claimed = []
    first_weighed = []
    weighed = []
    copied = set()
    reported_full = set()
    for index in range(work.num_instances + 1):
        if index == work.num_instances and (index == 1 or config.max_attempts == 1):
            break
        if index < work.num_instances:
            work.instance_uuid = uuids[index]
        for host_filter in (config.filters if index == 0 else per_instance):
            passed = [h for h in candidates if host_filter.host_passes(h, work)]
            report.record(host_filter.name, index, len(candidates),
                          [h for h in candidates if not host_filter.host_passes(h, work)])
            candidates = passed
        weighed = weigh_hosts(candidates, work, config.weighers)
        if index == work.num_instances or not candidates:
            break
        if index == 0:
            first_weighed = [(h.host, w) for h, w in weighed[:WEIGHED_IN_RESULT]]
        pick = 0
        if config.host_subset_size > 1:
            pick = rng.randrange(min(config.host_subset_size, len(weighed)))
        claim = None
        newly_full = []
        for host, weight in [weighed[pick]] + weighed[:pick] + weighed[pick + 1:]:
            if has_room(host, resources):
                claim = (host, weight)
                break
            if host.host not in reported_full:
                newly_full.append(host)
                reported_full.add(host.host)
        if newly_full:
            report.record("placement", index, len(candidates), newly_full)
        if claim is None:
            break
        chosen, weight = claim
        claimed.append((chosen.host, weight))
        if chosen.host not in copied:
            position = candidates.index(chosen)
            chosen = chosen.copy()
            candidates[position] = chosen
            copied.add(chosen.host)
        chosen.consume_from_request(work, uuids[index])
        group = work.instance_group
        if group is not None:
            if chosen.host not in group.hosts:
                group.hosts.append(chosen.host)
            group.members.append(uuids[index])

    if len(claimed) < work.num_instances:
        raise NoValidHost(report.as_list(), len(hosts), len(claimed), work.num_instances)
    taken = set(host for host, _weight in claimed)
    alternates = [h.host for h, _w in weighed if h.host not in taken][:config.max_attempts - 1]
    selections = [Selection(host, alternates, weight, uuid) for (host, weight), uuid in zip(claimed, uuids)]
    return SchedulingResult(selections, report.as_list(), first_weighed)
