# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's vm_states, task_states and power_state (nova.compute.vm_states, task_states,
power_state), the API status they show as (nova.api.openstack.common's state map), the power
state sync of ComputeManager._sync_power_states, and the build lease read from a record."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# vm_states
BUILDING = "building"
ACTIVE = "active"
STOPPED = "stopped"
PAUSED = "paused"
SUSPENDED = "suspended"
RESCUED = "rescued"
RESIZED = "resized"
ERROR = "error"
DELETED = "deleted"

# task_states
SCHEDULING = "scheduling"
NETWORKING = "networking"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
SPAWNING = "spawning"
DELETING = "deleting"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
REBUILDING = "rebuilding"
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
REBUILD_SPAWNING = "rebuild_spawning"
REBUILD_STATES = (REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING)
# The moves' task_states (resize and cold migrate share them, as in Nova; live migration is MIGRATING)
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
MIGRATING = "migrating"
RESIZE_STATES = (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)
MOVE_STATES = RESIZE_STATES + (RESIZE_REVERTING, RESIZE_CONFIRMING, MIGRATING)

# power_state
NOSTATE = 0
RUNNING = 1
PAUSED_POWER = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED_POWER = 7
POWER_STATES = {NOSTATE: "NOSTATE", RUNNING: "RUNNING", PAUSED_POWER: "PAUSED", SHUTDOWN: "SHUTDOWN",
                CRASHED: "CRASHED", SUSPENDED_POWER: "SUSPENDED"}

# The API status of each vm_state, and of the tasks that change it (nova.api.openstack.common's
# _STATE_MAP: an active server rebooting is REBOOT, rebuilding REBUILD, ...).
STATUS = {BUILDING: "BUILD", ACTIVE: "ACTIVE", STOPPED: "SHUTOFF", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED",
          RESCUED: "RESCUE", RESIZED: "VERIFY_RESIZE", ERROR: "ERROR", DELETED: "DELETED"}
TASK_STATUS = {(ACTIVE, REBOOTING): "REBOOT", (ACTIVE, REBOOT_PENDING): "REBOOT", (ACTIVE, REBOOT_STARTED): "REBOOT",
               (ACTIVE, REBOOTING_HARD): "HARD_REBOOT", (ACTIVE, REBOOT_PENDING_HARD): "HARD_REBOOT",
               (ACTIVE, REBOOT_STARTED_HARD): "HARD_REBOOT"}
TASK_STATUS.update(((vm_state, task), "REBUILD") for vm_state in (ACTIVE, STOPPED, ERROR) for task in REBUILD_STATES)
TASK_STATUS.update(((vm_state, task), "RESIZE") for vm_state in (ACTIVE, STOPPED) for task in RESIZE_STATES)
TASK_STATUS.update({(RESIZED, RESIZE_REVERTING): "REVERT_RESIZE", (RESIZED, RESIZE_CONFIRMING): "VERIFY_RESIZE",
                    (ACTIVE, MIGRATING): "MIGRATING"})


def lease_seconds(environ=None):
    """How long a run's lease on its build, task or move outlives the run's last renewal: what a
    rerun waits after a run was killed. NOVALITE_LEASE_SECONDS on the control node (10 to 3600;
    default 60); the heartbeat renews a lease four times within it (leases.py)."""
    text = (os.environ if environ is None else environ).get("NOVALITE_LEASE_SECONDS", "60")
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 10 <= value <= 3600:
        raise ValueError("NOVALITE_LEASE_SECONDS: %r is not a whole number of seconds from 10 to 3600" % text)
    return value


# A build's lease runs this long past its last renewal (see build_in_progress and leases.py).
LEASE_SECONDS = lease_seconds()


def is_building(record):
    """A server still being built (vm_state building): until its build ends it is not a server
    yet, and a build whose run died is reaped. A built server with a task in progress (a stop, a
    rebuild) is a server: its abandoned task is recovered (compute.manager), never reaped."""
    return record.get("vm_state") in (BUILDING, None)


def is_shadow(record, host):
    """A copy of a server that is not where the server is: the other host's side of a move (the
    destination's domain while a resize or migration is prepared, the source's until the move is
    confirmed). Its record has the move's migration and names the server's host, which is not the
    host holding it (a record without a migration is never a shadow: hypervisors renamed in the
    inventory do not hide servers)."""
    return bool(record.get("migration")) and bool(record.get("host")) and record.get("host") != host


def is_transient(record):
    """A copy that is not (or no longer) a server: one being built, or being deleted. Past its
    lease (a delete has none) its run died, and what it left is reaped."""
    return is_building(record) or record.get("task_state") == DELETING


def task_in_progress(record, now):
    """A task (a build, an action) whose run still holds its lease."""
    lease = record.get("lease_until")
    return record.get("task_state") is not None and isinstance(lease, float) and lease > now


def is_complete(record):
    """A server whose build finished: no task in progress and past building."""
    return record.get("task_state") is None and record.get("vm_state") not in (BUILDING, None)


def build_in_progress(record, now):
    """An unfinished build whose run still holds its lease (lease_until, epoch
    seconds, renewed at each step of the build and by the run's heartbeat). A run
    that died stops renewing; past its lease the half-built server is abandoned and
    may be reaped."""
    if is_complete(record):
        return False
    lease = record.get("lease_until")
    return isinstance(lease, float) and lease > now


# _sync_power_states: (vm_state, power_state) -> the vm_state the domain's power state says.
_OFF = (SHUTDOWN, CRASHED, NOSTATE)
_SYNC = dict([((ACTIVE, power), STOPPED) for power in _OFF]
             + [((PAUSED, power), STOPPED) for power in _OFF]
             + [((ACTIVE, PAUSED_POWER), PAUSED), ((STOPPED, PAUSED_POWER), PAUSED),
                ((ACTIVE, SUSPENDED_POWER), SUSPENDED),
                ((STOPPED, RUNNING), ACTIVE), ((PAUSED, RUNNING), ACTIVE), ((SUSPENDED, RUNNING), ACTIVE)])


def sync_power_state(record):
    """The record's vm_state as ComputeManager._sync_power_states would leave it after reading the
    domain's power_state: an active server whose guest shut down (from inside, or with virsh),
    crashed or is gone is stopped, a paused guest paused; a stopped or paused one that runs again
    is active. A record with a task in progress is left as it is (Nova skips those too), and so
    is a suspended one whose domain is saved (shut off). Returns the record."""
    if record.get("task_state") is None:
        record["vm_state"] = _SYNC.get((record.get("vm_state"), record.get("power_state")), record.get("vm_state"))
    return record


def status(record):
    """openstack.cloud's `status` (Nova API status) for a vm_state and task_state."""
    vm_state = record.get("vm_state")
    return TASK_STATUS.get((vm_state, record.get("task_state"))) or STATUS.get(vm_state) or (
        vm_state or "UNKNOWN").upper()
