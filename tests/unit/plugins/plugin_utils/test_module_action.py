# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors about hypervisors built from the inventory name the host variable they came from; the
action runs the module's main() in its own process only where the module would run here, in
this Python, on an ansible-core whose AnsibleModule has a serialization profile."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.action.nova_server import ActionModule
from ansible_collections.novalite.compute.plugins.plugin_utils import module_action
from ansible_collections.novalite.compute.plugins.plugin_utils.module_action import inventory_hint, same_python


def test_inventory_errors_name_the_host_variable():
    hosts = ["c1", "c2"]
    assert inventory_hint("hypervisors[1].cpu_allocation_ratio: -1.0 must be above 0", hosts).endswith(
        "(host variable nova_cpu_allocation_ratio of host c2)")
    assert "nova_libvirt_uri" in inventory_hint("hypervisors[0].uri: 'x' is not valid", hosts)
    assert inventory_hint("hypervisors[0].name: 'a b' is not valid", hosts).endswith("(the inventory name of host c1)")
    assert inventory_hint("hypervisors[5].enabled: bad", hosts) == "hypervisors[5].enabled: bad"
    assert inventory_hint("flavor: unknown", hosts) == "flavor: unknown"


# --------------------------------------------------------------- in process or as a module

ELSEWHERE = os.path.join(os.path.dirname(os.path.dirname(sys.executable)), "elsewhere",
                         os.path.basename(sys.executable))


def action(transport="local", become=False, environment=None, async_val=0):
    """nova_server's action with the task attributes the choice reads (the rest is not needed);
    environment: the task's, [{}] (none) by default."""
    act = ActionModule.__new__(ActionModule)
    act._connection = SimpleNamespace(transport=transport)
    act._play_context = SimpleNamespace(become=become)
    act._task = SimpleNamespace(environment=[{}] if environment is None else list(environment),
                                async_val=async_val)
    act._templar = SimpleNamespace(template=lambda value: value)
    return act


def test_the_work_runs_in_process_on_this_python_with_a_local_connection():
    for interpreter in (None, sys.executable, "auto", "auto_silent"):
        vars_ = {} if interpreter is None else {"ansible_python_interpreter": interpreter}
        assert action().runs_in_process(vars_) is True, interpreter


@pytest.mark.parametrize("act, task_vars", [
    (action(transport="ssh"), {}),
    (action(become=True), {}),
    (action(environment=[{"HTTPS_PROXY": "http://proxy:3128"}]), {}),
    (action(environment=["{{ proxy_env }}"]), {}),
    (action(async_val=60), {}),
    (action(), {"ansible_python_interpreter": "/nonexistent/bin/python3"}),
    (action(), {"ansible_python_interpreter": ELSEWHERE}),
])
def test_otherwise_the_module_runs(act, task_vars):
    assert act.runs_in_process(task_vars) is False


def test_an_ansible_core_without_serialization_profiles_runs_the_module(monkeypatch):
    monkeypatch.setattr(module_action, "get_module_encoder", None)
    assert action().runs_in_process({}) is False


def test_every_module_has_the_one_module_action():
    modules = os.path.join(os.path.dirname(module_action.__file__), os.pardir, "modules")
    names = sorted(name[:-3] for name in os.listdir(modules) if name.endswith(".py") and name != "__init__.py")
    assert len(names) >= 6, names
    for name in names:
        action_module = __import__("ansible_collections.novalite.compute.plugins.action." + name,
                                   fromlist=["ActionModule"])
        assert issubclass(action_module.ActionModule, module_action.ModuleAction), name


def test_same_python_is_the_same_file_from_the_same_directory():
    assert same_python(sys.executable)
    assert not same_python("/nonexistent/python3")
    assert not same_python(os.path.join(os.path.dirname(sys.executable), "no-such-python"))
