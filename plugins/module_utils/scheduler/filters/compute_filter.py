# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.compute_filter.ComputeFilter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import BaseHostFilter


class ComputeFilter(BaseHostFilter):
    """The compute service is enabled and up."""

    name = "ComputeFilter"
    run_filter_once_per_request = True

    def host_inputs(self, spec_obj):
        return ("enabled", "up")

    def host_passes(self, host_state, spec_obj):
        return host_state.enabled and host_state.up

    def reason(self, spec_obj):
        return "down or disabled"
