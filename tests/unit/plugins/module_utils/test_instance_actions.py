# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API's checks before a server action (nova.compute.api's check_instance_state and
check_instance_lock), where each action leads, and the states a server mid-action is in: a
server whose action's run died is a server (recovered), never a build to reap."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import states


def record(vm_state="active", task_state=None, lease=None, **extra):
    return dict({"name": "web-1", "uuid": "u-1", "vm_state": vm_state, "task_state": task_state,
                 "lease_until": lease}, **extra)


@pytest.mark.parametrize("action, vm_state", [
    ("pause", "stopped"), ("start", "active"), ("unpause", "active"), ("resume", "active"),
    ("suspend", "paused"), ("unrescue", "active"), ("rebuild", "paused"), ("stop", "suspended"),
    ("rescue", "suspended"),
])
def test_an_action_not_allowed_in_the_vm_state_is_refused_as_nova_says(action, vm_state):
    with pytest.raises(ia.InstanceInvalidState) as exc:
        ia.check_instance_state(action, record(vm_state), time.time())
    assert str(exc.value) == "Cannot '%s' instance web-1 while it is in vm_state %s" % (action, vm_state)


@pytest.mark.parametrize("action, vm_state", [
    ("stop", "active"), ("stop", "error"), ("start", "stopped"), ("pause", "active"), ("unpause", "paused"),
    ("suspend", "active"), ("resume", "suspended"), ("rebuild", "stopped"), ("rebuild", "error"),
    ("rescue", "stopped"), ("unrescue", "rescued"), ("lock", "paused"), ("console_output", "stopped"),
])
def test_allowed(action, vm_state):
    ia.check_instance_state(action, record(vm_state), time.time())


def test_reboot_soft_only_when_active_hard_also_when_stopped_paused_suspended_or_in_error():
    now = time.time()
    with pytest.raises(ia.InstanceInvalidState, match="Cannot 'reboot' instance web-1 while it is in vm_state stopped"):
        ia.check_instance_state("reboot", record("stopped"), now, reboot_type="soft")
    for vm_state in ("active", "stopped", "paused", "suspended", "error"):
        ia.check_instance_state("reboot", record(vm_state), now, reboot_type="hard")


def test_another_runs_task_with_a_live_lease_is_refused_an_expired_one_is_not():
    now = time.time()
    with pytest.raises(ia.InstanceInvalidState, match="while it is in task_state powering-off"):
        ia.check_instance_state("start", record("active", "powering-off", now + 60), now)
    # the lease is over: not refused here (the task was recovered before the check is asked)
    ia.check_instance_state("stop", record("active", "powering-off", now - 1), now)
    # lock and the console are not refused by a task under way
    ia.check_instance_state("lock", record("active", "powering-off", now + 60), now)
    ia.check_instance_state("console_output", record("active", "powering-off", now + 60), now)


def test_locked_refuses_every_lock_checked_action_unless_overridden():
    locked = record(locked=True, locked_by="owner")
    for action in ia.LOCK_CHECKED:
        with pytest.raises(ia.InstanceIsLocked, match="Instance web-1 is locked"):
            ia.check_instance_lock(action, locked)
        ia.check_instance_lock(action, locked, override_lock=True)
    for action in ("lock", "unlock", "console_output"):
        ia.check_instance_lock(action, locked)


def test_an_admin_lock_is_unlocked_only_with_the_override():
    locked = record(locked=True, locked_by="admin")
    with pytest.raises(ia.InstanceIsLocked, match="locked by admin"):
        ia.check_instance_lock("unlock", locked)
    ia.check_instance_lock("unlock", locked, override_lock=True)


@pytest.mark.parametrize("action, vm_state, there", [
    ("stop", "stopped", True), ("stop", "active", False), ("start", "active", True), ("pause", "paused", True),
    ("unpause", "active", True), ("suspend", "suspended", True), ("resume", "active", True),
    ("rescue", "rescued", True), ("unrescue", "active", True), ("reboot", "active", False),
    ("rebuild", "active", False),
])
def test_already_there(action, vm_state, there):
    assert ia.already_there(action, record(vm_state)) is there


def test_already_there_is_not_said_of_a_server_mid_task():
    assert not ia.already_there("stop", record("stopped", "powering-on", time.time() + 60))


def test_lock_and_unlock_lead_to_the_lock_flag():
    assert ia.already_there("lock", record(locked=True))
    assert not ia.already_there("lock", record())
    assert ia.already_there("unlock", record())


def test_a_server_mid_action_is_no_build_a_build_or_a_delete_is_transient():
    assert not states.is_transient(record("active", "powering-off", time.time() - 100))
    assert not states.is_transient(record("stopped", "rebuilding", None))
    assert states.is_transient(record("building", "spawning", None))
    assert states.is_transient(record("active", "deleting", None))


@pytest.mark.parametrize("vm_state, task_state, status", [
    ("active", "rebooting", "REBOOT"), ("active", "reboot_started", "REBOOT"),
    ("active", "rebooting_hard", "HARD_REBOOT"), ("active", "rebuilding", "REBUILD"),
    ("stopped", "rebuild_spawning", "REBUILD"), ("rescued", None, "RESCUE"), ("active", "powering-off", "ACTIVE"),
    ("stopped", None, "SHUTOFF"),
])
def test_status_of_a_task_as_novas_state_map(vm_state, task_state, status):
    assert states.status(record(vm_state, task_state)) == status


def test_a_config_drive_gives_back_its_user_data_for_a_rebuild():
    from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
    instance = {"uuid": "u-1", "name": "web-1", "ports": []}
    assert configdrive.read_user_data(configdrive.build(instance, {}, "#cloud-config\nhello: 1\n")) == \
        "#cloud-config\nhello: 1\n"
    assert configdrive.read_user_data(configdrive.build(instance, {}, None)) is None


class _Api:
    check_mode = True  # nothing is reaped: settle only sorts the copies
    deadline = time.monotonic() + 1


def test_settle_keeps_a_server_whose_action_run_died_and_drops_an_abandoned_build():
    from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
    hv = object()
    past = time.time() - 100
    stopping = record("active", "powering-off", past, uuid="u-1")
    building = record("building", "spawning", past, name="web-2", uuid="u-2")
    settled = instance_list.settle(_Api(), {"web-1": [(hv, stopping)], "web-2": [(hv, building)]})
    assert settled == {"web-1": (hv, stopping)}
