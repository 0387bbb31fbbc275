# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.aggregate_instance_extra_specs.AggregateInstanceExtraSpecsFilter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import extra_specs_ops
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import BaseHostFilter
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.utils import (
    aggregate_metadata_get_by_host)

_SCOPE = "aggregate_instance_extra_specs"


class AggregateInstanceExtraSpecsFilter(BaseHostFilter):
    """Every flavor extra spec (unscoped, or scoped 'aggregate_instance_extra_specs:')
    matches the metadata of one of the host's aggregates; other scopes are ignored."""

    name = "AggregateInstanceExtraSpecsFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.flavor.extra_specs)

    def host_inputs(self, spec_obj):
        return ("aggregates",)

    def host_passes(self, host_state, spec_obj):
        extra_specs = spec_obj.flavor.extra_specs
        if not extra_specs:
            return True
        metadata = aggregate_metadata_get_by_host(host_state)
        for key, req in extra_specs.items():
            scope = key.split(":", 1)
            if len(scope) > 1:
                if scope[0] != _SCOPE:
                    continue
                key = scope[1]
            values = metadata.get(key)
            if not values:
                return False
            if not any(extra_specs_ops.match(value, req) for value in sorted(values)):
                return False
        return True

    def reason(self, spec_obj):
        return "no aggregate matches the flavor's extra specs"
