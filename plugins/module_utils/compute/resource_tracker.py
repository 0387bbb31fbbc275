# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.compute.resource_tracker's reports: what a host has allocated against its limits, and
its failed_builds count kept on the host itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.placement.inventory import DISK_GB, MEMORY_MB, VCPU
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host


def capacity(hv):
    """Per resource, placement's view of a host for reports: what its instances have
    allocated (used) against its capacity (limit: (total - reserved) x allocation ratio)."""
    if not hv.up:
        return None
    state = hv.host_state()
    report = {}
    for key, rc in (("vcpus", VCPU), ("memory_mb", MEMORY_MB), ("disk_gb", DISK_GB)):
        inventory = state.inventories.get(rc)
        report[key] = {"used": state.usages[rc], "limit": inventory.capacity if inventory is not None else 0.0}
    return report


def record_build(hv, failed):
    """Nova's failed_builds on the host itself: one more on a failure, 0 on a success.

    The BuildFailureWeigher of later requests reads it back from the host record.
    """
    with hv.lock:
        count = hv.failed_builds + 1 if failed else 0
        if count == hv.failed_builds or not hv.up:
            return
        hv.failed_builds = count
        try:
            libvirt_host.update_host_record(hv.conn, hv.pool(), failed_builds=count)
        except Exception:  # the host may be what failed; the count stays in memory
            pass
