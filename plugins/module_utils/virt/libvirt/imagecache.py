# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's `_base` image cache on each host (nova.virt.libvirt.imagecache)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.virt import images as image_files
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import DriverError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.locks import (
    HostLock, LOCK_STALE_SECONDS, lock_mtime)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import xml_text
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import (
    BASE_SUFFIX, base_pool, create_volume, delete_volume, find_pool, find_volume, refresh_pool, upload_volume)


CACHED_SUFFIX = ".done"


def cache_image(conn, instance_pool, path, fmt, checksum=None, timeout=600):
    """The base image in the host's `_base` cache, uploaded once per host.

    Volumes are named by the image's sha256, so a changed file is a new base and an
    unchanged one is never copied twice. `<sha256>.done` is created after the upload
    completes: a base without it was left half-written by an uploader that died and
    is uploaded again. Returns (volume path, copied: bool).
    """
    checksum = checksum or image_files.sha256_of(path)
    cache = base_pool(conn, instance_pool)
    name = checksum
    with HostLock(cache, name, timeout=timeout) as lock:
        vol = find_volume(cache, name)
        if vol is not None and find_volume(cache, name + CACHED_SUFFIX) is not None:
            return vol.path(), False
        if vol is not None:
            delete_volume(vol)
        size = os.path.getsize(path)
        vol = create_volume(cache, name, size, "raw", None)
        try:
            with open(path, "rb") as handle:
                upload_volume(conn, vol, handle, progress=lock.renew_now_and_then)
            refuse_chained(vol)
            create_volume(cache, name + CACHED_SUFFIX, 0, "raw")
        except Exception:
            delete_volume(vol)
            raise
        refresh_pool(cache)
        return vol.path(), True


def refuse_chained(vol):
    """libvirt's own reading of an uploaded base (it probes the header when it describes the
    volume): a base naming a backing file or a data file would put another file of the host in
    the guest's disk chain. DriverError naming it; the caller removes the volume."""
    root = ET.fromstring(vol.XMLDesc(0))
    for tag in ("backingStore", "dataStore"):
        chained = xml_text(root, tag + "/path")
        if chained:
            raise DriverError("image %s names a %s (%s) as libvirt reads it; images with one are refused"
                              % (vol.name(), "backing file" if tag == "backingStore" else "data file", chained))


def half_written_bases(conn, instance_pool_name, now=None, locked_too=False):
    """Base images an uploader left unfinished (no .done) and no live upload holds
    (with locked_too, also those whose cache lock is not stale yet)."""
    now = time.time() if now is None else now
    cache = find_pool(conn, instance_pool_name + BASE_SUFFIX)
    if cache is None or not cache.isActive():
        return []
    refresh_pool(cache)
    names = set(cache.listVolumes())
    found = []
    for name in sorted(names):
        if name.startswith(".") or name.endswith(CACHED_SUFFIX) or name + CACHED_SUFFIX in names:
            continue
        stamp = lock_mtime(cache, ".%s.lock" % name)
        if locked_too or stamp is None or now - float(stamp) > LOCK_STALE_SECONDS:
            found.append(name)
    return found


def remove_half_written_base(conn, instance_pool_name, name):
    """Delete one of half_written_bases(), under its cache lock so no upload is cut short
    (a lock its uploader left when its connection died is broken once stale)."""
    cache = find_pool(conn, instance_pool_name + BASE_SUFFIX)
    if cache is None:
        return
    with HostLock(cache, name, timeout=LOCK_STALE_SECONDS * 2):
        vol = find_volume(cache, name)
        if vol is not None and find_volume(cache, name + CACHED_SUFFIX) is None:
            delete_volume(vol)


def is_cached(conn, instance_pool, checksum):
    """Whether the _base cache of this pool holds the whole image with this sha256."""
    cache = find_pool(conn, instance_pool.name() + BASE_SUFFIX)
    return (cache is not None and cache.isActive() and find_volume(cache, checksum) is not None
            and find_volume(cache, checksum + CACHED_SUFFIX) is not None)
