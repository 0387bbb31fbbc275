# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt networks and their DHCP reservations: the fixed IPs of the servers' ports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import (
    DriverError, libvirt)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.locks import HostLock
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import xml_string


def find_network(conn, name):
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            return None
        raise


FORWARD_MODES = ("isolated", "nat", "route")


def ensure_network(conn, name, cidr, bridge=None, dhcp=True, forward_mode="isolated"):
    """A libvirt network with DHCP, defined when missing: isolated (no <forward>, the default),
    or with <forward mode='nat'/> (guests reach out through the host's NAT) or
    <forward mode='route'/> (routed, no NAT: the rest of the network needs a route back)."""
    if forward_mode not in FORWARD_MODES:
        raise DriverError("network %s: unknown forward mode %r" % (name, forward_mode))
    net = find_network(conn, name)
    defined = False
    if net is None:
        network = ipaddress.IPv4Network(cidr, strict=False)
        # first and last usable addresses, without listing the hosts of a large subnet
        first = network.network_address + 1
        last = network.broadcast_address - 1
        root = ET.Element("network")
        ET.SubElement(root, "name").text = name
        if forward_mode != "isolated":
            ET.SubElement(root, "forward", mode=forward_mode)
        if bridge:
            ET.SubElement(root, "bridge", name=bridge, stp="off")
        ip = ET.SubElement(root, "ip", address=str(first), netmask=str(network.netmask))
        if dhcp:
            dhcp_el = ET.SubElement(ip, "dhcp")
            ET.SubElement(dhcp_el, "range", start=str(first + 1), end=str(last))
        net = conn.networkDefineXML(xml_string(root))
        defined = True
    try:
        if not net.isActive():
            net.create()
        if defined:
            net.setAutostart(1)
    except libvirt.libvirtError as exc:
        if defined:  # a network that cannot start (its subnet is in use...) is not left behind
            net.undefine()
        raise DriverError("cannot start network %s: %s" % (name, exc.get_error_message()))
    return net


def network_info(net):
    """What a network really is, from its definition: name, bridge, cidr (the subnet, with the
    host's address as given), dhcp_start, dhcp_end, forward_mode (isolated when it has no
    <forward>), active, autostart."""
    root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    forward = root.find("forward")
    bridge = root.find("bridge")
    subnet = network_subnet(net)
    dhcp = network_dhcp(net)
    return {
        "name": net.name(),
        "bridge": bridge.get("name") if bridge is not None else None,
        "cidr": str(subnet.network) if subnet is not None else None,
        "address": str(subnet.ip) if subnet is not None else None,
        "dhcp_start": dhcp[0] if dhcp else None,
        "dhcp_end": dhcp[1] if dhcp else None,
        "forward_mode": "isolated" if forward is None else forward.get("mode", "nat"),
        "active": bool(net.isActive()),
        "autostart": bool(net.autostart()),
    }


def network_dhcp(net):
    """(range start, range end, {mac: (ip, name)}) of a network's first IPv4 DHCP."""
    root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    for ip in root.findall("ip"):
        if ip.get("family", "ipv4") != "ipv4":
            continue
        dhcp = ip.find("dhcp")
        if dhcp is None or dhcp.find("range") is None:
            continue
        rng = dhcp.find("range")
        hosts = {}
        for host in dhcp.findall("host"):
            if host.get("mac"):
                hosts[host.get("mac").lower()] = (host.get("ip"), host.get("name"))
        return rng.get("start"), rng.get("end"), hosts
    return None


_DHCP_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


def generate_mac():
    """Nova's fa:16:3e OUI followed by three random octets."""
    tail = os.urandom(3)
    return "fa:16:3e:%02x:%02x:%02x" % (tail[0], tail[1], tail[2])


def held_addresses(net, dhcp=None, mac=None):
    """The addresses `net` gives to MACs other than `mac`: its DHCP host entries and its leases (a
    lease outlives its guest, and dnsmasq keeps the address for the old MAC until it expires)."""
    mac = (mac or "").lower()
    dhcp = dhcp or network_dhcp(net)
    held = set(ip for other, (ip, _name) in dhcp[2].items() if other != mac) if dhcp else set()
    held.update(lease.get("ipaddr") for lease in leases(net) if (lease.get("mac") or "").lower() != mac)
    return held


def reserve_fixed_ip(conn, pool, net, mac, hostname, requested=None, avoid=()):
    """A DHCP host entry for `mac` on `net` (at `requested`, or the first free
    address of the DHCP range not in `avoid`); returns the address.

    Runs under the host's network lock so two builds never take one address.
    """
    with HostLock(pool, "net-" + net.name()):
        dhcp = network_dhcp(net)
        if dhcp is None:
            return None
        start, end, hosts = dhcp
        if mac in hosts:
            return hosts[mac][0]
        # a lease of this very MAC is the port's own (a server moved back to a host where its
        # guest held the address before) and not another's
        taken = held_addresses(net, dhcp, mac)
        first = int(ipaddress.ip_address(start))
        last = int(ipaddress.ip_address(end))
        address = None
        if requested is not None:
            if requested in taken or requested in avoid:
                raise DriverError(in_use(requested, net.name()))
            address = requested
        for candidate in range(first, last + 1):
            if address is not None:
                break
            text = str(ipaddress.ip_address(candidate))
            if text not in taken and text not in avoid:
                address = text
        if address is None:
            raise DriverError("network %s has no free address left in %s-%s" % (net.name(), start, end))
        host = ET.Element("host", mac=mac, ip=address)
        if hostname and _DHCP_HOSTNAME.match(hostname):
            host.set("name", hostname)
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                   libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, xml_string(host), flags)
        return address


def network_subnet(net):
    """The IPv4 subnet of a network's first IPv4 <ip>, or None."""
    root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    for ip in root.findall("ip"):
        if ip.get("family", "ipv4") != "ipv4" or not ip.get("address"):
            continue
        mask = ip.get("netmask") or ip.get("prefix") or "24"
        return ipaddress.IPv4Interface("%s/%s" % (ip.get("address"), mask))
    return None


def fixed_ip_problem(net, address, mac=None):
    """Why `address` cannot be reserved on `net` (for `mac`: outside its subnet, its own address,
    taken by another MAC, no DHCP), or None. The reservation itself re-checks under the network lock."""
    if net is None:
        return "the network is gone"
    subnet = network_subnet(net)
    dhcp = network_dhcp(net)
    if subnet is None or dhcp is None:
        return "network %s has no IPv4 DHCP to reserve %s in" % (net.name(), address)
    ip = ipaddress.IPv4Address(address)
    if ip not in subnet.network:
        return "%s is outside network %s (%s)" % (address, net.name(), subnet.network)
    if ip in (subnet.network.network_address, subnet.network.broadcast_address, subnet.ip):
        return "%s is the network, broadcast or host address of network %s" % (address, net.name())
    if address in held_addresses(net, dhcp, mac):
        return in_use(address, net.name())
    return None


def in_use(address, network):
    return "%s is already in use on network %s" % (address, network)


def release_fixed_ip(pool, net, mac):
    """Remove the DHCP host entry of `mac`; True when there was one."""
    with HostLock(pool, "net-" + net.name()):
        dhcp = network_dhcp(net)
        if dhcp is None or mac.lower() not in dhcp[2]:
            return False
        ip, name = dhcp[2][mac.lower()]
        host = ET.Element("host", mac=mac, ip=ip)
        if name:
            host.set("name", name)
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                   libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, xml_string(host), flags)
        return True


def leases(net):
    try:
        return net.DHCPLeases() or []
    except libvirt.libvirtError:
        return []
