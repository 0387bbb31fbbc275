# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The weighers (nova.scheduler.weights.all_weighers), their multipliers' options and defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.affinity import (
    ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.compute import BuildFailureWeigher
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.cpu import CPUWeigher
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.disk import DiskWeigher
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.num_instances import (
    NumInstancesWeigher)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.ram import RAMWeigher

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
