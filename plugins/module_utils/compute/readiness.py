# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What `wait_for` waits for once a server is built: its domain running (active, the build's
own last step), the guest's DHCP lease on every port (lease), or its SSH port answering from the
control node (ssh, after the lease). Within what is left of the task's `timeout`; a server that does
not get there is reported with the tail of its console, and stays as it is (built and ACTIVE)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.exception import TaskTimeout
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network

WAIT_FOR = ("active", "lease", "ssh")
SSH_PORT = 22
POLL_SECONDS = 0.5


def not_ready(api, instances):
    """[message] for each ACTIVE instance that did not reach api.wait_for within the timeout."""
    problems = []
    if api.wait_for == "active":
        return problems
    for instance in instances:
        if instance["vm_state"] != states.ACTIVE:
            continue
        hv = api.hypervisors[instance["host"]]
        deadline = api.deadline
        try:
            wait_for_lease(deadline, hv, instance)
            if api.wait_for == "ssh":
                wait_for_ssh(deadline, instance)
        except TaskTimeout as exc:
            try:
                tail = guest.console_tail(hv.conn, hv.pool(), instance["uuid"])
            except Exception as read_exc:  # the message says why there is no console
                tail = "(the console could not be read: %s)" % read_exc
            problems.append("%s did not reach %s (%s); the end of its console:\n%s"
                            % (instance["name"], api.wait_for, exc, tail))
    return problems


def _left(deadline, doing):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TaskTimeout("timeout: %s" % doing)
    return left


def wait_for_lease(deadline, hv, instance):
    """Until the guest holds a DHCP lease for the MAC of each of its ports."""
    for port in instance.get("ports") or ():
        net = libvirt_network.find_network(hv.conn, port["network"])
        while not any((lease.get("mac") or "").lower() == port["mac"].lower()
                      for lease in libvirt_network.leases(net)):
            time.sleep(min(POLL_SECONDS, _left(deadline, "no DHCP lease of %s on %s"
                                               % (port["mac"], port["network"]))))


def wait_for_ssh(deadline, instance):
    """Until port 22 of the guest's first address accepts a TCP connection from here."""
    addresses = [port["ip"] for port in instance.get("ports") or () if port.get("ip")]
    if not addresses:
        raise TaskTimeout("%s has no address to reach its SSH port at" % instance["name"])
    while True:
        left = _left(deadline, "SSH on %s:%d did not answer" % (addresses[0], SSH_PORT))
        try:
            socket.create_connection((addresses[0], SSH_PORT), timeout=min(2.0, left)).close()
            return
        except OSError:
            time.sleep(min(POLL_SECONDS, left))
