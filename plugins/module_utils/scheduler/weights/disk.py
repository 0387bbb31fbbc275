# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.disk.DiskWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class DiskWeigher(BaseHostWeigher):
    """free_disk_mb."""

    name = "DiskWeigher"
    option = "disk_weight_multiplier"
    minval = 0
    attribute = "free_disk_mb"
