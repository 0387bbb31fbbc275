# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving a domain's disks and the domain itself between hosts (nova.virt.libvirt.migration and
the disk copy of LibvirtDriver.migrate_disk_and_power_off), with no shared storage and no SSH
between the hosts: disks are streamed through libvirt from one host's pool into the other's,
the base images they sit on ensured in the destination's `_base` cache first; a live migration
is libvirt's own (the control node holds both connections; QEMU sends memory and the
incremental block copy of the overlays straight to the destination)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import DriverError, libvirt
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.imagecache import CACHED_SUFFIX
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.locks import HostLock
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import (
    base_pool, create_volume, delete_volume, find_volume, pool_path, refresh_pool, volume_xml)

CHUNK = 4 * units.Mi


def domain_layout(dom):
    """What a server's domain is made of, from its (inactive) XML: disks [{path, format, dev,
    readonly}], kernel, initrd, cmdline."""
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    disks = []
    for disk in root.findall("devices/disk"):
        source = disk.find("source")
        driver = disk.find("driver")
        target = disk.find("target")
        if source is None or source.get("file") is None:
            continue
        disks.append({"path": source.get("file"), "format": driver.get("type") if driver is not None else "raw",
                      "dev": target.get("dev"), "readonly": disk.find("readonly") is not None})
    layout = {"disks": disks}
    for key in ("kernel", "initrd", "cmdline"):
        element = root.find("os/" + key)
        if element is not None and element.text:
            layout[key] = element.text
    return layout


def backing_of(vol):
    """(path, format) of a volume's backing file as libvirt reads it, or None."""
    root = ET.fromstring(vol.XMLDesc(0))
    store = root.find("backingStore")
    if store is None or store.find("path") is None:
        return None
    fmt = store.find("format")
    return store.find("path").text, fmt.get("type") if fmt is not None else "raw"


def copy_stream(src_conn, src_vol, dst_conn, dst_vol, progress=None):
    """The bytes of src_vol into dst_vol, CHUNK at a time through this process."""
    size = int(src_vol.info()[1])
    source = src_conn.newStream(0)
    target = dst_conn.newStream(0)
    src_vol.download(source, 0, 0, 0)
    dst_vol.upload(target, 0, 0, 0)
    sent = 0
    try:
        while True:
            data = source.recv(CHUNK)
            if data in (-2, None):
                continue
            if not data:
                break
            target.send(data)
            sent += len(data)
            if progress is not None:
                progress()
        source.finish()
        target.finish()
    except Exception:
        for stream in (source, target):
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
        raise
    return max(size, sent)


def ensure_base(src_conn, src_pool, dst_conn, dst_pool, path, renew=None):
    """The base image at `path` in the source's `_base` cache, present (whole, with its .done
    marker) in the destination's, under the cache lock of that image there. Its path there."""
    name = os.path.basename(path)
    src_cache = base_pool(src_conn, src_pool)
    dst_cache = base_pool(dst_conn, dst_pool)
    with HostLock(dst_cache, name, timeout=600) as lock:
        vol = find_volume(dst_cache, name)
        if vol is not None and find_volume(dst_cache, name + CACHED_SUFFIX) is not None:
            return vol.path()
        if vol is not None:
            delete_volume(vol)
        src_vol = find_volume(src_cache, name)
        if src_vol is None:
            raise DriverError("base image %s is not in the source's cache" % name)
        vol = create_volume(dst_cache, name, int(src_vol.info()[1]), "raw")
        try:
            copy_stream(src_conn, src_vol, dst_conn, vol, progress=renew or lock.renew_now_and_then)
            create_volume(dst_cache, name + CACHED_SUFFIX, 0, "raw")
        except Exception:
            delete_volume(vol)
            raise
        refresh_pool(dst_cache)
        return vol.path()


def check_same_layout(src_pool, dst_pool):
    """Disks are copied byte for byte: an overlay names its base by path, so the two instance pools
    must have one path. DriverError saying so."""
    src, dst = pool_path(src_pool), pool_path(dst_pool)
    if src != dst:
        raise DriverError("the instance storage paths differ (%s here, %s there): an overlay names its base "
                          "by path, so servers move only between hosts with the same storage_path" % (src, dst))


def copy_disks(src_conn, src_pool, dst_conn, dst_pool, uuid, layout, grow=None, skip=(), renew=None):
    """Every disk volume of the server into the destination's pool (the same names), each base first.
    grow: {volume name: capacity in bytes} to grow to after the copy; skip: names not copied (made
    anew by the caller). Returns {name: bytes copied}."""
    copied = {}
    names = [os.path.basename(disk["path"]) for disk in layout["disks"]]
    for name in names:
        if not name.startswith(uuid + ".") or name in skip:
            continue
        src_vol = find_volume(src_pool, name)
        if src_vol is None:
            raise DriverError("disk %s of %s is missing on the source" % (name, uuid))
        backing = backing_of(src_vol)
        if backing is not None:
            ensure_base(src_conn, src_pool, dst_conn, dst_pool, backing[0], renew)
        old = find_volume(dst_pool, name)
        if old is not None:      # a copy an earlier, interrupted move left
            delete_volume(old)
        info = src_vol.info()
        fmt = "qcow2" if name.endswith((".disk", ".eph0", ".swap")) else "raw"
        vol = dst_pool.createXML(volume_xml(name, int(info[1]), fmt, backing), 0)
        copied[name] = copy_stream(src_conn, src_vol, dst_conn, vol, progress=renew)
        if grow and grow.get(name) and grow[name] > int(vol.info()[1]):
            vol.resize(int(grow[name]), 0)
    for key in ("kernel", "initrd"):
        if layout.get(key):
            ensure_base(src_conn, src_pool, dst_conn, dst_pool, layout[key], renew)
    return copied


def host_address(uri):
    """The address a hypervisor's libvirt URI names (where QEMU sends the live migration)."""
    host = urlsplit(uri).hostname
    return host or "127.0.0.1"


LIVE_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
              | libvirt.VIR_MIGRATE_NON_SHARED_INC) if libvirt is not None else 0


def live_migrate(dom, dst_conn, dst_uri, dest_xml, timeout, bandwidth_mib=0):
    """libvirt's live migration of `dom` to the host of dst_conn, its overlays copied incrementally
    (the destination holds their bases and empty overlays already). Managed by this process (no
    peer-to-peer: the hosts need no SSH to one another); memory and disks go to dst_uri's address.
    Aborted past `timeout` seconds: the guest stays running on the source. Returns the new domain."""
    params = {libvirt.VIR_MIGRATE_PARAM_URI: "tcp://%s" % host_address(dst_uri)}
    if dest_xml:
        params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] = dest_xml
    if bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth_mib)
    outcome = {}

    def run():
        try:
            outcome["dom"] = dom.migrate3(dst_conn, params, LIVE_FLAGS)
        except libvirt.libvirtError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="live-migration")
    thread.daemon = True
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        try:
            dom.abortJob()
        except libvirt.libvirtError:
            pass
        thread.join(60)
        raise DriverError("live migration did not complete within %ss: aborted" % timeout)
    if "error" in outcome:
        raise DriverError("live migration failed: %s" % outcome["error"].get_error_message())
    return outcome["dom"]


def completed_stats(dom):
    """The completed migration job's figures libvirt keeps with the domain on its new host: downtime
    (ms: the guest's pause at the switch-over), total time (ms), memory and disk bytes sent."""
    try:
        stats = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except (libvirt.libvirtError, AttributeError):
        return {}
    wanted = {"downtime": "downtime_ms", "time_elapsed": "time_elapsed_ms", "memory_processed": "memory_bytes",
              "disk_processed": "disk_bytes"}
    return dict((name, stats[key]) for key, name in wanted.items() if key in stats)


def wait_shutdown(dom, timeout):
    """A clean shutdown (ACPI), then power off past `timeout` (Nova's clean_shutdown)."""
    if not dom.isActive():
        return True
    try:
        dom.shutdown()
    except libvirt.libvirtError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not dom.isActive():
            return True
        time.sleep(0.2)
    try:
        dom.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
            raise
    return False
