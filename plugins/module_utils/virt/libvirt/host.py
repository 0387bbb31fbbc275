# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a hypervisor has and uses (nova.virt.libvirt.host), its host record, and the KVM probe."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.config import domain_xml
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import (
    DriverError, libvirt)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.guest import power_state
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.instance_record import read_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.locks import HostLock
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import (
    DEFAULT_POOL, create_volume, delete_volume, download_volume, find_pool, find_volume, upload_volume)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import xml_text


def virt_type(conn, requested="auto", pool_name=DEFAULT_POOL, record=None):
    """kvm or qemu for this host.

    `kvm` or `qemu` when the operator says so. `auto` answers kvm only when libvirt
    offers KVM *and* the host record (written by nova_compute_node: a probe guest was
    seen to boot under KVM, or the operator chose kvm there) says kvm; /dev/kvm
    opening is not enough: nested KVM often starts domains whose kernels then hang.
    """
    if requested in ("kvm", "qemu"):
        return requested
    try:
        conn.getDomainCapabilities(None, None, None, "kvm")
    except libvirt.libvirtError:
        return "qemu"
    record = host_record(conn, pool_name) if record is None else record
    return record.get("virt_type") if record.get("virt_type") in ("kvm", "qemu") else "qemu"


def host_facts(conn, pool_name=DEFAULT_POOL, requested_virt_type="auto"):
    """What this hypervisor has and uses, as nova_host_facts reports it.

    memory_mb is libvirt's node memory (virNodeGetInfo), the source Nova's libvirt
    driver uses; *_used are allocations: the flavors of the instances on the host
    plus the size of any other running domain, not what the guests touch.
    """
    info = conn.getInfo()
    caps = ET.fromstring(conn.getCapabilities())
    host_rec = host_record(conn, pool_name)
    instances = []
    vcpus_used = 0
    memory_used = 0
    disk_used_gb = 0
    running = 0
    for dom in conn.listAllDomains():
        try:
            state, max_mem_kib, _mem, nr_vcpus, _cpu = dom.info()
            active = state == libvirt.VIR_DOMAIN_RUNNING or dom.isActive()
            record = read_record(dom)
            if record is not None:
                record["power_state"] = power_state(dom)
                record["domain"] = dom.name()
                states.sync_power_state(record)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined between the listing and this look
            raise
        running += 1 if active else 0
        if record is None:
            if active:
                vcpus_used += nr_vcpus
                memory_used += max_mem_kib // 1024
            continue
        flavor = record.get("flavor") or {}
        vcpus_used += int(flavor.get("vcpus", nr_vcpus))
        memory_used += int(flavor.get("ram", max_mem_kib // 1024))
        disk_used_gb += int(flavor.get("disk", 0)) + int(flavor.get("ephemeral", 0))
        disk_used_gb += -(-int(flavor.get("swap", 0)) // 1024)
        instances.append(record)
    local_gb = 0
    pool = find_pool(conn, pool_name)
    pool_active = pool is not None and bool(pool.isActive())
    if pool_active:
        local_gb = pool.info()[1] // units.Gi
    return {
        "hypervisor_hostname": conn.getHostname(),
        "hypervisor_type": conn.getType(),
        "hypervisor_version": conn.getVersion(),
        "libvirt_version": conn.getLibVersion(),
        "virt_type": virt_type(conn, requested_virt_type, pool_name, host_rec),
        "failed_builds": int(host_rec.get("failed_builds", 0)),
        "cpu_arch": xml_text(caps, "host/cpu/arch", info[0]),
        "vcpus": info[2],
        "vcpus_used": vcpus_used,
        "memory_mb": info[1],
        "memory_mb_used": memory_used,
        "local_gb": local_gb,
        "local_gb_used": disk_used_gb,
        "running_vms": running,
        "storage_pool": pool_name,
        "storage_pool_defined": pool is not None,
        "storage_pool_active": pool_active,
        "instances": sorted(instances, key=lambda r: r.get("name", "")),
    }


HOST_RECORD = ".novalite-host.json"

HOST_RECORD_SIZE = 4096


def host_record(conn, pool_name=DEFAULT_POOL):
    """Host-level settings kept on the hypervisor itself (a small volume), or {}."""
    pool = find_pool(conn, pool_name)
    if pool is None or not pool.isActive():
        return {}
    error = None
    for _attempt in range(20):
        try:
            vol = find_volume(pool, HOST_RECORD)
            if vol is None:
                return {}
            return json.loads(download_volume(conn, vol).decode("utf-8").strip() or "{}")
        except (libvirt.libvirtError, ValueError) as exc:
            # a writer is replacing it right now: read again
            error = exc
            time.sleep(0.05)
    raise DriverError("cannot read the host record %s in pool %s: %s" % (HOST_RECORD, pool_name, error))


def write_host_record(conn, pool, record):
    """Write `record` (a dict, as JSON padded to a fixed size) into the host record volume,
    in place, so that readers never find it missing."""
    data = json.dumps(record, sort_keys=True).encode("utf-8")
    if len(data) > HOST_RECORD_SIZE:
        raise DriverError("host record too large (%d bytes)" % len(data))
    vol = find_volume(pool, HOST_RECORD)
    if vol is not None and vol.info()[1] != HOST_RECORD_SIZE:
        delete_volume(vol)
        vol = None
    if vol is None:
        vol = create_volume(pool, HOST_RECORD, HOST_RECORD_SIZE, "raw")
    upload_volume(conn, vol, data.ljust(HOST_RECORD_SIZE))


def update_host_record(conn, pool, **changes):
    """Change some fields of the host record, under the host's record lock."""
    with HostLock(pool, "host-record"):
        record = host_record(conn, pool.name())
        record.update(changes)
        write_host_record(conn, pool, record)
        return record


def probe_kvm_boot(conn, kernel, initrd, marker, timeout, console_dir):
    """Boot a transient KVM guest and wait for `marker` on its serial console.

    True when the marker appears within `timeout` seconds: KVM really boots guests
    here, not merely starts domains.
    """
    name = "novalite-kvm-probe-%s" % uuidlib.uuid4().hex[:8]
    log = os.path.join(console_dir, name + ".log")
    spec = {"name": name, "uuid": str(uuidlib.uuid4()), "virt_type": "kvm", "vcpus": 1, "memory_mb": 128,
            "kernel": kernel, "initrd": initrd, "cmdline": "console=ttyS0 panic=-1",
            "console_log": log, "record": {"name": name}}
    xml = domain_xml(spec)
    try:
        dom = conn.createXML(xml, 0)
    except libvirt.libvirtError:
        return False
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(log, "rb") as handle:
                    if marker.encode("utf-8") in handle.read():
                        return True
            except IOError:
                pass
            time.sleep(0.25)
        return False
    finally:
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
        if os.path.exists(log):
            os.unlink(log)
