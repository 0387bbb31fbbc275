# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's vm_states, task_states and power_state (nova.compute.vm_states, task_states,
power_state), the API status they show as (nova.api.openstack.common's state map), the power
state sync of ComputeManager._sync_power_states, and the build lease read from a record."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# vm_states
BUILDING = "building"
ACTIVE = "active"
STOPPED = "stopped"
PAUSED = "paused"
SUSPENDED = "suspended"
ERROR = "error"
DELETED = "deleted"

# task_states
SCHEDULING = "scheduling"
NETWORKING = "networking"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
SPAWNING = "spawning"
DELETING = "deleting"

# power_state
NOSTATE = 0
RUNNING = 1
PAUSED_POWER = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED_POWER = 7
POWER_STATES = {NOSTATE: "NOSTATE", RUNNING: "RUNNING", PAUSED_POWER: "PAUSED", SHUTDOWN: "SHUTDOWN",
                CRASHED: "CRASHED", SUSPENDED_POWER: "SUSPENDED"}

# The API status of each vm_state (a task in progress does not change it here).
STATUS = {BUILDING: "BUILD", ACTIVE: "ACTIVE", STOPPED: "SHUTOFF", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED",
          ERROR: "ERROR", DELETED: "DELETED"}

# A build's lease runs this long past its last renewal (see build_in_progress and leases.py).
LEASE_SECONDS = 60


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
    """openstack.cloud's `status` (Nova API status) for a vm_state."""
    vm_state = record.get("vm_state")
    return STATUS.get(vm_state) or (vm_state or "UNKNOWN").upper()
