# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The weights of one request's candidate hosts, kept current while its instances are placed.

A host's weight is what weighers.weigh_hosts gives it: for each weigher, the
host's multiplier times its raw figure normalised over the candidates,

    weight = sum over weighers of multiplier(host) * (raw(host) - low) / (high - low)

with low and high the weigher's minval/maxval or else the candidates' smallest
and largest raw figures (all equal: the term is 0). The terms are added in the
weighers' order with the same floating-point operations, so the weights are the
very numbers weigh_hosts computes.

Between two instances only a few hosts change: the one just chosen (and hosts
holding an instance of the server group's new member), and hosts a filter now
rejects leave. HostWeights keeps every raw figure, each weigher's raw figures
in sorted order (its low and high in O(log n); SortedList, in chunks, so a
change moves a chunk and not the whole list), and the hosts sorted by their
weight under reference bounds (each weigher's low and span when the order was
last built). A changed host is weighed again under the reference bounds and
moved in the order: O(log n).

While the bounds stay the reference ones, the best hosts are the first entries
of the order. When a weigher's low or high moves (the host that held the most
free RAM was just chosen, say), every host's weight changes, but by at most a
drift computed from the two bounds and the range of raw figures (a
normalised figure is affine in the raw one, so the largest change is at an end
of the range). Then the order is walked from the top, each host weighed
exactly under the current bounds, until the next reference weight plus the
drift is below the weakest of the best found: no host further down can enter.
If that walk grows long, the order is rebuilt under the current bounds
(O(n log n)). Exact either way: the weights returned are computed the way
weigh_hosts computes them, and a host is skipped only when it provably weighs
less.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
from bisect import bisect_left, insort
from itertools import chain, compress, count, islice, repeat
from math import isfinite
from operator import ne

# Walk at most this many hosts (plus the number wanted, plus one in 64 of the
# candidates: a rebuild costs about as much as walking a tenth of them) before
# rebuilding the order under the current bounds.
SCAN_LIMIT = 32
# Floating-point rounding allowance, times the sum of the multipliers' sizes:
# far above the error of a sum of a few normalised terms.
ROUNDING = 1e-11


class SortedList:
    """A sorted list kept in chunks of at most 2 * LOAD values: adding or
    removing one value moves at most a chunk, not the whole list."""

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
        index = bisect_left(self._maxes, value)
        if index == len(self._maxes):
            index -= 1
            self._chunks[index].append(value)
            self._maxes[index] = value
        else:
            insort(self._chunks[index], value)
        chunk = self._chunks[index]
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
        if overridden_at:
            # weight_multiplier() of the hosts an aggregate overrides the option
            # for (it depends on the host's aggregates only); the others all
            # have the option's own value.
            by_aggregates = {}
            for position in overridden_at:
                key = hosts[position].aggregates
                if key not in by_aggregates:
                    by_aggregates[key] = weigher.weight_multiplier(hosts[position])
                self.overrides[position] = by_aggregates[key]
            other = next((p for p in range(len(hosts)) if p not in overridden_at), None)
            self.multiplier = self.overrides[0] if other is None else weigher.weight_multiplier(hosts[other])
            self.overrides = dict((p, m) for p, m in self.overrides.items() if m != self.multiplier)
        else:
            self.multiplier = weigher.weight_multiplier(hosts[0])
        # Every multiplier finite: multiplier * 0.0 is then a zero.
        self.finite = all(map(isfinite, chain([self.multiplier], self.overrides.values())))
        self.size = None        # the largest multiplier's size, once tracking
        self.sorted_raw = None

    def multiplier_at(self, position):
        return self.overrides.get(position, self.multiplier)

    def mostly_at(self, value):
        """True when over three quarters of the first 64 raw figures equal value."""
        sample = self.raw[:64]
        return 4 * sample.count(value) > 3 * len(sample)

    def track(self, positions):
        """Keep the figures of positions sorted from now on (for low and high)."""
        self.size = max(map(abs, chain([self.multiplier], self.overrides.values())))
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
        if self.low is not None:
            low = self.low
        elif raw_values is not None:
            low = float(min(raw_values))
        else:
            low = float(self.sorted_raw.first())
        if self.high is not None:
            high = self.high
        elif raw_values is not None:
            high = float(max(raw_values))
        else:
            high = float(self.sorted_raw.last())
        if low == high:
            return (low, 0.0)
        return (low, high - low)


def _add_terms(totals, terms, size):
    """[total + each term's multiplier * normalised figure, in order] for every
    host; terms: [(term, low, span)]; totals None: all 0.0 (size hosts). Up to
    three terms a pass, added left to right as one after the other; hosts with
    an overridden multiplier are then added up again with theirs. Where every
    term of a pass has multiplier 1.0 and low 0.0 (the defaults of the RAM, CPU
    and disk weighers), x / span is added: the same number as
    1.0 * ((x - 0.0) / span), with two operations fewer; and 0.0 + x / span,
    with x at least low, is x / span."""
    for start in range(0, len(terms), 3):
        chunk = terms[start:start + 3]
        plain = all(term.multiplier == 1.0 and low == 0.0 for term, low, _span in chunk)
        if totals is None and not plain:
            totals = [0.0] * size
        before = totals
        a, ma, la, sa = chunk[0][0].raw, chunk[0][0].multiplier, chunk[0][1], chunk[0][2]
        if before is None:
            if len(chunk) == 1:
                totals = [x / sa for x in a]
            elif len(chunk) == 2:
                b, sb = chunk[1][0].raw, chunk[1][2]
                totals = [x / sa + y / sb for x, y in zip(a, b)]
            else:
                b, sb, c, sc = chunk[1][0].raw, chunk[1][2], chunk[2][0].raw, chunk[2][2]
                totals = [x / sa + y / sb + z / sc for x, y, z in zip(a, b, c)]
        elif len(chunk) == 1:
            if plain:
                totals = [t + x / sa for t, x in zip(before, a)]
            else:
                totals = [t + ma * ((x - la) / sa) for t, x in zip(before, a)]
        elif len(chunk) == 2:
            b, mb, lb, sb = chunk[1][0].raw, chunk[1][0].multiplier, chunk[1][1], chunk[1][2]
            if plain:
                totals = [t + x / sa + y / sb for t, x, y in zip(before, a, b)]
            else:
                totals = [t + ma * ((x - la) / sa) + mb * ((y - lb) / sb) for t, x, y in zip(before, a, b)]
        else:
            b, mb, lb, sb = chunk[1][0].raw, chunk[1][0].multiplier, chunk[1][1], chunk[1][2]
            c, mc, lc, sc = chunk[2][0].raw, chunk[2][0].multiplier, chunk[2][1], chunk[2][2]
            if plain:
                totals = [t + x / sa + y / sb + z / sc for t, x, y, z in zip(before, a, b, c)]
            else:
                totals = [t + ma * ((x - la) / sa) + mb * ((y - lb) / sb) + mc * ((z - lc) / sc)
                          for t, x, y, z in zip(before, a, b, c)]
        for position in set().union(*[term.overrides for term, _low, _span in chunk]):
            total = 0.0 if before is None else before[position]
            for term, low, span in chunk:
                total = total + term.multiplier_at(position) * ((term.raw[position] - low) / span)
            totals[position] = total
    return totals


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
        if self.count > 1:
            # Where aggregate metadata names a weigher's option (its multiplier then
            # comes from there). A weigher adds nothing (so it is left out) when its
            # multiplier is 0 and no such host, or every raw figure is 0.
            overridden = self._overridden(set(weigher.option for weigher in weighers))
            for weigher in weighers:
                overridden_at = overridden.get(weigher.option)
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
        """[weight] of every host under self._bounds, term by term in the
        weighers' order, as weigh_hosts adds them."""
        size = len(self.hosts)
        totals = None   # all 0.0
        run = []        # consecutive terms nearly every host adds to
        for term, (low, span) in zip(self.terms, self._bounds):
            if not span:
                continue
            if not (term.finite and term.mostly_at(low)):
                run.append((term, low, span))
                continue
            totals = _add_terms(totals, run, size)
            if totals is None:
                totals = [0.0] * size
            run = []
            # A figure at the low adds multiplier * 0.0, which leaves the total
            # as it is: where most are there (failed builds, group members), add
            # to the others only.
            raw = term.raw
            # (With low 0, the figures not at it are the true ones.)
            for position in compress(count(), raw if low == 0 else map(ne, raw, repeat(low))):
                totals[position] = totals[position] + term.multiplier_at(position) * ((raw[position] - low) / span)
        totals = _add_terms(totals, run, size)
        return [0.0] * size if totals is None else totals

    def _score_one(self, position, bounds):
        total = 0.0
        for term, (low, span) in zip(self.terms, bounds):
            if span:
                total = total + term.multiplier_at(position) * ((term.raw[position] - low) / span)
        return total

    def best(self, count):
        """The best `count` candidates: [(position, weight)], best first.
        With one candidate left, its weight is 0.0 (one host is not weighed)."""
        if self.count <= 1:
            return [(p, 0.0) for p, alive in enumerate(self.alive) if alive][:count]
        if self._order is None:
            scores = self.scores
            return [(p, scores[p]) for p in heapq.nlargest(count, range(len(scores)), key=scores.__getitem__)]
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
        alive = range(len(self.hosts)) if self.count == len(self.hosts) else \
            [p for p, flag in enumerate(self.alive) if flag]
        for term in self.terms:
            term.track(alive)
        scores = self.scores
        self._order = SortedList([(-scores[p], p) for p in alive])

    def replace(self, position, host):
        """The host at position is now this object (a copy the scheduler consumes)."""
        self.hosts[position] = host

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
        key = (-self.scores[position], position)
        self._order.remove(key)

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
        self._order = SortedList([(-scores[p], p) for p, alive in enumerate(self.alive) if alive])
