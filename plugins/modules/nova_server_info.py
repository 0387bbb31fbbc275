#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_server_info
short_description: List or show the servers on libvirt hypervisors, as Nova's server list does
version_added: "0.1.0"
description:
  - Reads every hypervisor of O(hypervisors) in parallel and returns its servers (the instance
    records in the domains' metadata, their status synced with the domains' power state), shaped
    as M(novalite.compute.nova_server) returns them.
  - Every filter given must match; with none, every server is listed. Like
    M(openstack.cloud.server_info).
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
extends_documentation_fragment:
  - novalite.compute.hypervisors
  - novalite.compute.hypervisors.inventory_group
  - novalite.compute.nova
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Not supported.
options:
  name:
    description:
      - Only the server of this name, or of this UUID, as the C(name) of M(openstack.cloud.server_info) takes a
        name or an ID (without its globbing).
    type: str
  id:
    description: Only the server of this UUID.
    type: str
  hypervisor:
    description: Only the servers on this hypervisor (its name in O(hypervisors)).
    type: str
  status:
    description: Only the servers of this status (C(ACTIVE), C(SHUTOFF), C(PAUSED), C(BUILD), C(ERROR), ...).
    type: str
  metadata:
    description: Only the servers whose metadata has every one of these key/value pairs.
    type: dict
  server_group:
    description: Only the members of this server group.
    type: str
  project:
    description: Only the servers of this project.
    type: str
  console_output:
    description:
      - Also each listed server's serial console, in its C(console_output) (read through libvirt, as
        M(novalite.compute.nova_server_action) O(novalite.compute.nova_server_action#module:action=console_output)
        reads it, and Nova's C(os-getConsoleOutput)).
    type: bool
    default: false
  console_length:
    description: With O(console_output), the number of lines (0 to 100000) from the end; all (up to 100 KiB) when not given.
    type: int
  flavors:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  images:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
    default: []
  keypairs:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  server_groups:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  quotas:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  scheduler:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  notifications_file:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
"""

EXAMPLES = r"""
- name: Every server of the inventory's hypervisors
  novalite.compute.nova_server_info:
  register: all_servers

- name: The web servers that run
  novalite.compute.nova_server_info:
    metadata:
      role: web
    status: ACTIVE
  register: web

- name: One server by UUID
  novalite.compute.nova_server_info:
    id: 8f2c1f8e-6d0a-4f53-9a40-1d6c8f0e1a11

- name: The web servers with the last 10 lines of their consoles
  novalite.compute.nova_server_info:
    metadata:
      role: web
    console_output: true
    console_length: 10
"""

RETURN = r"""
servers:
  description:
    - The servers that match, sorted by name, each shaped as the RV(novalite.compute.nova_server#module:server)
      of M(novalite.compute.nova_server) (id, name, status, vm_state, task_state, power_state,
      hypervisor_hostname, availability_zone, flavor, image, addresses, metadata, server_group,
      created_at, launched_at, updated_at, fault, ...).
    - With O(console_output), each also has C(console_output), the lines of its serial console.
  returned: always
  type: list
  elements: dict
hypervisors_down:
  description: Hypervisors that could not be reached, with the reason; their servers are not listed.
  returned: when some hypervisor was unreachable
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest, check_int
from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import group_argument_spec
from ansible_collections.novalite.compute.plugins.module_utils.compute import hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import driver
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


def argument_spec():
    spec = dict(
        name=dict(type="str"),
        id=dict(type="str"),
        hypervisor=dict(type="str"),
        status=dict(type="str"),
        metadata=dict(type="dict"),
        server_group=dict(type="str"),
        project=dict(type="str"),
        console_output=dict(type="bool", default=False),
        console_length=dict(type="int"),
    )
    spec.update(group_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    params = module.params
    try:
        check_int("connect_timeout", params["connect_timeout"], 1, 3600)
        if params["console_length"] is not None:
            check_int("console_length", params["console_length"], 0, 100000)
        catalogs = check_catalogs([], [], params["hypervisors"])
    except InvalidRequest as exc:
        module.fail_json(msg=str(exc))
    hypervisors = [hypervisor.Hypervisor(config) for _name, config in sorted(catalogs["hypervisors"].items())]
    hypervisor.gather_all(hypervisors, params["connect_timeout"])
    filters = dict((key, params[key]) for key in instance_list.SERVER_FILTERS)
    result = {"changed": False, "servers": instance_list.list_servers(hypervisors, filters)}
    if params["console_output"]:
        by_name = dict((hv.name, hv) for hv in hypervisors)
        for server in result["servers"]:
            hv = by_name[server["hypervisor_hostname"]]
            pool = storage.find_pool(hv.conn, hv.config["storage_pool"])
            server["console_output"] = driver.get_console_output(hv.conn, pool, server["id"], params["console_length"]) \
                if pool is not None else ""
    down = dict((hv.name, hv.error) for hv in hypervisors if not hv.up)
    if down:
        result["hypervisors_down"] = down
    module.exit_json(**result)


if __name__ == "__main__":
    main()
