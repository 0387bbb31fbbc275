# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's vm_states, task_states and power_state (nova.compute.vm_states, task_states,
power_state), the API status they show as, and the build lease read from a record."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# Nova's vm_states / task_states / power_state values used by the create flow.
BUILDING = "building"

ACTIVE = "active"

ERROR = "error"

DELETED = "deleted"

SCHEDULING = "scheduling"

NETWORKING = "networking"

BLOCK_DEVICE_MAPPING = "block_device_mapping"

SPAWNING = "spawning"

DELETING = "deleting"

# A build's lease runs this long past its run's timeout (see build_in_progress).
LEASE_MARGIN = 15

POWER_STATES = {0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED"}

NOSTATE = 0

RUNNING = 1



def is_complete(record):
    """A server whose build finished: no task in progress and past building."""
    return record.get("task_state") is None and record.get("vm_state") not in (BUILDING, None)



def build_in_progress(record, now):
    """An unfinished build whose run still holds its lease (lease_until, epoch
    seconds, renewed at each step of the build). A run that died stops renewing;
    past its lease the half-built server is abandoned and may be reaped."""
    if is_complete(record):
        return False
    lease = record.get("lease_until")
    return isinstance(lease, float) and lease > now



def status(record):
    """openstack.cloud's `status` (Nova API status) for a vm_state."""
    vm_state = record.get("vm_state")
    if vm_state == ACTIVE:
        return "ACTIVE"
    if vm_state == BUILDING:
        return "BUILD"
    if vm_state == ERROR:
        return "ERROR"
    if vm_state == DELETED:
        return "DELETED"
    return (vm_state or "UNKNOWN").upper()
