# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hypervisors of an inventory group, from host and group variables.

Each host of the group (default `nova_compute`) is a compute node. Its libvirt URI is
`nova_libvirt_uri` when set, else qemu+ssh to its ansible_host as its ansible_user with
the key Ansible uses for it (`ansible_ssh_private_key_file`), checking the host key in
~/.ssh/known_hosts; or, when `nova_libvirt_known_hosts` names a known_hosts file,
qemu+libssh2 (libvirt's own SSH client, which takes that file; its libssh transport stalls on
large replies) checking the host key there.
Settings come from `nova_*` variables.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
from urllib.parse import quote, urlencode

# HOST_VARIABLES: hypervisor option -> host variable (shared with the nova_compute role's checks)
from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import HOST_VARIABLES


def local_path(path):
    """A path of the control node as ssh takes it: ~ expanded, relative to the current directory."""
    return os.path.abspath(os.path.expanduser(str(path)))


def uri_host(address):
    """ansible_host as the host part of a URI and nothing else: an IPv6 address in brackets,
    anything else percent-quoted (so '/', '?' or '&' in it cannot add a path or URI options;
    the URI check then refuses what is not a host name or address)."""
    address = str(address)
    try:
        if ipaddress.ip_address(address).version == 6:
            return "[%s]" % address
    except ValueError:
        pass
    return quote(address, safe="")


def libvirt_uri(name, hostvars):
    if hostvars.get("nova_libvirt_uri"):
        return hostvars["nova_libvirt_uri"]
    if hostvars.get("ansible_connection") == "local":
        return "qemu:///system"
    address = hostvars.get("ansible_host") or name
    user = hostvars.get("ansible_user") or "root"
    params = {}
    scheme = "qemu+ssh"
    keyfile = hostvars.get("ansible_ssh_private_key_file") or hostvars.get("ansible_private_key_file")
    if keyfile:
        params["keyfile"] = local_path(keyfile)
    if hostvars.get("nova_libvirt_known_hosts"):
        scheme = "qemu+libssh2"
        params["known_hosts"] = local_path(hostvars["nova_libvirt_known_hosts"])
        params["sshauth"] = "privkey" if params.get("keyfile") else "agent,privkey"
    port = hostvars.get("ansible_port")
    netloc = "%s@%s" % (quote(str(user), safe=""), uri_host(address))
    if port and int(port) != 22:
        netloc += ":%d" % int(port)
    uri = "%s://%s/system" % (scheme, netloc)
    if params:
        uri += "?" + urlencode(sorted(params.items()), safe="/,")
    return uri


def hypervisors_from_inventory(group_hosts, hostvars_of):
    """[hypervisor dict] for the hosts of a group; hostvars_of(name) gives a host's variables."""
    hypervisors = []
    for name in group_hosts:
        hostvars = hostvars_of(name)
        hv = {"name": name, "uri": libvirt_uri(name, hostvars)}
        for option, variable in HOST_VARIABLES.items():
            value = hostvars.get(variable)
            if value is not None:
                hv[option] = value
        hypervisors.append(hv)
    return hypervisors
