# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Locks held on the hypervisor itself: volumes whose creation only one caller wins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import (
    DriverError, libvirt)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import (
    delete_volume, find_pool, find_volume, upload_volume, volume_xml)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import xml_text


# The claim, network and host-record locks are held for a second or so: a lock this
# old, not renewed, was left by a run that died.
LOCK_STALE_SECONDS = 30

# A holder that keeps a lock longer (an image upload) renews it every few seconds.
LOCK_RENEW_SECONDS = 5


class HostLock:
    """A lock on one hypervisor: a volume whose creation only one caller can win.

    libvirt refuses to create a volume whose name exists, atomically in the daemon,
    so whoever creates `.<name>.lock` holds the lock until it deletes it. A holder
    that died leaves its lock behind; once the lock is older than `stale_after`
    seconds (its file time on the hypervisor against this controller's clock:
    hosts and controllers are expected to keep time) it is broken. Breaking is itself
    won by one caller only: the breaker must first create `.<name>.lock.<stamp>`,
    named after the stale lock's own timestamp, so two callers that both saw the
    same stale lock can never both delete it (the second would delete the
    winner's fresh lock).
    """

    def __init__(self, pool, name, timeout=60.0, stale_after=LOCK_STALE_SECONDS):
        self.pool = pool
        self.name = ".%s.lock" % name
        self.timeout = timeout
        self.stale_after = stale_after
        self.vol = None
        self.stamp = None
        self._renewed = time.monotonic()

    def __enter__(self):
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                self.vol = self.pool.createXML(volume_xml(self.name, 0, "raw"), 0)
                self._renewed = time.monotonic()
                self.stamp = volume_mtime(self.vol)
                return self
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_STORAGE_VOL_EXIST:
                    raise DriverError("cannot take lock %s: %s" % (self.name, exc.get_error_message()))
            self._break_if_stale()
            if time.monotonic() > deadline:
                raise DriverError("timed out after %ss waiting for lock %s on pool %s"
                                  % (self.timeout, self.name, self.pool.name()))
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _break_if_stale(self):
        break_stale_lock(self.pool, self.name, self.stale_after)

    def renew(self):
        """Tell waiters the holder is alive: a byte written moves the lock's mtime."""
        self._renewed = time.monotonic()
        upload_volume(self.pool.connect(), self.vol, b"\0")

    def renew_now_and_then(self):
        """renew(), at most once per LOCK_RENEW_SECONDS: for loops that hold the lock long."""
        if time.monotonic() - self._renewed >= LOCK_RENEW_SECONDS:
            self.renew()

    def __exit__(self, *exc_info):
        if self.vol is not None:
            vol, self.vol = self.vol, None
            try:
                delete_volume(vol)
            except libvirt.libvirtError:
                # the connection died (libvirtd restarted): release_lost_locks() after reconnecting
                LOST_LOCKS.append((self.pool.name(), self.name, self.stamp))
                raise
        return False


LOST_LOCKS = []


def release_lost_locks(conn):
    """Delete the locks this process held when a connection died, if still ours (same pool
    name, lock name and nanosecond mtime); the others stay listed for their own host."""
    for entry in list(LOST_LOCKS):
        pool_name, name, stamp = entry
        pool = find_pool(conn, pool_name)
        if pool is not None and pool.isActive() and lock_mtime(pool, name) == stamp:
            delete_volume(find_volume(pool, name))
            LOST_LOCKS.remove(entry)


def break_stale_lock(pool, name, stale_after, depth=0):
    """Delete the lock volume `name` if it is stale, as the one caller that won the
    marker `<name>.<its mtime>`. The marker serialises the look and the delete: a
    second breaker of the same stale lock finds the lock replaced and leaves it.
    A marker left by a breaker that died is stale in turn and broken the same way."""
    stamp = lock_mtime(pool, name)
    if stamp is None or time.time() - float(stamp) <= stale_after:
        return
    marker_name = "%s.%s" % (name, stamp.replace(".", "-"))
    try:
        marker = pool.createXML(volume_xml(marker_name, 0, "raw"), 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_STORAGE_VOL_EXIST:
            raise
        if depth < 2:
            break_stale_lock(pool, marker_name, stale_after, depth + 1)
        return
    try:
        if lock_mtime(pool, name) == stamp:
            vol = find_volume(pool, name)
            if vol is not None:
                delete_volume(vol)
    finally:
        delete_volume(marker)


def volume_mtime(vol):
    return xml_text(ET.fromstring(vol.XMLDesc(0)), "target/timestamps/mtime")


def lock_mtime(pool, name):
    """A volume's modification time as the hypervisor's file system gives it (text,
    nanosecond precision), or None when there is no such volume."""
    try:
        vol = find_volume(pool, name)
        if vol is None:
            return None
        return volume_mtime(vol)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None  # released between the look-up and the read
        raise
