# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main() of a module whose work lives in a task module of module_utils (server_task,
host_facts_task: argument_spec(), REQUIRED_IF, missing_libraries(), run()), which its action
may also run in its own process (plugin_utils/hypervisor_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib


def run_module(task):
    module = AnsibleModule(
        argument_spec=task.argument_spec(),
        required_if=task.REQUIRED_IF,
        supports_check_mode=True,
    )
    for library, error in task.missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=str(error))
    result = task.run(module.params, check_mode=module.check_mode, diff=module._diff)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
