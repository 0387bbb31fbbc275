# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every module of the collection: fill `hypervisors` from an inventory group
(for the modules that take it), then run the module.

Where the module would run on this machine in this very Python (a local connection, no become,
no task environment, no async, the interpreter this process's own or left to discovery), the
action runs the module's own main() in its process: AnsibleModule reads the same arguments (with
the internal ones Ansible adds), validates them and masks no_log values itself, and prints its
result, which the action parses as it parses a module's output. That saves building the module's
payload, starting a Python and compiling the collection from source (about 0.4 s a task).
Everywhere else, and on an ansible-core whose AnsibleModule has no serialization profile (before
2.19), the module runs as a module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import re
import sys

from ansible.module_utils import basic
from ansible.plugins.action import ActionBase
from ansible.vars.clean import remove_internal_keys

from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import (
    HOST_VARIABLES, hypervisors_from_inventory)

try:
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # ansible-core before 2.19: the module always runs as a module
    Direction = get_module_encoder = None

MODULES = "ansible_collections.novalite.compute.plugins.modules."
PROFILE = "legacy"
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


def same_python(path):
    """Is path this Python, in this environment (the same file, run from the same directory)?"""
    try:
        return os.path.dirname(os.path.abspath(path)) == os.path.dirname(os.path.abspath(sys.executable)) \
            and os.path.samefile(path, sys.executable)
    except OSError:
        return False


class ModuleAction(ActionBase):
    """HYPERVISOR_GROUP: the inventory group whose hosts are the hypervisors when the task gives
    no `hypervisors` (the task's `hypervisor_group` overrides it); None for a module that takes
    no hypervisors, or (with TAKES_HYPERVISORS) only when the task names a group."""

    TRANSFERS_FILES = False
    TAKES_HYPERVISORS = False
    HYPERVISOR_GROUP = None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ModuleAction, self).run(tmp, task_vars)
        args = dict(self._task.args)
        hosts = []
        if self.TAKES_HYPERVISORS and not args.get("hypervisors"):
            group = args.get("hypervisor_group") or self.HYPERVISOR_GROUP
            hosts = list(task_vars.get("groups", {}).get(group) or []) if group else []
            if hosts:
                hostvars = task_vars.get("hostvars", {})
                # Only the variables read are templated (not every variable of the host).
                args["hypervisors"] = hypervisors_from_inventory(hosts, hostvars.__getitem__)
        module = self._task.resolved_action or self._task.action
        if self.runs_in_process(task_vars):
            result.update(self._run_in_process(module, args, task_vars))
        else:
            result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
        if hosts and result.get("failed") and isinstance(result.get("msg"), str):
            result["msg"] = inventory_hint(result["msg"], hosts)
        return result

    def runs_in_process(self, task_vars):
        """Whether the module would run here, in this Python, so that its main() may run in process."""
        if get_module_encoder is None or self._connection.transport != "local" or self._play_context.become \
                or any(self._task.environment or ()) or self._task.async_val:
            return False
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = str(self._templar.template(interpreter))
            if not interpreter.startswith("auto") and not same_python(interpreter):
                return False
        return True

    def _run_in_process(self, module_name, module_args, task_vars):
        """The module's main() in this process (a worker of its own for this task), its output
        parsed as _execute_module parses a module's."""
        args = dict(module_args)
        self._update_module_args(module_name, args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}, cls=encoder).encode()
        basic._ANSIBLE_PROFILE = PROFILE
        output = io.StringIO()
        rc = 0
        with contextlib.redirect_stdout(output):
            try:
                # Imported here, in the worker: what it loads stays out of ansible-playbook's own
                # process, which forks the workers.
                importlib.import_module(MODULES + module_name.rsplit(".", 1)[-1]).main()
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
        data = self._parse_returned_data({"rc": rc, "stdout": output.getvalue(), "stderr": ""}, PROFILE)
        remove_internal_keys(data)
        return data
