# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind the modules that take `hypervisors`: fill it from an inventory group,
then run the module on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import (
    hypervisors_from_inventory)


class HypervisorsAction(ActionBase):
    """`DEFAULT_GROUP` is used when the task names no hypervisor_group; None: only when named."""

    TRANSFERS_FILES = False
    DEFAULT_GROUP = "nova_compute"

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(HypervisorsAction, self).run(tmp, task_vars)
        args = dict(self._task.args)
        group = args.get("hypervisor_group") or self.DEFAULT_GROUP
        hosts = task_vars.get("groups", {}).get(group) or [] if group else []
        if not args.get("hypervisors") and hosts:
            hostvars = task_vars.get("hostvars", {})
            args["hypervisors"] = hypervisors_from_inventory(
                hosts, lambda name: dict((k, hostvars[name].get(k)) for k in hostvars[name]))
        module = self._task.resolved_action or self._task.action
        result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
        return result
