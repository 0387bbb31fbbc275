# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.disk_filter.DiskFilter (Nova before placement, up to Stein)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import ResourceFilter


class DiskFilter(ResourceFilter):
    """Enough disk for root + ephemeral + swap: used + requested <= local_gb * 1024 *
    disk_allocation_ratio, and requested <= local_gb * 1024. HostState.disk_room_mb is
    the largest request meeting both."""

    name = "DiskFilter"
    room = "disk_room_mb"

    def requested(self, spec_obj):
        return 1024 * (spec_obj.root_gb + spec_obj.ephemeral_gb) + spec_obj.swap

    def reason(self, spec_obj):
        return "less than %d MB disk usable" % self.requested(spec_obj)
