# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind the modules that take `hypervisors`: fill it from an inventory group,
then run the module on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import (
    HOST_VARIABLES, hypervisors_from_inventory)

_HYPERVISOR_FIELD = re.compile(r"^hypervisors\[(\d+)\]\.([a-z_]+)")


def inventory_hint(message, hosts):
    """For an error about hypervisors[N].OPTION built from the inventory: which host variable
    of which host it came from."""
    match = _HYPERVISOR_FIELD.match(message or "")
    if not match or int(match.group(1)) >= len(hosts):
        return message
    host = hosts[int(match.group(1))]
    option = match.group(2)
    if option == "name":
        return "%s (the inventory name of host %s)" % (message, host)
    if option == "uri":
        return "%s (host %s: nova_libvirt_uri, or its ansible_host, ansible_user, ansible_port and " \
               "ansible_ssh_private_key_file)" % (message, host)
    if option in HOST_VARIABLES:
        return "%s (host variable %s of host %s)" % (message, HOST_VARIABLES[option], host)
    return message


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
        from_inventory = not args.get("hypervisors") and bool(hosts)
        if from_inventory:
            hostvars = task_vars.get("hostvars", {})
            # Only the variables read are templated (not every variable of the host).
            args["hypervisors"] = hypervisors_from_inventory(hosts, hostvars.__getitem__)
        module = self._task.resolved_action or self._task.action
        result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
        if from_inventory and result.get("failed") and isinstance(result.get("msg"), str):
            result["msg"] = inventory_hint(result["msg"], list(hosts))
        return result
