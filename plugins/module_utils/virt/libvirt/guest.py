# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One domain's life on its host (nova.virt.libvirt.guest.Guest): look up, define, start,
resume, wait for a power state, the ACPI shutdown, power off (kept defined), pause, the managed
save, the serial console's log, destroy."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.config import domain_xml
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import download_volume, find_volume
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import (
    DriverError, libvirt)


def power_state(dom):
    state = dom.state()[0]
    mapping = {
        libvirt.VIR_DOMAIN_NOSTATE: 0, libvirt.VIR_DOMAIN_RUNNING: 1,
        libvirt.VIR_DOMAIN_BLOCKED: 1, libvirt.VIR_DOMAIN_PAUSED: 3,
        libvirt.VIR_DOMAIN_SHUTDOWN: 4, libvirt.VIR_DOMAIN_SHUTOFF: 4,
        libvirt.VIR_DOMAIN_CRASHED: 6, libvirt.VIR_DOMAIN_PMSUSPENDED: 7,
    }
    return mapping.get(state, 0)


def find_domain(conn, name):
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def define_domain(conn, spec):
    """Define (or redefine) the domain of a server from its spec (see config.domain_xml)."""
    try:
        return conn.defineXML(domain_xml(spec))
    except libvirt.libvirtError as exc:
        raise DriverError("cannot define domain: %s" % exc.get_error_message())


def create_transient(conn, spec):
    """Start a defined domain from another definition, for this run of it only
    (virDomainCreateXML over the persistent domain: its persistent definition stays, and is
    what it starts from once powered off). A rescue boots so."""
    try:
        return conn.createXML(domain_xml(spec), 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot start domain %s: %s" % (spec["name"], exc.get_error_message()))


def is_rescue(dom):
    """Whether the domain runs from a rescue definition (its live disks hold the rescue disk)."""
    return ".disk.rescue'" in dom.XMLDesc(0) or '.disk.rescue"' in dom.XMLDesc(0)


def start_domain(dom, paused=False):
    """Power on; `paused`: QEMU runs but the guest's CPUs wait for resume_domain."""
    try:
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot start domain %s: %s" % (dom.name(), exc.get_error_message()))


def resume_domain(dom):
    try:
        dom.resume()
    except libvirt.libvirtError as exc:
        raise DriverError("cannot resume domain %s: %s" % (dom.name(), exc.get_error_message()))


def shutdown(dom):
    """Guest.shutdown: the ACPI power button (the guest decides what to do with it)."""
    try:
        dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:  # already off
            raise DriverError("cannot shut down domain %s: %s" % (dom.name(), exc.get_error_message()))


def poweroff(dom):
    """Guest.poweroff: pull the plug (virDomainDestroy); the domain stays defined."""
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
            raise DriverError("cannot power off domain %s: %s" % (dom.name(), exc.get_error_message()))


def pause(dom):
    """Guest.pause: the guest's CPUs stop, its memory stays (virDomainSuspend)."""
    try:
        dom.suspend()
    except libvirt.libvirtError as exc:
        raise DriverError("cannot pause domain %s: %s" % (dom.name(), exc.get_error_message()))


def save_memory_state(dom):
    """Guest.save_memory_state: the guest's memory to the host's managed save file; the domain
    shuts off, and its next start resumes it from there."""
    try:
        dom.managedSave(0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot save domain %s: %s" % (dom.name(), exc.get_error_message()))


def save_record_in_managed_save(dom, record):
    """Write the instance record into the definition the managed save holds (virDomainManagedSaveDefineXML):
    the domain restored from it starts with this record, not the one saved with its memory."""
    try:
        dom.managedSaveDefineXML(instance_record.with_record(dom.managedSaveGetXMLDesc(0), record), 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot update the saved definition of %s: %s" % (dom.name(), exc.get_error_message()))


def has_managed_save(dom):
    return bool(dom.hasManagedSaveImage(0))


def wait_for_state(dom, wanted, timeout):
    """Poll the domain until its power state is `wanted`; True if it got there."""
    deadline = time.monotonic() + timeout
    while True:
        if power_state(dom) == wanted:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def console_tail(conn, pool, instance_uuid, lines=20, limit=16384):
    """The last `lines` lines (all when None) of the last `limit` bytes of a server's serial
    console log (read through libvirt, so from a remote host too), or "" when there is none."""
    vol = find_volume(pool, instance_uuid + ".console.log")
    if vol is None:
        return ""
    size = int(vol.info()[1])
    data = download_volume(conn, vol, min(size, limit), max(0, size - limit)) if size else b""
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text if lines is None else text[-lines:] if lines > 0 else [])


def destroy_domain(dom):
    """Power off (if running) and undefine, with its NVRAM and snapshots metadata."""
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID):
            raise
    flags = (libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
             | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
