# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's options (nova.conf's [filter_scheduler] and [scheduler]): the filters, the
weight multipliers, max_attempts and host_subset_size."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as filters_mod
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.registry import build_weighers
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest


class SchedulerConfig:
    """Nova's [filter_scheduler]/[scheduler] options; ValueError names a bad one."""

    def __init__(self, enabled_filters=None, weight_multipliers=None, max_attempts=3, host_subset_size=1):
        if enabled_filters is None:
            enabled_filters = list(filters_mod.DEFAULT_FILTERS)
        if isinstance(enabled_filters, str) or not isinstance(enabled_filters, (list, tuple)):
            raise ValueError("enabled_filters: must be a list of filter names")
        for name in enabled_filters:
            if name in filters_mod.REMOVED_FILTERS:
                raise ValueError("enabled_filters: %s was %s; leave it out"
                                 % (name, filters_mod.REMOVED_FILTERS[name]))
            if name not in filters_mod.ALL_FILTERS:
                raise ValueError("enabled_filters: unknown filter %r (known: %s)"
                                 % (name, ", ".join(sorted(filters_mod.ALL_FILTERS))))
        if len(set(enabled_filters)) != len(enabled_filters):
            raise ValueError("enabled_filters: a filter is listed twice")
        for field, value in (("max_attempts", max_attempts), ("host_subset_size", host_subset_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError("%s: must be an integer of at least 1, got %r" % (field, value))
        if weight_multipliers is not None and not isinstance(weight_multipliers, dict):
            raise ValueError("weight_multipliers: must be a dictionary")
        self.enabled_filters = list(enabled_filters)
        self.weight_multipliers = dict(weight_multipliers or {})
        self.max_attempts = max_attempts
        self.host_subset_size = host_subset_size
        self.filters = [filters_mod.ALL_FILTERS[name]() for name in self.enabled_filters]
        self.weighers = build_weighers(self.weight_multipliers)

    def __repr__(self):
        return "SchedulerConfig(enabled_filters=%r, weight_multipliers=%r, max_attempts=%d, host_subset_size=%d)" % (
            self.enabled_filters, self.weight_multipliers, self.max_attempts, self.host_subset_size)


def scheduler_config(options):
    """SchedulerConfig from the module's `scheduler` dictionary (Nova's option names)."""
    options = dict(options or {})
    enabled_filters = options.pop("enabled_filters", None)
    max_attempts = options.pop("max_attempts", 3)
    host_subset_size = options.pop("host_subset_size", 1)
    try:
        return SchedulerConfig(enabled_filters=enabled_filters, weight_multipliers=options,
                               max_attempts=max_attempts, host_subset_size=host_subset_size)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest("scheduler: %s" % exc)
