# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage pools and volumes (nova.virt.libvirt.storage): the instance pool, volumes made,
uploaded and read through libvirt, so local and remote hosts are driven the same way."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import (
    DriverError, libvirt)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import (
    xml_string, xml_text)


DEFAULT_POOL = "nova_instances"

DEFAULT_POOL_PATH = "/var/lib/novalite/instances"

BASE_SUFFIX = "_base"


def find_pool(conn, name):
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return None
        raise


def ensure_pool(conn, name=DEFAULT_POOL, path=DEFAULT_POOL_PATH):
    """A started, autostarted directory pool; created when missing.

    Runs racing to make the same pool all get it: a step another run took first
    (libvirt: pool already exists, already active) is not an error, and each run
    builds the directory before starting the pool (building a directory pool
    keeps a directory that exists), so none starts it before it has one."""
    pool = find_pool(conn, name)
    if pool is None:
        pool_el = ET.Element("pool", type="dir")
        ET.SubElement(pool_el, "name").text = name
        target = ET.SubElement(pool_el, "target")
        ET.SubElement(target, "path").text = path
        perms = ET.SubElement(target, "permissions")
        ET.SubElement(perms, "mode").text = "0700"
        try:
            pool = conn.storagePoolDefineXML(xml_string(pool_el), 0)
        except libvirt.libvirtError as exc:
            pool = find_pool(conn, name)        # defined by another run meanwhile
            if pool is None:                    # no: libvirt refused it (say, another pool has the path)
                raise exc
        else:
            pool.setAutostart(1)
    if not pool.isActive():
        try:
            pool.build(0)
            pool.create(0)
        except libvirt.libvirtError:
            if not pool.isActive():     # else started by another run meanwhile
                raise
    return pool


def pool_path(pool):
    return xml_text(ET.fromstring(pool.XMLDesc(0)), "target/path")


def base_pool(conn, instance_pool):
    """Nova's `_base` image cache: a second pool under the instance pool's path."""
    return ensure_pool(conn, instance_pool.name() + BASE_SUFFIX,
                       os.path.join(pool_path(instance_pool), BASE_SUFFIX))


def find_volume(pool, name):
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise


def volume_xml(name, capacity_bytes, fmt, backing=None, mode="0600"):
    vol = ET.Element("volume")
    ET.SubElement(vol, "name").text = name
    ET.SubElement(vol, "capacity", unit="bytes").text = str(int(capacity_bytes))
    ET.SubElement(vol, "allocation", unit="bytes").text = "0"
    target = ET.SubElement(vol, "target")
    ET.SubElement(target, "format", type=fmt)
    perms = ET.SubElement(target, "permissions")
    ET.SubElement(perms, "mode").text = mode
    if backing is not None:
        store = ET.SubElement(vol, "backingStore")
        ET.SubElement(store, "path").text = backing[0]
        ET.SubElement(store, "format", type=backing[1])
    return xml_string(vol)


def create_volume(pool, name, capacity_bytes, fmt="qcow2", backing=None):
    """Create a volume (an empty disk, or a qcow2 overlay on `backing`=(path, format))."""
    try:
        return pool.createXML(volume_xml(name, capacity_bytes, fmt, backing), 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot create volume %s in pool %s: %s"
                          % (name, pool.name(), exc.get_error_message()))


def upload_volume(conn, vol, data, progress=None):
    """Write bytes (or a readable file object) into a volume through a libvirt stream;
    `progress()` is called after each MiB sent."""
    stream = conn.newStream(0)
    try:
        vol.upload(stream, 0, 0, 0)
        if isinstance(data, (bytes, bytearray)):
            view = memoryview(data)
            for start in range(0, len(view), units.Mi):
                stream.send(bytes(view[start:start + units.Mi]))
        else:
            while True:
                chunk = data.read(units.Mi)
                if not chunk:
                    break
                stream.send(chunk)
                if progress is not None:
                    progress()
        stream.finish()
    except Exception:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise


def download_volume(conn, vol, limit=None, offset=0):
    """The bytes of a volume (`limit` bytes from `offset`), through a libvirt stream."""
    stream = conn.newStream(0)
    vol.download(stream, offset, limit or 0, 0)
    chunks = []

    def sink(_stream, data, _opaque):
        chunks.append(bytes(data))
        return len(data)

    stream.recvAll(sink, None)
    stream.finish()
    return b"".join(chunks)


def refresh_pool(pool):
    """Re-read the pool's directory, for files changed outside libvirt. libvirt refuses
    while an upload or a volume build runs in the pool ("has asynchronous jobs running"):
    then its own list, which holds every volume made through it, is used as it is."""
    try:
        pool.refresh(0)
    except libvirt.libvirtError as exc:
        if "asynchronous jobs" not in (exc.get_error_message() or ""):
            raise


def delete_volume(vol):
    try:
        vol.delete(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise


def instance_volumes(pool, instance_uuid):
    """Volumes of one instance: every volume named `<uuid>.*` in the instance pool."""
    refresh_pool(pool)
    prefix = instance_uuid + "."
    return [vol for vol in pool.listAllVolumes(0) if vol.name().startswith(prefix)]
