# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_server_action: the collection's one module action (see plugin_utils/module_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    TAKES_HYPERVISORS = True
    HYPERVISOR_GROUP = "nova_compute"
