# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The weighing of one request's candidate hosts (nova.scheduler.weights' handler,
nova.weights.BaseWeightHandler.get_weighed_objects), kept current while its
instances are placed.

A host's weight is, for each weigher in order, its multiplier times the host's
raw figure normalised over the candidates,

    weight = 0.0 + multiplier(host) * ((raw(host) - low) / (high - low)) + ...

with low and high the weigher's minval/maxval or else the candidates' smallest
and largest raw figures (all equal: the term is left out, it is 0). These are
the floating-point operations of the plain loop, so the weights are its numbers.

Between two instances only a few hosts change: the one just chosen (and hosts
holding an instance of the server group's new member), and hosts a filter now
rejects leave. HostWeights keeps every raw figure, each weigher's raw figures
sorted (low and high in O(log n)), and the hosts sorted by their weight under
reference bounds (each weigher's low and span when that order was built). A
changed host is weighed again under the reference bounds and moved: O(log n).

While the bounds are the reference ones, the best hosts are the first of that
order. When a weigher's low or high moves, every weight changes, but by at most
a drift computed from the two bounds and the range of the raw figures (the
normalised figure is affine in the raw one, so the largest change is at an end
of the range). The order is then walked from the top, each host weighed exactly
under the current bounds, until the next reference weight plus the drift is
below the weakest of the best found; if that walk gets long, the order is
rebuilt under the current bounds (O(n log n)). Exact either way.

A host the request has filled is retired: out of the order (it can no longer be
chosen), still in the sorted raw figures (it still bounds every weigher, as in Nova).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
from bisect import bisect_left, insort
from itertools import chain, compress, count, islice, repeat
from math import isfinite
from operator import ne

# Walk at most this many hosts (plus the number wanted, plus one in 64 of the
# candidates) before rebuilding the order under the current bounds.
SCAN_LIMIT = 32
# The fewest best hosts found at once before anything changes.
TOP = 8
# Floating-point rounding allowance, times the sum of the multipliers' sizes.
ROUNDING = 1e-11


class SortedList:
    """A sorted list in chunks of at most 2 * LOAD values, so that adding or
    removing a value moves at most a chunk (sortedcontainers.SortedList's layout)."""

    LOAD = 256

    def __init__(self, values=()):
        values = sorted(values)
        self._chunks = [values[i:i + self.LOAD] for i in range(0, len(values), self.LOAD)]
        self._maxes = [chunk[-1] for chunk in self._chunks]

    def add(self, value):
        if not self._chunks:
            self._chunks.append([value])
            self._maxes.append(value)
            return
        index = min(bisect_left(self._maxes, value), len(self._maxes) - 1)
        chunk = self._chunks[index]
        insort(chunk, value)
        self._maxes[index] = chunk[-1]
        if len(chunk) > 2 * self.LOAD:
            self._chunks[index:index + 1] = [chunk[:self.LOAD], chunk[self.LOAD:]]
            self._maxes[index:index + 1] = [chunk[self.LOAD - 1], chunk[-1]]

    def remove(self, value):
        """Remove one value equal to value (which must be there)."""
        index = bisect_left(self._maxes, value)
        chunk = self._chunks[index]
        del chunk[bisect_left(chunk, value)]
        if chunk:
            self._maxes[index] = chunk[-1]
        else:
            del self._chunks[index]
            del self._maxes[index]

    def first(self):
        return self._chunks[0][0]

    def last(self):
        return self._chunks[-1][-1]

    def head(self, count):
        return list(islice(self, count))

    def __iter__(self):
        return chain.from_iterable(self._chunks)


class _Term:
    """One weigher's part: raw figures by host position, and multipliers: one
    number, and overrides {position: multiplier} for the hosts whose aggregate
    metadata gives the option another value."""

    def __init__(self, weigher, hosts, spec_obj, overridden_at):
        self.weigher = weigher
        self.raw = weigher.weigh_objects(hosts, spec_obj)
        self.low = None if weigher.minval is None else float(weigher.minval)
        self.high = None if weigher.maxval is None else float(weigher.maxval)
        self.overrides = {}
        by_aggregates = {}      # weight_multiplier() depends on the host's aggregates only
        for position in overridden_at:
            key = hosts[position].aggregates
            if key not in by_aggregates:
                by_aggregates[key] = weigher.weight_multiplier(hosts[position])
            self.overrides[position] = by_aggregates[key]
        if len(overridden_at) == len(hosts):
            self.multiplier = self.overrides[0]
        else:
            # What the hosts no aggregate overrides the option for have.
            other = next(p for p in range(len(hosts)) if p not in overridden_at)
            self.multiplier = weigher.weight_multiplier(hosts[other])
        self.overrides = dict((p, m) for p, m in self.overrides.items() if m != self.multiplier)
        # Every multiplier finite: multiplier * 0.0 is then a zero.
        self.finite = all(map(isfinite, chain([self.multiplier], self.overrides.values())))
        self.size = max(map(abs, chain([self.multiplier], self.overrides.values())))
        self.sorted_raw = None      # once tracking changes, where low or high is not fixed

    def plain(self, low):
        """True when the term is x / span for every host whose multiplier is not
        overridden: multiplier 1.0 and low 0.0 (the RAM, CPU and disk weighers' defaults)."""
        return self.multiplier == 1.0 and low == 0.0

    def multiplier_at(self, position):
        return self.overrides.get(position, self.multiplier)

    def add_to(self, totals, low, span):
        """totals[p] + multiplier(p) * ((raw[p] - low) / span) for every position p
        (totals may be changed in place)."""
        raw, multiplier = self.raw, self.multiplier
        sample = raw[:64]
        if self.finite and 4 * sample.count(low) > 3 * len(sample):
            # Most figures at the low (failed builds, group members): there the
            # term is multiplier * 0.0, which leaves the total as it is.
            for position in compress(count(), raw if low == 0 else map(ne, raw, repeat(low))):
                totals[position] += self.multiplier_at(position) * ((raw[position] - low) / span)
            return totals
        if multiplier == 1.0 and low == 0.0:
            new = [t + x / span for t, x in zip(totals, raw)]      # the same numbers, two operations fewer
        else:
            new = [t + multiplier * ((x - low) / span) for t, x in zip(totals, raw)]
        for position, other in self.overrides.items():
            new[position] = totals[position] + other * ((raw[position] - low) / span)
        return new

    def weigh(self, position, total, low, span):
        return total + self.multiplier_at(position) * ((self.raw[position] - low) / span)

    def track(self, positions):
        """Keep the figures of positions sorted from now on (for low and high)."""
        if self.low is None or self.high is None:
            self.sorted_raw = SortedList([self.raw[p] for p in positions])

    def drift(self, old, new):
        """The largest change of multiplier * normalised figure of any candidate
        between bounds old and new ((low, span) pairs)."""
        if old == new or self.sorted_raw is None:
            return 0.0

        def change(raw):
            before = (raw - old[0]) / old[1] if old[1] else 0.0
            after = (raw - new[0]) / new[1] if new[1] else 0.0
            return abs(after - before)
        return self.size * max(change(self.sorted_raw.first()), change(self.sorted_raw.last()))

    def bounds(self, raw_values=None):
        """(low, span) of normalize(), from raw_values or else the sorted figures:
        span 0.0 when every figure is the same."""
        if raw_values is None:
            low = self.low if self.low is not None else float(self.sorted_raw.first())
            high = self.high if self.high is not None else float(self.sorted_raw.last())
        elif raw_values[0] == raw_values[-1] and raw_values.count(raw_values[0]) == len(raw_values):
            # One figure for all (no failed build anywhere, no group member): no min or max pass.
            low = self.low if self.low is not None else float(raw_values[0])
            high = self.high if self.high is not None else float(raw_values[0])
        else:
            low = self.low if self.low is not None else float(min(raw_values))
            high = self.high if self.high is not None else float(max(raw_values))
        return (low, 0.0) if low == high else (low, high - low)


def _add_plain_three(totals, run):
    """totals (None: all 0.0) plus three plain terms (see _Term.plain), added one after
    the other as _Term.add_to would, in one pass over the hosts; the hosts whose
    multiplier an aggregate overrides are added up again with theirs. Without totals,
    ((0.0 + p) + q) + r is written ((p + q) + r) + 0.0: the same number, signed
    zeros included (a sum is -0.0 only where every part is)."""
    (first, _low, sa), (second, _low, sb), (third, _low, sc) = run
    a, b, c = first.raw, second.raw, third.raw
    if totals is None:
        new = [x / sa + y / sb + z / sc + 0.0 for x, y, z in zip(a, b, c)]
    else:
        new = [t + x / sa + y / sb + z / sc for t, x, y, z in zip(totals, a, b, c)]
    ma, mb, mc = first.multiplier, second.multiplier, third.multiplier
    at_a, at_b, at_c = first.overrides.get, second.overrides.get, third.overrides.get
    for p in set(first.overrides).union(second.overrides, third.overrides):
        total = 0.0 if totals is None else totals[p]
        new[p] = total + at_a(p, ma) * (a[p] / sa) + at_b(p, mb) * (b[p] / sb) + at_c(p, mc) * (c[p] / sc)
    return new


def _positions(values, value):
    """The positions of value in values: by list.index where it is rare (a
    scan in C per position), else in one pass."""
    if 8 * values.count(value) > len(values):
        return [p for p, other in enumerate(values) if other == value]
    positions = []
    position = -1
    try:
        while True:
            position = values.index(value, position + 1)
            positions.append(position)
    except ValueError:
        return positions


class HostWeights:
    """Weights of the candidate hosts of one request.

    hosts: the candidates in name order; a host is known by its position in
    it, and of equal weights the lower position (the lower name) wins.
    """

    def __init__(self, hosts, spec_obj, weighers):
        self.hosts = list(hosts)
        self.spec = spec_obj
        self.alive = [True] * len(self.hosts)
        self.count = len(self.hosts)
        self.terms = []
        self.scores = [0.0] * self.count
        self._order = None          # SortedList of (-weight, position) once tracking changes
        self._bounds = None         # the (low, span) of each term behind scores
        self._pending = set()       # positions whose raw figures changed since scoring
        self._top = []              # the best [(position, weight)] while nothing changed
        self.retired = set()        # candidates weighed (in the bounds) but out of the order
        if self.count > 1:
            # A weigher adds nothing (it is left out) when its multiplier is 0 and
            # no aggregate sets its option, or when every raw figure is 0.
            overridden = self._overridden(set(weigher.option for weigher in weighers))
            for weigher in weighers:
                overridden_at = overridden.get(weigher.option, ())
                if (overridden_at or weigher.multiplier != 0) and weigher.applies_to(spec_obj):
                    self.terms.append(_Term(weigher, self.hosts, spec_obj, overridden_at))
            self._bounds = [term.bounds(term.raw) for term in self.terms]
            self.scores = self._score_all()

    def __len__(self):
        return self.count

    def _overridden(self, options):
        """{option: set(positions of the hosts an aggregate of which sets it)}."""
        keys = [host.metadata_keys for host in self.hosts]
        overridden = {}
        # Hosts alike share one metadata_keys object: decide once per distinct set.
        for key_set in set(keys):
            named = key_set & options
            if named:
                positions = _positions(keys, key_set)
                for option in named:
                    overridden.setdefault(option, set()).update(positions)
        return overridden

    # ------------------------------------------------------------ weights
    def _score_all(self):
        """[weight] of every host under self._bounds, the terms in the weighers' order."""
        terms = [(term, low, span) for term, (low, span) in zip(self.terms, self._bounds) if span]
        totals = None       # all 0.0
        start = 0
        while start < len(terms):
            run = terms[start:start + 3]
            if len(run) == 3 and all(term.plain(low) for term, low, _span in run):
                totals = _add_plain_three(totals, run)
                start += 3
                continue
            term, low, span = terms[start]
            totals = term.add_to([0.0] * len(self.hosts) if totals is None else totals, low, span)
            start += 1
        return [0.0] * len(self.hosts) if totals is None else totals

    def _score_one(self, position, bounds):
        total = 0.0
        for term, (low, span) in zip(self.terms, bounds):
            if span:
                total = term.weigh(position, total, low, span)
        return total

    def best(self, count, retired_too=False):
        """The best `count` candidates: [(position, weight)], best first, the retired
        ones left out unless retired_too. With one candidate left, its weight is 0.0
        (one host is not weighed)."""
        if retired_too and self.retired and self.count > 1:
            found = self.best(count)
            bounds = [term.bounds() for term in self.terms]
            found += [(p, self._score_one(p, bounds)) for p in self.retired]
            return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:count]
        if self.count <= 1:
            return [(p, 0.0) for p, alive in enumerate(self.alive) if alive][:count]
        if self._order is None:
            # Nothing changed yet (one decision asks several times): one selection.
            if len(self._top) < min(count, self.count):
                scores = self.scores
                self._top = [(p, scores[p]) for p in heapq.nlargest(max(count, TOP), range(len(scores)),
                                                                    key=scores.__getitem__)]
            return self._top[:count]
        self._settle()
        bounds = [term.bounds() for term in self.terms]
        if bounds == self._bounds:
            return [(position, -negative) for negative, position in self._order.head(count)]
        best = self._walk(count, bounds)
        if best is None:
            self._rebuild(bounds)
            return [(position, -negative) for negative, position in self._order.head(count)]
        return best

    def _walk(self, count, bounds):
        """The best `count` under bounds, walking the reference order while a
        host further down could still enter; None if the walk gets too long."""
        slack = sum(term.drift(old, new) for term, old, new in zip(self.terms, self._bounds, bounds))
        slack += ROUNDING * (1.0 + sum(term.size for term in self.terms))
        found = []          # sorted [(-weight, position)] under bounds
        limit = SCAN_LIMIT + count + self.count // 64
        for walked, (negative, position) in enumerate(self._order):
            if len(found) >= count and -negative + slack < -found[count - 1][0]:
                break
            if walked >= limit:
                return None
            insort(found, (-self._score_one(position, bounds), position))
        return [(position, -negative) for negative, position in found[:count]]

    # ------------------------------------------------------------ changes
    def _track(self):
        """From now on keep sorted raw figures and the order by weight."""
        if self._order is not None:
            return
        alive = [p for p, flag in enumerate(self.alive) if flag]
        for term in self.terms:
            term.track(alive)
        scores = self.scores
        self._order = SortedList([(-scores[p], p) for p in alive])

    def replace(self, position, host):
        """The host at position is now this object (a copy the scheduler consumes)."""
        self.hosts[position] = host

    def retire(self, position):
        """The host at position can no longer be chosen (placement has no room left on it,
        and will have none for this request), but stays weighed: its figures still count
        in every weigher's bounds, as in Nova. Left out of best() from now on."""
        if not self.alive[position] or position in self.retired or self.count <= 1:
            return
        self._track()
        self._settle()
        self.retired.add(position)
        self._order.remove((-self.scores[position], position))

    def refresh(self, position):
        """The host at position may have changed: weigh it again."""
        if not self.alive[position]:
            raise ValueError("position %d is not a candidate" % position)
        if self.count <= 1:
            return
        self._track()
        host = self.hosts[position]
        for term in self.terms:
            old = term.raw[position]
            new = term.weigher.weigh_object(host, self.spec)
            if new != old:
                term.raw[position] = new
                if term.sorted_raw is not None:
                    term.sorted_raw.remove(old)
                    term.sorted_raw.add(new)
        if position not in self.retired:
            self._pending.add(position)

    def discard(self, position):
        """The host at position is no longer a candidate."""
        if not self.alive[position]:
            return
        if self.count > 2:
            self._track()
        self.alive[position] = False
        self.count -= 1
        if self._order is None:
            return
        for term in self.terms:
            if term.sorted_raw is not None:
                term.sorted_raw.remove(term.raw[position])
        self._pending.discard(position)
        if position in self.retired:
            self.retired.discard(position)
        else:
            self._order.remove((-self.scores[position], position))

    def _settle(self):
        """Move the changed hosts in the order (weighed under the reference bounds)."""
        order = self._order
        for position in self._pending:
            order.remove((-self.scores[position], position))
            self.scores[position] = score = self._score_one(position, self._bounds)
            order.add((-score, position))
        self._pending.clear()

    def _rebuild(self, bounds):
        """Weigh every candidate under bounds, which become the reference."""
        self._bounds = bounds
        # Every position in one pass (those no longer candidates too: cheaper
        # than picking the others out), then the candidates in order.
        scores = self.scores = self._score_all()
        retired = self.retired
        self._order = SortedList([(-scores[p], p) for p, alive in enumerate(self.alive) if alive and p not in retired])
