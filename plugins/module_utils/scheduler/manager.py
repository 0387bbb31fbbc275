# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler: nova.scheduler.manager.SchedulerManager.select_destinations (Nova 34, with placement).

Once per request, placement gives the candidates: the hosts with room for one
instance (placement/). Then for each instance, as SchedulerManager._schedule does:
filter the hosts, weigh them, take the best (or a random one of the best
host_subset_size) and claim it; a host an earlier instance of the request filled
stays a candidate, filtered and weighed like the others, and is only passed over
when its claim fails (placement has no room left), the claim going to the next
host in weight order. The claimed host consumes the instance and the server group
gains it, so the next instance sees the placement. If an instance cannot be
claimed anywhere, the whole request fails (NoValidHost): min_count only bounds
what quota may cut, as in Nova. Alternates come last: the hosts sorted once more,
the first max_attempts - 1 that no instance was claimed on, the same for every
instance (SchedulerManager._get_alternate_hosts).

As in Nova, the filters with run_filter_once_per_request only run for the first
instance, and each instance starts from the hosts that passed for the previous one.
The outcome is that of running every filter and weigher over every surviving host
for every instance, but the later instances cost little: only the hosts whose state
changed are filtered again (see filters/base.py) and weighed again (see
weighing.HostWeights).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
from itertools import islice
from operator import attrgetter, lt

from ansible_collections.novalite.compute.plugins.module_utils.placement import allocation_candidates
from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import resources_from_flavor
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import partition_each
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import RequestSpec, ServerGroup
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weighing import HostWeights

MAX_NAMES_IN_MESSAGE = 5
WEIGHED_IN_RESULT = 5
PLACEMENT = "placement"
UNAVAILABLE = "unavailable"


class Selection:
    """nova.objects.Selection: the chosen host, its alternates (best first), its weight."""

    __slots__ = ("host", "alternates", "weight", "instance_uuid")

    def __init__(self, host, alternates, weight, instance_uuid=None):
        self.host = host
        self.alternates = list(alternates)
        self.weight = weight
        self.instance_uuid = instance_uuid

    def to_dict(self):
        return {"host": self.host, "alternates": list(self.alternates), "weight": self.weight}

    def __repr__(self):
        return "Selection(host=%r, alternates=%r, weight=%r)" % (self.host, self.alternates, self.weight)


class SchedulingResult:
    """selections: one per placed instance. filter_report: one entry per filter
    (see _FilterReport). weighed: the top (host, weight) of the first decision."""

    def __init__(self, selections, filter_report, weighed):
        self.selections = selections
        self.filter_report = filter_report
        self.weighed = weighed

    def __repr__(self):
        return "SchedulingResult(%r)" % (self.selections,)


class NoValidHost(Exception):
    """Not every instance of the request could be placed. report: as filter_report."""

    def __init__(self, report, num_hosts, placed, num_instances):
        self.report = report
        self.num_hosts = num_hosts
        self.placed = placed
        self.num_instances = num_instances
        super(NoValidHost, self).__init__(self._message())

    def _message(self):
        parts = ["%d host%s" % (self.num_hosts, "" if self.num_hosts == 1 else "s")]
        for entry in self.report:
            names = entry["eliminated"] + entry["eliminated_later"]
            if not names:
                continue
            shown = ", ".join(names[:MAX_NAMES_IN_MESSAGE])
            if len(names) > MAX_NAMES_IN_MESSAGE:
                shown += " and %d more" % (len(names) - MAX_NAMES_IN_MESSAGE)
            parts.append("%s eliminated %d (%s: %s)" % (entry["filter"], len(names), entry["reason"], shown))
        parts.append("placed %d of %d" % (self.placed, self.num_instances))
        return "No valid host was found. There are not enough hosts available: " + "; ".join(parts)


class _FilterReport:
    """Per filter: hosts_before/hosts_after/eliminated for the first instance,
    eliminated_later for the later instances, eliminated_total for the request."""

    def __init__(self, names, reasons):
        self.entries = []
        self.by_name = {}
        for name in names:
            entry = {"filter": name, "hosts_before": 0, "hosts_after": 0, "eliminated": [],
                     "eliminated_later": [], "eliminated_total": 0, "reason": reasons.get(name, "rejected")}
            self.entries.append(entry)
            self.by_name[name] = entry

    def record(self, name, index, hosts_before, rejected):
        """The filter name, run for instance index on hosts_before hosts, rejected these."""
        entry = self.by_name[name]
        eliminated = [h.host for h in rejected]
        if index == 0:
            entry["hosts_before"] = hosts_before
            entry["hosts_after"] = hosts_before - len(eliminated)
            entry["eliminated"] = eliminated
        else:
            entry["eliminated_later"].extend(eliminated)
        entry["eliminated_total"] += len(eliminated)

    def as_list(self):
        return [dict(e, eliminated=list(e["eliminated"]), eliminated_later=list(e["eliminated_later"]))
                for e in self.entries]


def _group_with_hosts(group, host_states):
    """A copy of the group whose hosts include every host holding a member: one tagged
    with the group's name, or one of its listed members."""
    group = group.copy()
    hosts = set(group.hosts)
    name = group.name
    hosts.update([host.host for host in host_states if name in host.group_counts])
    if group.members:
        members, disjoint = group.member_set(), set(group.members).isdisjoint
        hosts.update([host.host for host in host_states
                      if not disjoint(host.instances) and host.count_group_members(group, members)])
    group.hosts = sorted(hosts)
    return group


class _PlacedGroup(ServerGroup):
    """The request's server group while its instances are placed: its member set
    is kept with its members (every host's count_group_members reads it)."""

    _set = None             # set(members), for _counted members
    _counted = None

    @classmethod
    def of(cls, group):
        return group.copy(cls)

    def member_set(self):
        if self._counted != len(self.members):
            self._set = super(_PlacedGroup, self).member_set()
            self._counted = len(self.members)
        return self._set

    def add_member(self, uuid):
        members = self.member_set()
        self.members.append(uuid)
        self._counted = len(self.members)
        if members is not None:
            if uuid in members:
                self._set = None        # listed twice: it counts twice
            else:
                members.add(uuid)


def _run_filters(host_filters, hosts, spec, report, index):
    """Each filter over the hosts that passed the previous one; the survivors."""
    hosts, steps = partition_each(host_filters, hosts, spec)
    for host_filter, given, rejected in steps:
        report.record(host_filter.name, index, given, rejected)
    return hosts


def _recheck(weights, positions, changed, host_filters, spec, report, index):
    """Run host_filters again on the candidates at positions (in name order):
    the hosts they reject leave, the changed ones that pass are weighed again."""
    before = [weights.hosts[p] for p in positions]
    passed = set(_run_filters(host_filters, before, spec, report, index))
    for position, host in zip(positions, before):
        if host not in passed:
            weights.discard(position)
        elif position in changed:
            weights.refresh(position)


def _holders(hosts, uuids):
    """{uuid: [position]} for the uuids some host already holds an instance of."""
    wanted = set(uuids)
    holders = {}
    for position in [p for p, host in enumerate(hosts) if not wanted.isdisjoint(host.instances)]:
        for key in wanted.intersection(hosts[position].instances):
            holders.setdefault(key, []).append(position)
    return holders


def _placement_reason(resources):
    return "no room in placement for %s" % ", ".join("%s %d" % item for item in resources.items())


def _claim(weights, needs, full, pick, retire):
    """The claim (SchedulerManager._schedule): the hosts best first, the picked one
    first of all; the first with room in placement. (position, weight), or None when no
    candidate has room. full: {position: True} of the hosts found without room (they
    never regain it within the request), added to in the order found. retire: also take
    those out of the weights' order (only when no pick among the best needs them)."""
    count = pick + 1       # usually the first has room: ask for more only when it has not
    while True:
        best = weights.best(count)
        if len(best) <= pick:       # every host left is full (retired from the order)
            return None
        for position, weight in [best[pick]] + best[:pick] + best[pick + 1:]:
            if position in full:
                continue
            if allocation_candidates.fits_host(weights.hosts[position], needs):
                return position, weight
            full[position] = True
            if retire:
                weights.retire(position)
        if len(best) < count:
            return None
        count *= 4


def select_destinations(host_states, spec, config=None, rng=None, unavailable=None):
    """Place every instance of spec.num_instances, or raise NoValidHost.

    unavailable: {host: why} the request's own prefilter removed before placement (as Nova's
    request filters do; a move's ports: networks missing or addresses taken there).

    Never changes host_states or spec (copies are consumed). Deterministic for
    host_subset_size 1 (ties go to the lower host name); with a larger subset
    the choice among the best comes from rng (a random.Random; seeded 0 if None).
    """
    config = config or SchedulerConfig()
    if not isinstance(spec, RequestSpec):
        raise ValueError("spec: must be a RequestSpec")
    hosts = list(host_states)
    host_names = [host.host for host in hosts]
    if not all(map(lt, host_names, islice(host_names, 1, None))):     # unordered, or a name repeats
        hosts.sort(key=attrgetter("host"))
        for first, second in zip(hosts, hosts[1:]):
            if first.host == second.host:
                raise ValueError("host_states: host %r appears twice" % first.host)
    if rng is None and config.host_subset_size > 1:
        rng = random.Random(0)

    work = spec.copy().validate()
    group = work.instance_group
    if group is not None:
        if any(f.reads_group_hosts(work) for f in config.filters):
            group = _group_with_hosts(group, hosts)     # only a filter reads them
        group = work.instance_group = _PlacedGroup.of(group)
    uuids = work.instance_uuids or ["(instance-%d)" % i for i in range(work.num_instances)]
    resources = resources_from_flavor(work.flavor)
    needs = allocation_candidates.needs(resources)

    names = [PLACEMENT] + list(config.enabled_filters)
    reasons = dict((f.name, f.reason(work)) for f in config.filters)
    reasons[PLACEMENT] = _placement_reason(resources)
    if unavailable:
        names.insert(0, UNAVAILABLE)
        reasons[UNAVAILABLE] = "; ".join("%s: %s" % (host, unavailable[host]) for host in sorted(unavailable))
    if work.ignore_hosts:
        names.insert(1, "ignore_hosts")
        reasons["ignore_hosts"] = "in the request's ignore_hosts"
    report = _FilterReport(names, reasons)
    num_hosts = len(hosts)
    if unavailable:
        report.record(UNAVAILABLE, 0, len(hosts), [h for h in hosts if h.host in unavailable])
        hosts = [h for h in hosts if h.host not in unavailable]
    # Placement's allocation candidates, once per request.
    candidates, rejected = allocation_candidates.partition(hosts, needs)
    report.record(PLACEMENT, 0, len(hosts), rejected)
    if work.ignore_hosts:
        ignored = set(work.ignore_hosts)
        report.record("ignore_hosts", 0, len(candidates), [h for h in candidates if h.host in ignored])
        candidates = [h for h in candidates if h.host not in ignored]
    per_instance = [f for f in config.filters if not f.run_filter_once_per_request]
    group_host_filters = [f for f in per_instance if f.reads_group_hosts(work)]

    work.instance_uuid = uuids[0]
    candidates = _run_filters(config.filters, candidates, work, report, 0)
    weights = HostWeights(candidates, work, config.weighers)
    holders = _holders(candidates, uuids) if work.num_instances > 1 else {}
    claimed = []        # (position, weight) per instance
    first_weighed = []
    copied = set()
    full = {}
    group_changed = False
    for index in range(work.num_instances + 1):
        if index > 0:
            # Who may be judged or weighed differently now: the host just
            # claimed, hosts holding the member just added or the instance now
            # placed; for the filters, every host if the group's hosts changed
            # and a filter reads them. After the last instance, once more for
            # the alternates (the instance_uuid stays the last one's, as in Nova).
            chosen = claimed[-1][0]
            changed = set([chosen])
            changed.update(holders.get(uuids[index - 1], ()))
            if index < work.num_instances:
                work.instance_uuid = uuids[index]
                changed.update(holders.get(uuids[index], ()))
            elif index == 1 or config.max_attempts == 1:
                break       # one instance, or no alternates: nothing is sorted again
            if group_changed:
                positions = [p for p, alive in enumerate(weights.alive) if alive]
            else:
                positions = sorted(p for p in changed if weights.alive[p])
            _recheck(weights, positions, changed, per_instance, work, report, index)
        if index == work.num_instances or not len(weights):
            break
        pick = 0
        if config.host_subset_size > 1:
            pick = rng.randrange(min(config.host_subset_size, len(weights)))
        if index == 0:
            first_weighed = [(weights.hosts[p].host, w) for p, w in weights.best(WEIGHED_IN_RESULT)]
        known_full = len(full)
        claim = _claim(weights, needs, full, pick, retire=config.host_subset_size == 1)
        if len(full) > known_full:
            report.record(PLACEMENT, index, len(weights),
                          [weights.hosts[p] for p in list(full)[known_full:]])
        if claim is None:
            break
        claimed.append(claim)
        position = claim[0]
        host = weights.hosts[position]
        if position not in copied:
            # Copy on write: the caller's HostState is never consumed.
            host = host.copy()
            weights.replace(position, host)
            copied.add(position)
        host.consume_from_request(work, uuids[index])
        group_changed = False
        if group is not None:
            if host.host not in group.hosts:
                group.hosts.append(host.host)
                group_changed = bool(group_host_filters)
            group.add_member(uuids[index])

    if len(claimed) < work.num_instances:
        raise NoValidHost(report.as_list(), num_hosts, len(claimed), work.num_instances)
    taken = set(position for position, _weight in claimed)
    alternates = []
    if config.max_attempts > 1:
        wanted = len(taken) + config.max_attempts - 1
        alternates = [weights.hosts[p].host for p, _w in weights.best(wanted, retired_too=True)
                      if p not in taken][:config.max_attempts - 1]
    selections = [Selection(weights.hosts[position].host, alternates, weight, uuid)
                  for (position, weight), uuid in zip(claimed, uuids)]
    return SchedulingResult(selections, report.as_list(), first_weighed)
