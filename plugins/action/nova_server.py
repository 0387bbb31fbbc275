# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_server: the collection's one module action (see plugin_utils/module_action.py), which
also refuses an oversized user data before the module is built or run.

Nova refuses more than 65535 bytes of base64-encoded user data at its API, before anything else
reads the request. Here the check comes as early as Ansible lets an action come: on ansible-core
2.19 and newer, as the task's arguments are templated (finalize_task_arg, called for each
argument), so the value never reaches the module's arguments, their JSON, AnsibleModule's
parsing or its no_log scan of the result; on older ones, first thing in run(), before the
module's payload is built. The message names the field and its size, never its content."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail

from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import check_userdata
from ansible_collections.novalite.compute.plugins.plugin_utils.module_action import ModuleAction

# The option and the names it may be given as.
USER_DATA_NAMES = ("userdata", "user_data")


def user_data_problem(name, value):
    """Why the user data given as `name` is refused (too large), or None; other problems (its
    type) are left to the module's argument spec."""
    if name not in USER_DATA_NAMES or not isinstance(value, str):
        return None
    try:
        check_userdata(name, value)
    except InvalidRequest as exc:
        return str(exc)
    return None


class ActionModule(ModuleAction):
    TAKES_HYPERVISORS = True
    HYPERVISOR_GROUP = "nova_compute"

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        """ansible-core 2.19+: each argument as it is templated; an oversized user data stops the
        task here, before the other arguments are templated into it."""
        value = super(ActionModule, cls).finalize_task_arg(name, value, templar, context)
        problem = user_data_problem(name, value)
        if problem:
            raise AnsibleActionFail(problem)
        return value

    def run(self, tmp=None, task_vars=None):
        for name in USER_DATA_NAMES:
            problem = user_data_problem(name, self._task.args.get(name))
            if problem:
                return {"failed": True, "msg": problem}
        return super(ActionModule, self).run(tmp, task_vars)
