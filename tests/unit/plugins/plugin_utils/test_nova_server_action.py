# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_server's action refuses an oversized user data before the module is built or run: as
the argument is templated (ansible-core 2.19+) and first thing in run() (older ones), naming
the field and its size, never quoting it."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.novalite.compute.plugins.action import nova_server as action
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import MAX_USER_DATA_RAW

SECRET = "s3cr3t-"


class Templar:
    """Stands for Ansible's TemplateEngine: templates '{{ big }}' into the value given."""

    def __init__(self, values):
        self.values = values

    def template(self, value):
        return self.values.get(value, value) if isinstance(value, str) else value


def test_oversized_user_data_stops_the_task_as_it_is_templated():
    big = SECRET + "x" * (100 * 1000 * 1000)
    with pytest.raises(AnsibleActionFail) as err:
        action.ActionModule.finalize_task_arg("userdata", "{{ big }}", Templar({"{{ big }}": big}), None)
    message = str(err.value)
    assert message.startswith("userdata: is 100000007 bytes"), message
    assert "65535" in message and SECRET not in message


def test_user_data_within_the_limit_and_other_arguments_pass_templated():
    templar = Templar({"{{ ok }}": "y" * MAX_USER_DATA_RAW, "{{ name }}": "web1"})
    assert action.ActionModule.finalize_task_arg("userdata", "{{ ok }}", templar, None) == "y" * MAX_USER_DATA_RAW
    assert action.ActionModule.finalize_task_arg("name", "{{ name }}", templar, None) == "web1"
    # another option may be long: only the user data is bounded here
    assert action.ActionModule.finalize_task_arg("images", ["z" * 100000], templar, None) == ["z" * 100000]
    # a user data that is not text is left to the module's argument spec
    assert action.user_data_problem("userdata", ["a"]) is None


def test_run_refuses_before_the_module_is_built(monkeypatch):
    act = action.ActionModule.__new__(action.ActionModule)
    act._task = SimpleNamespace(args={"name": "web1", "user_data": SECRET + "é" * MAX_USER_DATA_RAW})

    def no_module(*_args, **_kwargs):
        raise AssertionError("the module ran")
    monkeypatch.setattr(action.ModuleAction, "run", no_module)
    result = act.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"].startswith("user_data: is %d bytes" % (len(SECRET) + 2 * MAX_USER_DATA_RAW))
    assert SECRET not in result["msg"]
