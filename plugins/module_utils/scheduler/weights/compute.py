# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.compute.BuildFailureWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class BuildFailureWeigher(BaseHostWeigher):
    """failed_builds, with the multiplier negated: recent failures sink a host."""

    name = "BuildFailureWeigher"
    option = "build_failure_weight_multiplier"
    default_multiplier = 1000000.0
    attribute = "failed_builds"

    def weight_multiplier(self, host_state):
        return -1 * super(BuildFailureWeigher, self).weight_multiplier(host_state)
