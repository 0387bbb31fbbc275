# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.cpu.CPUWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class CPUWeigher(BaseHostWeigher):
    """Free vCPUs: vcpus_total * cpu_allocation_ratio - vcpus_used."""

    name = "CPUWeigher"
    option = "cpu_weight_multiplier"
    minval = 0
    attribute = "free_vcpus"
