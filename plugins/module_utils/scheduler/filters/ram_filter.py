# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.ram_filter.RamFilter (Nova before placement, up to Stein)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import ResourceFilter


class RamFilter(ResourceFilter):
    """Enough RAM: used + requested <= memory_mb * ram_allocation_ratio, and requested <=
    memory_mb (an instance may overcommit against others, never against itself).
    HostState.ram_room_mb is the largest request meeting both."""

    name = "RamFilter"
    room = "ram_room_mb"

    def requested(self, spec_obj):
        return spec_obj.memory_mb

    def reason(self, spec_obj):
        return "less than %d MB RAM usable" % self.requested(spec_obj)
