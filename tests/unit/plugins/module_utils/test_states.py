# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power state sync of Nova's _sync_power_states, and the status each vm_state shows as."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import states


@pytest.mark.parametrize("vm_state, power, synced, status", [
    ("active", states.RUNNING, "active", "ACTIVE"),
    ("active", states.SHUTDOWN, "stopped", "SHUTOFF"),
    ("active", states.CRASHED, "stopped", "SHUTOFF"),
    ("active", states.NOSTATE, "stopped", "SHUTOFF"),
    ("active", states.PAUSED_POWER, "paused", "PAUSED"),
    ("active", states.SUSPENDED_POWER, "suspended", "SUSPENDED"),
    ("stopped", states.RUNNING, "active", "ACTIVE"),
    ("stopped", states.SHUTDOWN, "stopped", "SHUTOFF"),
    ("paused", states.RUNNING, "active", "ACTIVE"),
    ("paused", states.SHUTDOWN, "stopped", "SHUTOFF"),
    ("suspended", states.SHUTDOWN, "suspended", "SUSPENDED"),
    ("building", states.SHUTDOWN, "building", "BUILD"),
    ("error", states.RUNNING, "error", "ERROR"),
])
def test_sync_power_state(vm_state, power, synced, status):
    record = states.sync_power_state({"vm_state": vm_state, "task_state": None, "power_state": power})
    assert (record["vm_state"], states.status(record)) == (synced, status)


def test_a_task_in_progress_is_not_synced():
    record = {"vm_state": "active", "task_state": "deleting", "power_state": states.SHUTDOWN}
    assert states.sync_power_state(record)["vm_state"] == "active"
