# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters by name (nova.scheduler.filters.all_filters) and the default enabled_filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.affinity_filter import (
    DifferentHostFilter, SameHostFilter, ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import aggregate_instance_extra_specs
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.availability_zone_filter import (
    AvailabilityZoneFilter)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.compute_filter import ComputeFilter
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.image_props_filter import (
    ImagePropertiesFilter)

AggregateInstanceExtraSpecsFilter = aggregate_instance_extra_specs.AggregateInstanceExtraSpecsFilter

# enabled_filters' default, in the order the filters run (Nova 34's, with the filters
# this collection has; placement's capacity check runs before them, always).
DEFAULT_FILTERS = [
    "ComputeFilter",
    "AvailabilityZoneFilter",
    "AggregateInstanceExtraSpecsFilter",
    "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
    "SameHostFilter",
    "DifferentHostFilter",
]

ALL_FILTERS = dict((cls.name, cls) for cls in (
    ComputeFilter, AvailabilityZoneFilter,
    AggregateInstanceExtraSpecsFilter, ImagePropertiesFilter, ServerGroupAntiAffinityFilter,
    ServerGroupAffinityFilter, SameHostFilter, DifferentHostFilter))

# Filters Nova removed once placement did their work: named, they are refused with this.
REMOVED_FILTERS = dict((name, "removed from Nova in Train (20.0.0): placement's capacity check, which "
                              "always runs, does its work") for name in ("RamFilter", "DiskFilter", "CoreFilter"))
