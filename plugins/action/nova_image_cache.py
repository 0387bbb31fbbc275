# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill `hypervisors` from the inventory group, then run the module on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import (
    hypervisors_from_inventory)

DEFAULT_GROUP = "nova_compute"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        group = args.get("hypervisor_group") or DEFAULT_GROUP
        hosts = task_vars.get("groups", {}).get(group) or []
        if not args.get("hypervisors") and hosts:
            hostvars = task_vars.get("hostvars", {})
            args["hypervisors"] = hypervisors_from_inventory(
                hosts, lambda name: dict((k, hostvars[name].get(k)) for k in hostvars[name]))
        module = self._task.resolved_action or self._task.action
        result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
        return result
