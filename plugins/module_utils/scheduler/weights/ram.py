# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.ram.RAMWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class RAMWeigher(BaseHostWeigher):
    """free_ram_mb: positive multiplier spreads, negative packs."""

    name = "RAMWeigher"
    option = "ram_weight_multiplier"
    minval = 0
    attribute = "free_ram_mb"
