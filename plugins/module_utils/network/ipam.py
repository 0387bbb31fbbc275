# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses across the fleet, as Neutron's IPAM gives a subnet's.

A network name is one network on every hypervisor that has it, and an address is given once in
it: a new port's address is one no host's network of that name gives out (DHCP host entry or
lease), so a server that moves keeps its address on the destination. The builds of all runs pick
addresses of one network one at a time (this run's lock, then the fleet's on the home hypervisor).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network


@contextlib.contextmanager
def addresses_elsewhere(api, network, here):
    """While held, no other build picks an address in `network`; yields what the network of that
    name gives out on the other reachable hosts."""
    others = [hv for hv in api.hypervisors.values() if hv is not here and hv.up and network in hv.networks]
    if not others:
        yield set()
        return
    with api.addressing, locks.HostLock(api.home_hypervisor().pool(), "addr-" + network,
                                        timeout=api.remaining("taking network %s's address lock" % network)):
        held = set()
        for hv in others:
            try:
                net = libvirt_network.find_network(hv.conn, network)
                if net is not None:
                    held |= libvirt_network.held_addresses(net)
            except libvirt_network.libvirt.libvirtError:
                continue    # the host stopped answering: what it gives out is unknown, as a down host's
        yield held


def ports_problem(hv, record):
    """Why `hv` cannot give the server its ports (a network missing, an address another MAC holds),
    or None."""
    for port in record.get("ports") or []:
        if port["network"] not in hv.networks:
            return "network %s is missing" % port["network"]
        if port.get("ip"):
            net = libvirt_network.find_network(hv.conn, port["network"])
            problem = libvirt_network.fixed_ip_problem(net, port["ip"], port["mac"])
            if problem:
                return problem
    return None
