# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.num_instances.NumInstancesWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class NumInstancesWeigher(BaseHostWeigher):
    """num_instances; off by default, negative prefers emptier hosts."""

    name = "NumInstancesWeigher"
    option = "num_instances_weight_multiplier"
    default_multiplier = 0.0
    attribute = "num_instances"
