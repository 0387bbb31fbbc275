# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.core_filter.CoreFilter (Nova before placement, up to Stein)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import ResourceFilter


class CoreFilter(ResourceFilter):
    """Enough vCPUs: vcpus_used + requested <= vcpus * cpu_allocation_ratio, and requested
    <= vcpus; a host reporting no vCPUs passes (Nova's fail-safe: CPU collection is
    broken). HostState.vcpu_room is the largest request meeting both (infinite then)."""

    name = "CoreFilter"
    room = "vcpu_room"

    def requested(self, spec_obj):
        return spec_obj.vcpus

    def reason(self, spec_obj):
        return "fewer than %d vCPUs usable" % self.requested(spec_obj)
