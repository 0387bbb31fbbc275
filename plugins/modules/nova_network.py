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
    description:
      - IPv4 subnet, for example C(10.213.7.0/24); the host takes its first address.
      - From C(/8) to C(/29); not in the loopback, link-local, multicast or reserved ranges, and not
        overlapping another libvirt network of the hypervisor.
    type: str
  bridge:
    description:
      - Bridge device name (at most 15 letters, digits, C(-) and C(_)), not another network's;
        libvirt picks one when omitted.
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.validation.compute_node import check_bridge, check_cidr
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest, check_name, fail
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_uri


def check_free(conn, name, cidr, bridge):
    """A new network's subnet and bridge are not another libvirt network's."""
    wanted = ipaddress.IPv4Network(cidr, strict=False)
    for other in conn.listAllNetworks():
        if other.name() == name:
            continue
        if bridge is not None and other_bridge(other) == bridge:
            fail("bridge", "%r is the bridge of network %s" % (bridge, other.name()))
        subnet = libvirt_network.network_subnet(other)
        if subnet is not None and subnet.network.overlaps(wanted):
            fail("cidr", "%r overlaps network %s (%s)" % (cidr, other.name(), subnet.network))


def other_bridge(net):
    try:
        return net.bridgeName()
    except connection.libvirt.libvirtError:
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cidr=dict(type="str"),
            bridge=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            uri=dict(type="str", default=connection.DEFAULT_URI),
        ),
        required_if=[("state", "present", ("cidr",))],
        supports_check_mode=True,
    )
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"),
                         exception=str(connection.LIBVIRT_IMPORT_ERROR))
    params = module.params
    try:
        check_name("name", params["name"])
        check_uri("uri", params["uri"])
        if params["bridge"] is not None:
            check_bridge("bridge", params["bridge"])
        if params["cidr"] is not None:
            check_cidr("cidr", params["cidr"])
        conn = connection.connect(params["uri"])
        existing = libvirt_network.find_network(conn, params["name"])
        if params["state"] == "absent":
            if existing is not None and not module.check_mode:
                if existing.isActive():
                    existing.destroy()
                existing.undefine()
            module.exit_json(changed=existing is not None)
        if existing is None:
            check_free(conn, params["name"], params["cidr"], params["bridge"])
        changed = existing is None or not existing.isActive()
        if changed and not module.check_mode:
            existing = libvirt_network.ensure_network(conn, params["name"], params["cidr"], params["bridge"])
        info = {"name": params["name"], "cidr": params["cidr"], "active": True}
        if existing is not None:
            info["bridge"] = existing.bridgeName() if existing.isActive() else params["bridge"]
    except (InvalidRequest, connection.DriverError) as exc:
        module.fail_json(msg=str(exc))
    except connection.libvirt.libvirtError as exc:
        module.fail_json(msg="network %s: %s" % (params["name"], exc.get_error_message()))
    module.exit_json(changed=changed, network=info)


if __name__ == "__main__":
    main()
