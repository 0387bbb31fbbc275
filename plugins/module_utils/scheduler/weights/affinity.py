# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.weights.affinity: ServerGroupSoftAffinityWeigher and
ServerGroupSoftAntiAffinityWeigher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.weights.base import BaseHostWeigher


class _SoftAffinityWeigherBase(BaseHostWeigher):
    policy_name = None
    sign = 1

    def applies_to(self, spec_obj):
        group = spec_obj.instance_group
        return group is not None and group.policy == self.policy_name

    def _weigh_object(self, host_state, spec_obj):
        if not self.applies_to(spec_obj):
            return 0
        return self.sign * host_state.count_group_members(spec_obj.instance_group)


class ServerGroupSoftAffinityWeigher(_SoftAffinityWeigherBase):
    """soft-affinity: members of the group on the host."""

    name = "ServerGroupSoftAffinityWeigher"
    option = "soft_affinity_weight_multiplier"
    policy_name = "soft-affinity"


class ServerGroupSoftAntiAffinityWeigher(_SoftAffinityWeigherBase):
    """soft-anti-affinity: minus the members of the group on the host."""

    name = "ServerGroupSoftAntiAffinityWeigher"
    option = "soft_anti_affinity_weight_multiplier"
    policy_name = "soft-anti-affinity"
    sign = -1
