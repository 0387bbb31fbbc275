# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_host_facts: hypervisors from the inventory group (see plugin_utils/hypervisor_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.plugin_utils.hypervisor_action import HypervisorsAction


class ActionModule(HypervisorsAction):
    DEFAULT_GROUP = None
    TASK = "host_facts_task"
