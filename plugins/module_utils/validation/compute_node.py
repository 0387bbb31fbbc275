# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compute node's variables: the nova_compute role's, and the nova_* host variables nova_server
reads from the inventory, checked (by nova_compute_validate) before the role changes anything.
Errors name the variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import (
    HOST_VARIABLES, VIRT_TYPES, hypervisor_options)
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    check_int, check_name, check_options, check_text, fail, is_control, plain_absolute)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import URI_VALUE_RE
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import DEFAULT_URI

BRIDGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,15}\Z")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+~:-]+)?\Z")
POSIX_ACCOUNT_RE = re.compile(r"^(?:[a-z_][a-z0-9_-]{0,31}|\+[0-9]{1,10})\Z")
AUTHORIZED_KEY_RE = re.compile(r"(?:^|\s)(?:ssh-[A-Za-z0-9-]+|ecdsa-[A-Za-z0-9-]+|sk-[A-Za-z0-9@.-]+) "
                               r"[A-Za-z0-9+/]+={0,3}(?:\s|\Z)")
NETWORK_KEYS = ("name", "cidr", "bridge")
# Ranges a guest network must not take: the host's own, multicast, reserved.
FORBIDDEN_NETWORKS = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"))


def check_bridge(field, value):
    if not isinstance(value, str) or not BRIDGE_RE.match(value):
        fail(field, "%r is not a valid bridge name (at most 15 letters, digits, '-', '_')" % (value,))
    return value


def check_cidr(field, value):
    """An IPv4 subnet for an isolated network with DHCP: /8 to /29, not a host-reserved range."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        fail(field, "%r is not an IPv4 subnet such as 10.213.7.0/24" % (value,))
    if net.prefixlen < 8:
        fail(field, "%r is larger than a /8" % value)
    if net.num_addresses < 8:
        fail(field, "%r is too small for a DHCP range (at most /29)" % value)
    for forbidden in FORBIDDEN_NETWORKS:
        if net.overlaps(forbidden):
            fail(field, "%r overlaps %s, which guests must not use" % (value, forbidden))
    return str(net)


def check_network(field, network):
    """One network of the nova_compute role / nova_network: name, cidr, optional bridge."""
    if not isinstance(network, dict):
        fail(field, "must be a dictionary with name, cidr and bridge")
    unknown = sorted(str(k) for k in set(network) - set(NETWORK_KEYS))
    if unknown:
        fail(field, "unknown keys %s" % ", ".join(unknown))
    checked = {"name": check_name(field + ".name", network.get("name")),
               "cidr": check_cidr(field + ".cidr", network.get("cidr")), "bridge": None}
    if network.get("bridge") is not None:
        checked["bridge"] = check_bridge(field + ".bridge", network["bridge"])
    return checked


def _check_list(field, value):
    if not isinstance(value, list):
        fail(field, "must be a list")
    return value


def check_compute_variables(variables, is_file=os.path.isfile):
    """The nova_compute role's variables and the nova_* host variables the scheduler reads,
    checked before the role changes anything. Errors name the variable.

    `is_file` tells whether a path exists on the control node (the probe guest is copied
    from there)."""
    var = dict((k, v) for k, v in (variables or {}).items() if v is not None)
    for index, package in enumerate(_check_list("nova_compute_packages", var.get("nova_compute_packages", []))):
        if not isinstance(package, str) or not PACKAGE_RE.match(package):
            fail("nova_compute_packages[%d]" % index, "%r is not a Debian package name" % (package,))
    if "nova_compute_apt_cache_valid_time" in var:
        check_int("nova_compute_apt_cache_valid_time", var["nova_compute_apt_cache_valid_time"], 0, 10 * 365 * 86400)
    if var.get("nova_compute_virt_type", "auto") not in VIRT_TYPES:
        fail("nova_compute_virt_type", "%r is not one of %s" % (var["nova_compute_virt_type"], ", ".join(VIRT_TYPES)))
    probe = {}
    for key in ("nova_compute_kvm_probe_kernel", "nova_compute_kvm_probe_initrd"):
        path = var.get(key) or ""
        if path:
            if not isinstance(path, str) or not plain_absolute(path) or any(is_control(ch) for ch in path):
                fail(key, "%r is not a plain absolute path on the control node (no '..')" % (path,))
            if not is_file(path):
                fail(key, "%r is not an existing file on the control node" % path)
        probe[key] = path
    if bool(probe["nova_compute_kvm_probe_kernel"]) != bool(probe["nova_compute_kvm_probe_initrd"]):
        missing = [k for k, v in sorted(probe.items()) if not v][0]
        fail(missing, "the KVM probe needs both nova_compute_kvm_probe_kernel and nova_compute_kvm_probe_initrd")
    if "nova_compute_kvm_probe_marker" in var:
        check_text("nova_compute_kvm_probe_marker", var["nova_compute_kvm_probe_marker"], 255, allow_empty=False)
    if "nova_compute_kvm_probe_timeout" in var:
        check_int("nova_compute_kvm_probe_timeout", var["nova_compute_kvm_probe_timeout"], 1, 3600)
    for key in ("nova_compute_qemu_user", "nova_compute_qemu_group"):
        if key in var and (not isinstance(var[key], str) or not POSIX_ACCOUNT_RE.match(var[key])):
            fail(key, "%r is not a user or group name (or +UID)" % (var[key],))
    if "nova_compute_no_cgroups" in var:
        check_options("nova_compute_no_cgroups", {"nova_compute_no_cgroups": dict(type="bool")},
                      {"nova_compute_no_cgroups": var["nova_compute_no_cgroups"]})
    networks = _check_list("nova_compute_networks", var.get("nova_compute_networks", []))
    seen = []
    for index, network in enumerate(networks):
        field = "nova_compute_networks[%d]" % index
        checked = check_network(field, network)
        for other_index, other in seen:
            if checked["name"] == other["name"]:
                fail(field + ".name", "%r is also the name of nova_compute_networks[%d]"
                     % (checked["name"], other_index))
            if checked["bridge"] and checked["bridge"] == other["bridge"]:
                fail(field + ".bridge", "%r is also the bridge of nova_compute_networks[%d]"
                     % (checked["bridge"], other_index))
            if ipaddress.IPv4Network(checked["cidr"]).overlaps(ipaddress.IPv4Network(other["cidr"])):
                fail(field + ".cidr", "%r overlaps nova_compute_networks[%d] (%s)"
                     % (checked["cidr"], other_index, other["cidr"]))
        seen.append((index, checked))
    keys = _check_list("nova_compute_authorized_keys", var.get("nova_compute_authorized_keys", []))
    for index, key in enumerate(keys):
        field = "nova_compute_authorized_keys[%d]" % index
        check_text(field, key, 16384, allow_empty=False)
        if not AUTHORIZED_KEY_RE.search(key):
            fail(field, "is not an OpenSSH public key line")
    # The host variables nova_server reads from the inventory, named as the inventory names them:
    # each one through its suboption's spec (the error names the variable), then the entry.
    options = hypervisor_options()
    hv = {"name": "compute", "uri": var.get("nova_libvirt_uri") or DEFAULT_URI}
    for option, variable in HOST_VARIABLES.items():
        if variable in var:
            hv[option] = check_options(variable, {option: options[option]}, {option: var[variable]})[option]
    field_names = dict((option, variable) for option, variable in HOST_VARIABLES.items())
    field_names["uri"] = "nova_libvirt_uri"
    check_hypervisor("hypervisor", check_options("hypervisor", options, hv), field_names)
    known_hosts = var.get("nova_libvirt_known_hosts")
    if known_hosts and (not isinstance(known_hosts, str) or not plain_absolute(known_hosts)
                        or not URI_VALUE_RE.match(known_hosts)):
        fail("nova_libvirt_known_hosts", "%r is not a plain absolute path (no '..')" % (known_hosts,))
    return var
