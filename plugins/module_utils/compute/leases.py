# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leases of this run's builds in progress, renewed by a heartbeat while the run lives.

A build's record carries lease_until (states.LEASE_SECONDS ahead). Every step of the build
renews it, and so does the heartbeat, every RENEW_EVERY seconds, however long a step takes
(an image download, a lock wait, a guest that takes time to boot). A run that dies stops
renewing: its builds' leases run out within states.LEASE_SECONDS, and the next run reaps them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import threading

from ansible_collections.novalite.compute.plugins.module_utils.compute import states

RENEW_EVERY = states.LEASE_SECONDS / 4.0


class Heartbeat:
    """Calls renew() of every build held, every RENEW_EVERY seconds, in a daemon thread."""

    def __init__(self, every=RENEW_EVERY):
        self.every = every
        self._held = {}
        self._lock = threading.Lock()
        self._thread = None

    @contextlib.contextmanager
    def holding(self, build):
        """Renew build's lease (build.renew()) while the block runs."""
        key = id(build)
        with self._lock:
            self._held[key] = build
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-heartbeat")
                self._thread.daemon = True
                self._thread.start()
        try:
            yield build
        finally:
            with self._lock:
                self._held.pop(key, None)

    def _run(self):
        stop = threading.Event()
        while not stop.wait(self.every):
            with self._lock:
                builds = list(self._held.values())
            for build in builds:
                try:
                    build.renew()
                except Exception:  # pylint: disable=broad-except
                    pass  # the host is gone or the build ended meanwhile: its own steps say so
