#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_network
short_description: A libvirt network with DHCP on a hypervisor, for servers' NICs
version_added: "0.1.0"
description:
  - Ensures a libvirt network exists (defined, started, autostarted) or is gone on one hypervisor.
  - By default the network is isolated (no forward element, no NAT); guests reach each other and
    the host's bridge address only, so a control node elsewhere cannot reach them (the
    M(novalite.compute.nova_server) C(wait_for=ssh) check and the nova inventory's C(ansible_host)
    need a route). O(forward_mode=nat) lets guests out through the host's NAT, O(forward_mode=route)
    routes the subnet without NAT (the rest of the network then needs a route back to it).
  - DHCP hands out the range of O(cidr) past its first address; M(novalite.compute.nova_server)
    reserves one address per NIC in it.
  - An existing network is not redefined. When it differs from the request (another subnet, DHCP
    range, bridge or forward mode), the module reports the network as it really is, lists the
    differences in RV(drift) and warns, or fails with O(on_drift=fail); to change a network,
    remove it (O(state=absent)) and create it again.
notes:
  - A C(nat) or C(route) network makes libvirt add firewall rules (iptables or nftables) on the
    hypervisor for its subnet; they go with the network.
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
  forward_mode:
    description:
      - C(isolated) - no forward element, guests reach the host and each other only.
      - C(nat) - libvirt's C(<forward mode='nat'/>), guests reach out through the host's NAT.
      - C(route) - libvirt's C(<forward mode='route'/>), the subnet routed through the host without NAT.
    type: str
    choices: [isolated, nat, route]
    default: isolated
  on_drift:
    description:
      - What to do when the network exists with other figures than requested (see RV(drift)) -
        C(warn) reports them with a warning and leaves the network as it is, C(fail) fails the task
        before anything is changed; as O(novalite.compute.nova_server#module:on_drift) does for a server.
    type: str
    choices: [warn, fail]
    default: warn
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

- name: A network whose guests the control node reaches through the hypervisor, and that fails when it differs
  novalite.compute.nova_network:
    name: reachable
    cidr: 10.213.8.0/24
    forward_mode: route
    on_drift: fail
"""

RETURN = r"""
network:
  description:
    - The network as it is on the hypervisor (as requested, in check mode, for one not yet made).
  returned: when O(state=present)
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    bridge:
      description: Its bridge device.
      type: str
    cidr:
      description: Its IPv4 subnet.
      type: str
      sample: 10.213.7.0/24
    address:
      description: The host's address on it.
      type: str
    dhcp_start:
      description: First address of its DHCP range.
      type: str
    dhcp_end:
      description: Last address of its DHCP range.
      type: str
    forward_mode:
      description: C(isolated), C(nat), C(route), or another mode libvirt has.
      type: str
    active:
      description: Whether it is started.
      type: bool
    autostart:
      description: Whether libvirt starts it at boot.
      type: bool
drift:
  description:
    - How an existing network differs from the request - one item per field (C(cidr), C(dhcp_start),
      C(dhcp_end), C(bridge), C(forward_mode)) with the C(requested) and the C(actual) value; empty when
      it matches or was just made.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{field: cidr, requested: 10.99.0.0/24, actual: 10.213.7.0/24}]
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


def requested_figures(params):
    """The network the request describes, in network_info's terms."""
    subnet = ipaddress.IPv4Network(params["cidr"], strict=False)
    return {"name": params["name"], "bridge": params["bridge"], "cidr": str(subnet),
            "address": str(subnet.network_address + 1), "dhcp_start": str(subnet.network_address + 2),
            "dhcp_end": str(subnet.broadcast_address - 1), "forward_mode": params["forward_mode"]}


def network_drift(requested, actual):
    """[{field, requested, actual}] where an existing network differs from the request (the
    DHCP range compared when the subnet is the same; the bridge when one is asked for)."""
    fields = ["cidr"]
    if requested["cidr"] == actual["cidr"]:
        fields += ["dhcp_start", "dhcp_end"]
    if requested["bridge"] is not None:
        fields.append("bridge")
    fields.append("forward_mode")
    return [{"field": field, "requested": requested[field], "actual": actual[field]}
            for field in fields if requested[field] != actual[field]]


def drift_message(name, uri, drift):
    return "network %s on %s exists with other figures than requested (%s)" % (
        name, uri, "; ".join("%s: requested %s, actual %s" % (d["field"], d["requested"], d["actual"]) for d in drift))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cidr=dict(type="str"),
            bridge=dict(type="str"),
            forward_mode=dict(type="str", default="isolated", choices=list(libvirt_network.FORWARD_MODES)),
            on_drift=dict(type="str", default="warn", choices=["warn", "fail"]),
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
    drift = []
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
        requested = requested_figures(params)
        if existing is None:
            check_free(conn, params["name"], params["cidr"], params["bridge"])
        else:
            drift = network_drift(requested, libvirt_network.network_info(existing))
            if drift and params["on_drift"] == "fail":
                module.fail_json(msg=drift_message(params["name"], params["uri"], drift) + "; on_drift=fail, "
                                 "nothing changed (remove the network with state=absent to make it anew)",
                                 drift=drift, network=libvirt_network.network_info(existing))
            if drift:
                module.warn(drift_message(params["name"], params["uri"], drift) + "; it is left as it is "
                            "(remove it with state=absent to make it anew, or on_drift=fail to stop)")
        changed = existing is None or not existing.isActive()
        if changed and not module.check_mode:
            existing = libvirt_network.ensure_network(conn, params["name"], params["cidr"], params["bridge"],
                                                      forward_mode=params["forward_mode"])
        if existing is not None:
            info = libvirt_network.network_info(existing)
        else:  # check mode, a network not made yet
            info = dict(requested, active=True, autostart=True)
    except (InvalidRequest, connection.DriverError) as exc:
        module.fail_json(msg=str(exc))
    except connection.libvirt.libvirtError as exc:
        module.fail_json(msg="network %s: %s" % (params["name"], exc.get_error_message()))
    module.exit_json(changed=changed, network=info, drift=drift)


if __name__ == "__main__":
    main()
