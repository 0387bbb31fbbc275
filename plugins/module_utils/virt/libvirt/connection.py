# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections to libvirt (nova.virt.libvirt.host.Host's connection part).

One import of the libvirt binding for the package; remote connections send keepalives
and at most HANDSHAKES_PER_HOST SSH handshakes run at once to one host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from urllib.parse import urlsplit


try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc


DEFAULT_URI = "qemu:///system"


class DriverError(Exception):
    """A hypervisor operation failed; the message says which and why."""


def _quiet(_ctx, _err):
    return None


_CONNECT_LOCK = threading.Lock()

# sshd drops new connections beyond MaxStartups (10 by default) that have not logged in
# yet: this process opens at most this many SSH handshakes to one host at a time.
HANDSHAKES_PER_HOST = 8

_HANDSHAKES = {}

KEEPALIVE_INTERVAL = 5

KEEPALIVE_COUNT = 3

_EVENT_LOOP = []


def _start_event_loop():
    """libvirt's default event loop, run in a daemon thread: it drives the keepalive
    probes that close a connection whose host stopped answering (once per process)."""
    if _EVENT_LOOP:
        return
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    thread = threading.Thread(target=loop, name="libvirt-events")
    thread.daemon = True
    thread.start()
    _EVENT_LOOP.append(thread)


def connect(uri):
    """Open a libvirt connection; errors become DriverError naming the URI.

    Remote connections send keepalive probes: a host that stops answering (its SSH,
    its network) fails the calls waiting on it after about KEEPALIVE_INTERVAL *
    (KEEPALIVE_COUNT + 1) seconds instead of leaving them blocked.
    """
    if not HAS_LIBVIRT:
        raise DriverError("the libvirt Python binding (libvirt-python) is not installed: %s"
                          % LIBVIRT_IMPORT_ERROR)
    libvirt.registerErrorHandler(_quiet, None)
    parts = urlsplit(uri)
    with _CONNECT_LOCK:
        _start_event_loop()
        handshakes = _HANDSHAKES.setdefault(parts.hostname, threading.BoundedSemaphore(HANDSHAKES_PER_HOST))
    try:
        with handshakes:
            conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot connect to hypervisor %s: %s" % (uri, exc.get_error_message()))
    if "+" in parts.scheme:
        try:
            conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        except libvirt.libvirtError:
            pass  # a daemon without keepalive support: calls may then block on a dead host
    return conn
