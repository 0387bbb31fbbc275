# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A resize on the server's own host (allow_resize_to_same_host, the scheduler choosing it).

Nova's libvirt driver on the same host: migrate_disk_and_power_off keeps the old disks aside (the
instance directory renamed `_resize`) and copies them back to grow them; finish_migration defines the
domain with the new flavor; confirm_resize deletes what was kept; revert_resize puts it back. Here
the kept disks are `<name>.resize` volumes beside the server's own (copies made while it is powered
off), and the one domain is redefined with the new, then the old, vCPUs and memory. The migration's
status says how far it got, so a run killed at any step is finished or rolled back by the next one
(recover): before post-migrating the server's disks are untouched; from it on, the kept copies are
complete and a roll-back restores them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import migration as libvirt_migration
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import libvirt

KEPT = ".resize"


def check_same_disks(old_flavor, new_flavor):
    """The disks a same-host resize can change: the root and ephemeral disks grow, the swap is made
    anew; a flavor that adds or removes an ephemeral or swap disk is refused before anything changes."""
    for key in ("ephemeral", "swap"):
        if bool(old_flavor.get(key)) != bool(new_flavor.get(key)):
            raise ComputeError("flavor: %s %s a %s disk; a resize on the same host keeps the server's disks "
                               "(another host takes it: allow_resize_to_same_host false), nothing was changed" % (
                                   new_flavor["name"], "adds" if new_flavor.get(key) else "removes", key))


def _disks(uuid):
    return [uuid + ".disk", uuid + ".disk.eph0"]


def resize_instance(task, side):
    """The server powered off, its root and ephemeral disks kept as `.resize` copies, then grown to
    the new flavor; the swap made anew at its size."""
    hv = side.hv
    pool = hv.pool()
    uuid = side.record["uuid"]
    new_flavor = side.record["migration"]["new_flavor"]
    side.save(task_state=states.RESIZE_MIGRATING)
    side.save_migration(status="migrating")
    libvirt_migration.wait_shutdown(side.dom, min(task.SHUTDOWN_TIMEOUT, task.api.remaining("powering off")))
    for name in _disks(uuid):
        vol = storage.find_volume(pool, name)
        if vol is None:
            continue
        old = storage.find_volume(pool, name + KEPT)
        if old is not None:
            storage.delete_volume(old)
        kept = pool.createXML(storage.volume_xml(name + KEPT, int(vol.info()[1]), "qcow2",
                                                 libvirt_migration.backing_of(vol)), 0)
        libvirt_migration.copy_stream(hv.conn, vol, hv.conn, kept)
    side.save(task_state=states.RESIZE_MIGRATED)
    side.save_migration(status="post-migrating")    # the kept copies are complete: a roll-back restores them
    for name, size in ((uuid + ".disk", new_flavor["disk"] * units.Gi),
                       (uuid + ".disk.eph0", (new_flavor.get("ephemeral") or 0) * units.Gi)):
        vol = storage.find_volume(pool, name)
        if vol is not None and size > int(vol.info()[1]):
            vol.resize(size, 0)
    _swap_for(pool, uuid, new_flavor)


def _swap_for(pool, uuid, flavor):
    vol = storage.find_volume(pool, uuid + ".disk.swap")
    if vol is not None and int(vol.info()[1]) != (flavor.get("swap") or 0) * units.Mi:
        storage.delete_volume(vol)
        storage.create_volume(pool, uuid + ".disk.swap", flavor["swap"] * units.Mi, "qcow2")


def finish_resize(task, side):
    """The domain defined again with the new flavor's vCPUs and memory, started if it ran; resized."""
    migration = dict(side.record["migration"], status="finished")
    side.save(task_state=states.RESIZE_FINISH, migration=migration)
    new_flavor = migration["new_flavor"]
    spec = dict(side.record.get("request_spec") or {}, flavor=new_flavor)
    done = dict(side.record, flavor=new_flavor, request_spec=spec, vm_state=states.RESIZED, task_state=None,
                lease_until=None, migration=migration)
    side.dom = _define(side.hv, side.dom, new_flavor, done)
    if migration["old_vm_state"] == states.ACTIVE:
        _start(task, side)
    side.record = done
    side.save(power_state=guest.power_state(side.dom))
    task.notifier.notify("compute.instance.finish_resize.end", side.hv.name, notification_payload(side.record))


def confirm_resize(task, side):
    """The kept copies deleted; the server's vm_state back to what it was."""
    migration = dict(side.record["migration"])
    side.save(task_state=states.RESIZE_CONFIRMING, migration=dict(migration, status="confirming"))
    _delete_kept(side.hv.pool(), side.record["uuid"])
    migration.update(status="confirmed", updated_at=utcnow())
    side.record["lease_until"] = None
    side.save(vm_state=migration.get("old_vm_state") or states.ACTIVE, task_state=None, migration=migration)
    task.notifier.notify("compute.instance.resize.confirm.end", side.hv.name, notification_payload(side.record))


def revert_resize(task, side, status="reverted", fault=None):
    """The kept copies put back in the disks' place, the domain with the old flavor, started if it ran;
    also the roll-back of a resize that failed or whose run died (status error)."""
    migration = dict(side.record["migration"])
    side.save(task_state=states.RESIZE_REVERTING, migration=dict(migration, status="reverting"))
    if side.dom.isActive():
        guest.poweroff(side.dom)
    pool = side.hv.pool()
    uuid = side.record["uuid"]
    old_flavor = migration.get("old_flavor") or side.record["flavor"]
    if migration.get("status") not in ("pre-migrating", "migrating"):   # the disks were grown: put back
        for name in _disks(uuid):
            kept = storage.find_volume(pool, name + KEPT)
            vol = storage.find_volume(pool, name)
            if kept is None or vol is None:
                continue
            storage.delete_volume(vol)
            vol = pool.createXML(storage.volume_xml(name, int(kept.info()[1]), "qcow2",
                                                    libvirt_migration.backing_of(kept)), 0)
            libvirt_migration.copy_stream(side.hv.conn, kept, side.hv.conn, vol)
        _swap_for(pool, uuid, old_flavor)
    _delete_kept(pool, uuid)
    migration.update(status=status, updated_at=utcnow())
    old_vm_state = migration.get("old_vm_state") or states.ACTIVE
    spec = dict(side.record.get("request_spec") or {}, flavor=old_flavor)
    done = dict(side.record, flavor=old_flavor, request_spec=spec, vm_state=old_vm_state, task_state=None,
                lease_until=None, migration=migration)
    if fault is not None:
        done["fault"] = fault
    side.dom = _define(side.hv, side.dom, old_flavor, done)
    if old_vm_state == states.ACTIVE:
        _start(task, side)
    side.record = done
    side.save(power_state=guest.power_state(side.dom))
    if status == "reverted":
        task.notifier.notify("compute.instance.resize.revert.end", side.hv.name, notification_payload(side.record))


def recover(task, side):
    """A same-host resize whose run died: finished (or confirming) stands and is confirmed when it was
    being confirmed; anything before is rolled back."""
    status = (side.record.get("migration") or {}).get("status")
    if status == "confirming":
        confirm_resize(task, side)
    elif status == "finished":
        side.save(task_state=None)
    else:
        revert_resize(task, side, status="error", fault={
            "code": 500, "created": utcnow(),
            "message": "resize on %s rolled back: its run stopped at task_state %s" % (
                side.hv.name, side.record.get("task_state"))})


def _delete_kept(pool, uuid):
    for name in _disks(uuid):
        kept = storage.find_volume(pool, name + KEPT)
        if kept is not None:
            storage.delete_volume(kept)


def _define(hv, dom, flavor, record):
    """The server's domain defined again with `flavor`'s vCPUs and memory and `record`."""
    root = ET.fromstring(instance_record.with_record(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
                                                     instance_record.stored(record)))
    root.find("vcpu").text = str(flavor["vcpus"])
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        if element is not None:
            element.set("unit", "KiB")
            element.text = str(flavor["ram"] * 1024)
    return hv.conn.defineXML(ET.tostring(root, encoding="unicode"))


def _start(task, side):
    guest.start_domain(side.dom)
    if not guest.wait_for_state(side.dom, states.RUNNING, task.api.remaining("starting on %s" % side.hv.name)):
        raise ComputeError("%s did not reach RUNNING on %s" % (side.record["name"], side.hv.name))
