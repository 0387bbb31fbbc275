# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.availability_zone_filter.AvailabilityZoneFilter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import BaseHostFilter
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.utils import (
    aggregate_metadata_get_by_host)


class AvailabilityZoneFilter(BaseHostFilter):
    """The host is in the requested zone (its own, or an aggregate's availability_zone)."""

    name = "AvailabilityZoneFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.availability_zone)

    def host_inputs(self, spec_obj):
        return ("availability_zone", "aggregates")

    def host_passes(self, host_state, spec_obj):
        zone = spec_obj.availability_zone
        if not zone:
            return True
        zones = aggregate_metadata_get_by_host(host_state, "availability_zone").get("availability_zone", set())
        return zone == host_state.availability_zone or zone in zones

    def reason(self, spec_obj):
        return "not in zone %s" % spec_obj.availability_zone
