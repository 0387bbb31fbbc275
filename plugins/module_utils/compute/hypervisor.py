# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One compute node of the inventory and its libvirt connection, and the parallel
gathering of their facts (what Nova's host manager reads from its database)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


class Hypervisor:
    """One compute node of the inventory and its libvirt connection."""

    def __init__(self, config, create_pool=False):
        self.config = config
        self.create_pool = create_pool
        self.name = config["name"]
        self.uri = config["uri"]
        self.conn = None
        self.facts = None
        self.networks = ()
        self.error = None
        self.failed_builds = 0
        self._pool = None
        self.lock = threading.Lock()
        self._network_conn = None
        self._network_conn_lock = threading.Lock()
        # This run's builds on this host queue here for the host's claim and network locks, so
        # only one of them at a time polls the lock on the hypervisor (each poll: libvirt calls).
        self.claims = threading.Lock()
        self.reservations = threading.Lock()

    def gather(self):
        """Connect and read the host's facts; on failure the host is down."""
        try:
            self.conn = connection.connect(self.uri)
            self._pool = None   # a pool looked up on an earlier connection is not this one's
            if self.create_pool:
                self.pool()
            self.facts = libvirt_host.host_facts(self.conn, self.config["storage_pool"], self.config["virt_type"])
            self.networks = tuple(net.name() for net in self.conn.listAllNetworks() if net.isActive())
            self.failed_builds = self.facts.get("failed_builds", 0)
            self.error = None
        except Exception as exc:  # any failure to reach the host marks it down
            self.facts = None
            self.error = str(exc)

    @property
    def up(self):
        return self.facts is not None

    def pool(self):
        if self._pool is None:
            self._pool = storage.ensure_pool(self.conn, self.config["storage_pool"], self.config["storage_path"])
        return self._pool

    def network_conn(self):
        """A second connection to this host for DHCP reservations, opened on first use: while
        a virNetworkUpdate runs (~0.25 s: libvirt rewrites dnsmasq's hosts), libvirt answers
        nothing else on its connection, so the builds' other calls keep the main one. The main
        connection when a second cannot be opened."""
        with self._network_conn_lock:
            if self._network_conn is None:
                try:
                    self._network_conn = connection.connect(self.uri)
                except connection.DriverError:
                    self._network_conn = self.conn
            return self._network_conn

    def host_state(self, up=None):
        """The scheduler's HostState of this hypervisor; up False marks it down whatever its facts say."""
        config = dict(self.config, up=self.up if up is None else up, failed_builds=self.failed_builds)
        return HostState.from_facts(self.facts, config)

    def refresh_facts(self):
        self.facts = libvirt_host.host_facts(self.conn, self.config["storage_pool"], self.config["virt_type"])
        return self.facts

    def reconnect(self, within=15.0):
        """A fresh connection after the old one died (libvirtd restarted, the network
        came back); tried until `within` seconds pass. Raises DriverError."""
        deadline = time.monotonic() + within
        while True:
            try:
                conn = connection.connect(self.uri)
                break
            except connection.DriverError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
        old, self.conn, self._pool = self.conn, conn, None
        try:
            old.close()
        except Exception:  # already dead
            pass
        return conn

    def alive(self):
        try:
            return self.conn is not None and self.conn.isAlive() == 1
        except Exception:  # a closed connection
            return False


def gather_all(hypervisors, timeout):
    """Gather every hypervisor's facts in parallel; a host silent past `timeout` is down."""
    threads = []
    for hv in hypervisors:
        thread = threading.Thread(target=hv.gather, name="gather-%s" % hv.name)
        thread.daemon = True
        thread.start()
        threads.append((hv, thread))
    deadline = time.monotonic() + timeout
    for hv, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            hv.facts = None
            hv.error = "no answer from %s within %ss" % (hv.uri, timeout)
