# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind the modules that take `hypervisors`: fill it from an inventory group,
then run the module on the control node, or its work right here (see HypervisorsAction.TASK)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os
import re
import sys

from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
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


def run_in_process(task, args, check_mode=False, diff=False, module_name="module"):
    """What the module would return for args, computed in this process: the arguments checked
    as AnsibleModule checks them (the same validator), the task module's run(), the result
    without no_log values and through JSON, as the module's standard output would carry it."""
    validated = ModuleArgumentSpecValidator(task.argument_spec(), required_if=task.REQUIRED_IF).validate(args)
    params = dict(args)
    params.update(validated.validated_parameters)
    if validated.error_messages:
        msg = validated.errors.msg
        if isinstance(validated.errors[0], UnsupportedError):
            msg = "Unsupported parameters for (%s) module: %s" % (module_name, msg)
        result = {"failed": True, "msg": msg}
    else:
        result = task.run(params, check_mode=check_mode, diff=diff)
    result["invocation"] = {"module_args": params}
    kept = dict((key, value) for key, value in result.items() if value is None or isinstance(value, bool))
    result = remove_values(result, validated._no_log_values)
    result.update(kept)
    return json.loads(json.dumps(result))


def _same_python(path):
    """Is path this Python, in this environment (the same file, run from the same directory)?"""
    try:
        return os.path.dirname(os.path.abspath(path)) == os.path.dirname(os.path.abspath(sys.executable)) \
            and os.path.samefile(path, sys.executable)
    except OSError:
        return False


class HypervisorsAction(ActionBase):
    """`DEFAULT_GROUP` is used when the task names no hypervisor_group; None: only when named.

    `TASK`: the module_utils module holding the module's work (argument_spec(), REQUIRED_IF,
    missing_libraries(), run(params, check_mode, diff)). When the module would run on this
    machine, in this Python (a local connection, no become, no task environment, no async, the
    interpreter this process's own or left to discovery) and this Python has the libraries, the
    action runs that work itself: no module payload is built, no Python started, and the
    collection's code is imported compiled. Otherwise, or with no TASK, the module runs."""

    TRANSFERS_FILES = False
    DEFAULT_GROUP = "nova_compute"
    TASK = None

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
        task = self._task_in_process(task_vars)
        if task is None:
            result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
        else:
            result.update(run_in_process(task, args, check_mode=self._task.check_mode, diff=self._task.diff,
                                         module_name=module))
        if from_inventory and result.get("failed") and isinstance(result.get("msg"), str):
            result["msg"] = inventory_hint(result["msg"], list(hosts))
        return result

    def _task_in_process(self, task_vars):
        """The TASK module if this process may run the module's work itself, else None."""
        if self.TASK is None or self._connection.transport != "local" or self._play_context.become \
                or any(self._task.environment or ()) or self._task.async_val:
            return None
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = self._templar.template(interpreter)
            if not str(interpreter).startswith("auto") and not _same_python(str(interpreter)):
                return None
        # Imported here, in the worker: the libraries it loads stay out of ansible-playbook's
        # own process, which forks the workers.
        try:
            task = importlib.import_module("ansible_collections.novalite.compute.plugins.module_utils." + self.TASK)
        except ImportError:
            return None
        return None if task.missing_libraries() else task
