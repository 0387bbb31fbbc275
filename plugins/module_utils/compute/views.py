# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result views: a server shaped like openstack.cloud.server's result
(nova.api.openstack.compute.views.servers), and what --diff shows of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import states


def diff_view(server):
    """The part of a server that --diff shows."""
    return {"status": server["status"], "hypervisor_hostname": server["hypervisor_hostname"],
            "flavor": server["flavor"]["name"], "image": server["image"]["name"],
            "metadata": server["metadata"],
            "addresses": dict((net, [p["addr"] for p in ports]) for net, ports in server["addresses"].items())}


def server_view(record, hv=None):
    """A server shaped like openstack.cloud.server's result."""
    addresses = {}
    for port in record.get("ports") or []:
        addresses.setdefault(port["network"], []).append({
            "addr": port.get("ip"), "version": 4, "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": port["mac"]})
    flavor = record.get("flavor") or {}
    host = record.get("host") or (hv.name if hv else None)
    return {
        "id": record.get("uuid"),
        "name": record.get("name"),
        "status": states.status(record),
        "vm_state": record.get("vm_state"),
        "task_state": record.get("task_state"),
        "power_state": record.get("power_state", 0),
        "power_state_name": states.POWER_STATES.get(record.get("power_state", 0), "NOSTATE"),
        "hypervisor_hostname": host,
        "compute_host": host,
        "hypervisor_uri": hv.uri if hv else None,
        "availability_zone": record.get("availability_zone"),
        "flavor": {"name": flavor.get("name"), "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"),
                   "disk": flavor.get("disk"), "ephemeral": flavor.get("ephemeral", 0),
                   "swap": flavor.get("swap", 0), "extra_specs": flavor.get("extra_specs") or {}},
        "image": {"name": record.get("image")},
        "key_name": record.get("key_name") or None,
        "addresses": addresses,
        "metadata": record.get("metadata") or {},
        "project_id": record.get("project_id"),
        "server_group": record.get("server_group") or None,
        "created_at": record.get("created_at"),
        "launched_at": record.get("launched_at"),
        "updated_at": record.get("updated_at"),
        "fault": record.get("fault"),
        "reservation_id": record.get("reservation_id"),
        "launch_index": record.get("launch_index", 0),
        "config_drive": bool(record.get("config_drive")),
        "locked": bool(record.get("locked")),
        "locked_by": record.get("locked_by") if record.get("locked") else None,
    }
