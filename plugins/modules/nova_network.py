#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_network
short_description: An isolated libvirt network with DHCP on a hypervisor, for servers' NICs
version_added: "0.1.0"
description:
  - Ensures a libvirt network exists (defined, started, autostarted) or is gone on one hypervisor.
  - The network is isolated, with no forward element and no NAT; guests reach each other and the
    host's bridge address only. DHCP hands out the range of O(cidr) past its first address;
    M(novalite.compute.nova_server) reserves one address per NIC in it.
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
attributes:
  check_mode:
    support: full
    description: Reports what would change.
  diff_mode:
    support: none
    description: Not supported.
options:
  name:
    description: Network name.
    type: str
    required: true
  cidr:
    description: IPv4 subnet, for example C(10.213.7.0/24); the host takes its first address.
    type: str
  bridge:
    description: Bridge device name (at most 15 characters); libvirt picks one when omitted.
    type: str
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
  uri:
    description: libvirt URI of the hypervisor.
    type: str
    default: qemu:///system
"""

EXAMPLES = r"""
- name: A private network for servers
  novalite.compute.nova_network:
    name: private
    cidr: 10.213.7.0/24
    bridge: nlbr-private
"""

RETURN = r"""
network:
  description: The network's name, bridge, CIDR and whether it is active.
  returned: when O(state=present)
  type: dict
"""

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils import libvirt_driver
from ansible_collections.novalite.compute.plugins.module_utils import validation


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cidr=dict(type="str"),
            bridge=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            uri=dict(type="str", default=libvirt_driver.DEFAULT_URI),
        ),
        required_if=[("state", "present", ("cidr",))],
        supports_check_mode=True,
    )
    if not libvirt_driver.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"),
                         exception=str(libvirt_driver.LIBVIRT_IMPORT_ERROR))
    params = module.params
    try:
        validation.check_name("name", params["name"])
        validation.check_uri("uri", params["uri"])
        if params["bridge"] is not None and not re.match(r"^[A-Za-z0-9_-]{1,15}$", params["bridge"]):
            validation.fail("bridge", "%r is not a valid bridge name (at most 15 letters, digits, '-', '_')"
                            % params["bridge"])
        if params["cidr"] is not None:
            try:
                net = ipaddress.IPv4Network(params["cidr"], strict=False)
            except ValueError:
                validation.fail("cidr", "%r is not an IPv4 subnet" % params["cidr"])
            if net.num_addresses < 8:
                validation.fail("cidr", "%r is too small for a DHCP range" % params["cidr"])
        conn = libvirt_driver.connect(params["uri"])
        existing = libvirt_driver.find_network(conn, params["name"])
        if params["state"] == "absent":
            if existing is not None and not module.check_mode:
                if existing.isActive():
                    existing.destroy()
                existing.undefine()
            module.exit_json(changed=existing is not None)
        changed = existing is None or not existing.isActive()
        if changed and not module.check_mode:
            existing = libvirt_driver.ensure_network(conn, params["name"], params["cidr"], params["bridge"])
        info = {"name": params["name"], "cidr": params["cidr"], "active": True}
        if existing is not None:
            info["bridge"] = existing.bridgeName() if existing.isActive() else params["bridge"]
    except (validation.InvalidRequest, libvirt_driver.DriverError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, network=info)


if __name__ == "__main__":
    main()
