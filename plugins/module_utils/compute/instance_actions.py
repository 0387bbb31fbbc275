# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server actions (nova.compute.instance_actions) and the API's checks before any of them
runs (nova.compute.api's check_instance_state and check_instance_lock decorators, with each
action's allowed vm_states), plus where each action leads, for idempotence.

The checks raise before anything changes, with Nova's messages:
  InstanceInvalidState  "Cannot 'pause' instance web-1 while it is in vm_state stopped"
  InstanceIsLocked      "Instance web-1 is locked"
  UnexpectedTaskState   another run's task took the server first (expected_task_state)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError

# nova.compute.instance_actions (the action names the API records), by the module's action.
START = "start"
STOP = "stop"
REBOOT = "reboot"
PAUSE = "pause"
UNPAUSE = "unpause"
SUSPEND = "suspend"
RESUME = "resume"
RESCUE = "rescue"
UNRESCUE = "unrescue"
REBUILD = "rebuild"
RESIZE = "resize"
MIGRATE = "migrate"
CONFIRM_RESIZE = "confirm_resize"
REVERT_RESIZE = "revert_resize"
LIVE_MIGRATE = "live_migrate"
EVACUATE = "evacuate"
# the moves that go back through the scheduler (compute/migrate.py)
MOVES = (RESIZE, MIGRATE, CONFIRM_RESIZE, REVERT_RESIZE, LIVE_MIGRATE)
LOCK = "lock"
UNLOCK = "unlock"
CONSOLE_OUTPUT = "console_output"
DELETE = "delete"
UPDATE_METADATA = "update_metadata"

ACTIONS = (START, STOP, REBOOT, PAUSE, UNPAUSE, SUSPEND, RESUME, RESCUE, UNRESCUE, REBUILD, LOCK, UNLOCK,
           CONSOLE_OUTPUT)

# vm_states.ALLOW_SOFT_REBOOT / ALLOW_HARD_REBOOT
ALLOW_SOFT_REBOOT = (states.ACTIVE,)
ALLOW_HARD_REBOOT = ALLOW_SOFT_REBOOT + (states.STOPPED, states.PAUSED, states.SUSPENDED, states.ERROR)

# The vm_states each action is allowed in (check_instance_state(vm_state=...)); None: any.
ALLOWED_VM_STATES = {
    STOP: (states.ACTIVE, states.RESCUED, states.ERROR),
    START: (states.STOPPED,),
    PAUSE: (states.ACTIVE,),
    UNPAUSE: (states.PAUSED,),
    SUSPEND: (states.ACTIVE,),
    RESUME: (states.SUSPENDED,),
    RESCUE: (states.ACTIVE, states.STOPPED, states.ERROR),
    UNRESCUE: (states.RESCUED,),
    REBUILD: (states.ACTIVE, states.STOPPED, states.ERROR),
    RESIZE: (states.ACTIVE, states.STOPPED),
    MIGRATE: (states.ACTIVE, states.STOPPED),
    CONFIRM_RESIZE: (states.RESIZED,),
    REVERT_RESIZE: (states.RESIZED,),
    LIVE_MIGRATE: (states.ACTIVE, states.PAUSED),
    EVACUATE: (states.ACTIVE, states.STOPPED, states.ERROR),
    LOCK: None,
    UNLOCK: None,
    CONSOLE_OUTPUT: None,
    DELETE: None,
}

# check_instance_lock: the actions a locked server refuses (lock, unlock and reading the console
# are not lock-checked in Nova).
LOCK_CHECKED = (START, STOP, REBOOT, PAUSE, UNPAUSE, SUSPEND, RESUME, RESCUE, UNRESCUE, REBUILD, DELETE,
                RESIZE, MIGRATE, CONFIRM_RESIZE, REVERT_RESIZE, LIVE_MIGRATE, UPDATE_METADATA)

# Where an action leads: a server already there is left as it is (changed false). Reboot and
# rebuild lead nowhere new: they always act.
LEADS_TO = {
    STOP: states.STOPPED, START: states.ACTIVE, PAUSE: states.PAUSED, UNPAUSE: states.ACTIVE,
    SUSPEND: states.SUSPENDED, RESUME: states.ACTIVE, RESCUE: states.RESCUED, UNRESCUE: states.ACTIVE,
}

# The task_state the API sets as it accepts the action (compute.api), then the manager's.
TASK_STATES = {
    STOP: states.POWERING_OFF, START: states.POWERING_ON, PAUSE: states.PAUSING, UNPAUSE: states.UNPAUSING,
    SUSPEND: states.SUSPENDING, RESUME: states.RESUMING, RESCUE: states.RESCUING, UNRESCUE: states.UNRESCUING,
    REBUILD: states.REBUILDING,
}

# Nova's legacy notification names (compute.instance.<name>.start/.end).
NOTIFICATION_NAMES = {
    STOP: "power_off", START: "power_on", REBOOT: "reboot", PAUSE: "pause", UNPAUSE: "unpause",
    SUSPEND: "suspend", RESUME: "resume", RESCUE: "rescue", UNRESCUE: "unrescue", REBUILD: "rebuild",
}


class InstanceInvalidState(ComputeError):
    """nova.exception.InstanceInvalidState."""


class InstanceIsLocked(ComputeError):
    """nova.exception.InstanceIsLocked."""


class UnexpectedTaskState(ComputeError):
    """nova.exception.UnexpectedTaskStateError: the record's task_state is not what the save
    expected (another run's task took the server first)."""


def reboot_task_state(reboot_type):
    return states.REBOOTING_HARD if reboot_type == "hard" else states.REBOOTING


def already_there(action, record):
    """Whether the server is already where `action` leads (nothing to do)."""
    if action == LOCK:
        return bool(record.get("locked"))
    if action == UNLOCK:
        return not record.get("locked")
    return action in LEADS_TO and record.get("vm_state") == LEADS_TO[action] and record.get("task_state") is None


def check_instance_state(action, record, now, reboot_type="soft"):
    """check_instance_state: the server's vm_state allows the action, and no task of another
    run is under way on it (task_state set, its lease live). A task whose run died (its lease
    over) has been recovered before this is asked."""
    name = record.get("name") or record.get("uuid")
    if action == CONSOLE_OUTPUT and states.is_building(record):
        raise InstanceInvalidState("Cannot '%s' instance %s while it is in vm_state %s"
                                   % (action, name, record.get("vm_state")))
    if action not in (LOCK, UNLOCK, CONSOLE_OUTPUT) and states.task_in_progress(record, now):
        raise InstanceInvalidState("Cannot '%s' instance %s while it is in task_state %s (another run is "
                                   "acting on it; its lease runs %.0f s more)" % (
                                       action, name, record.get("task_state"), record["lease_until"] - now))
    allowed = ALLOWED_VM_STATES.get(action)
    if action == REBOOT:
        allowed = ALLOW_HARD_REBOOT if reboot_type == "hard" else ALLOW_SOFT_REBOOT
    if allowed is not None and record.get("vm_state") not in allowed:
        raise InstanceInvalidState("Cannot '%s' instance %s while it is in vm_state %s"
                                   % ("reboot" if action == REBOOT else action, name, record.get("vm_state")))


def check_instance_lock(action, record, override_lock=False):
    """check_instance_lock: a locked server refuses every lock-checked action unless the caller
    overrides the lock (Nova's admin); an admin's lock is unlocked only with the override."""
    name = record.get("name") or record.get("uuid")
    if action == UNLOCK and record.get("locked") and record.get("locked_by") == "admin" and not override_lock:
        raise InstanceIsLocked("Instance %s is locked by admin: unlock it with override_lock" % name)
    if action in LOCK_CHECKED and record.get("locked") and not override_lock:
        raise InstanceIsLocked("Instance %s is locked: unlock it first (action unlock), or set override_lock"
                               % name)
