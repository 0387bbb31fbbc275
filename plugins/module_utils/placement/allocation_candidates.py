# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement's capacity check: which providers can take an allocation.

A provider fits an amount of a resource class when it has an inventory of that class,
amount <= max_unit and used + amount <= capacity ((total - reserved) * allocation_ratio),
for every class asked (placement's allocation candidates, and the claim's
_check_capacity_exceeded). A provider's room in a class is the largest amount that fits,
min(max_unit, capacity - used): the check is then room >= amount. capacity - used is exact
in floating point wherever it is between 0 and capacity, so the two forms agree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from itertools import compress, repeat
from operator import attrgetter, le, not_

NO_INVENTORY = float("-inf")


def room(inventory, used):
    """The largest amount of the class that still fits (-inf without an inventory)."""
    if inventory is None:
        return NO_INVENTORY
    return float(min(inventory.max_unit, inventory.capacity - used))


def fits(rooms, resources):
    """True when every amount of resources ({class: amount}) is within rooms ({class: room})."""
    return all(rooms.get(rc, NO_INVENTORY) >= amount for rc, amount in resources.items())


def missing(rooms, resources):
    """The classes of resources that do not fit, in their order."""
    return [rc for rc, amount in resources.items() if not rooms.get(rc, NO_INVENTORY) >= amount]


def needs(resources, room_of):
    """[(the host attribute holding the room of a class, the amount asked of it)] for
    resources ({class: amount}); room_of: {class: attribute}."""
    return [(room_of[rc], float(amount)) for rc, amount in resources.items()]


def fits_host(host, host_needs):
    """True when the host's rooms hold every amount of host_needs (see needs())."""
    return all(getattr(host, attribute) >= amount for attribute, amount in host_needs)


def partition(hosts, host_needs):
    """(the hosts that fit host_needs (see needs()), the others), each in their order;
    hosts itself when all fit: placement's allocation candidates."""
    short = []      # (rooms, amount) of the classes some host has too little of
    for attribute, amount in host_needs:
        rooms = list(map(attrgetter(attribute), hosts))
        if min(rooms, default=amount) < amount:
            short.append((rooms, amount))
    if not short:
        return hosts, []
    if len(short) == 1:
        verdicts = list(map(le, repeat(short[0][1]), short[0][0]))
    else:
        verdicts = list(map(all, zip(*[map(le, repeat(amount), rooms) for rooms, amount in short])))
    if all(verdicts):
        return hosts, []
    return list(compress(hosts, verdicts)), list(compress(hosts, map(not_, verdicts)))
