# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_server: hypervisors from the inventory group (see plugin_utils/hypervisor_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.plugin_utils.hypervisor_action import HypervisorsAction


class ActionModule(HypervisorsAction):
    DEFAULT_GROUP = "nova_compute"
    TASK = "server_task"
