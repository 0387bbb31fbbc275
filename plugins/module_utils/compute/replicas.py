# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each server's replica lives (virt/libvirt/replica.py), and keeping it current.

A server's replica is on its host's buddy: the next hypervisor by name after the server's host
that answers (the first again after the last). It is written when an operation leaves the
server as it will stay (built, acted on, moved, evacuated) and removed when the server is
deleted; the record names the host holding it (replica_host), so a replica that moves to another
buddy is removed from the old one. A replica that cannot be written is a warning, never a
failure of the operation: the server is where it is, only an evacuation would miss it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import replica
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


def buddy_of(api, host):
    """The hypervisor that holds the replicas of `host`'s servers, or None (no other answers)."""
    names = sorted(api.hypervisors)
    start = names.index(host) + 1 if host in names else 0
    for name in names[start:] + names[:start]:
        hv = api.hypervisors[name]
        if name != host and hv.up and hv.alive():
            return hv
    return None


def _user_data(hv, record):
    """The user data of the server's config drive on its host (None without one)."""
    if not record.get("config_drive"):
        return None
    vol = storage.find_volume(hv.pool(), record["uuid"] + ".disk.config")
    return configdrive.read_user_data(storage.download_volume(hv.conn, vol)) if vol is not None else None


def replicate(api, hv, record, user_data=None):
    """The server's replica on its host's buddy, as the record is now on `hv` (its host)."""
    if api.check_mode:
        return
    try:
        target = buddy_of(api, hv.name)
        if target is None:
            return
        if user_data is None:
            user_data = _user_data(hv, record)
        old = record.get("replica_host")
        record["replica_host"] = target.name
        replica.write(target.conn, target.pool(), dict(record, host=hv.name), user_data, written_at=time.time())
        if old != target.name:
            dom = guest.find_domain(hv.conn, record["name"])
            if dom is not None:
                instance_record.save_record(dom, instance_record.stored(dict(
                    instance_record.read_record(dom) or record, replica_host=target.name)))
            _remove_on(api, old, record["uuid"])
    except Exception as exc:  # the server stays as it is; only an evacuation would miss it
        api.warnings.append("%s: its replica (for an evacuation of %s) could not be written: %s"
                            % (record.get("name"), hv.name, exc))


def forget(api, hv, record):
    """After a delete: the replica removed; a tombstone on another host when the replica's host
    does not answer, so that no evacuation brings the server back."""
    if api.check_mode:
        return
    holder = record.get("replica_host")
    try:
        if holder in api.hypervisors and api.hypervisors[holder].up:
            _remove_on(api, holder, record["uuid"])
        elif holder:
            target = buddy_of(api, hv.name)
            if target is not None and target.name != holder:
                replica.write(target.conn, target.pool(), dict(record, host=hv.name), deleted=True,
                              written_at=time.time())
    except Exception as exc:  # reported; the server is deleted all the same
        api.warnings.append("%s: its replica on %s could not be removed: %s" % (record.get("name"), holder, exc))


def _remove_on(api, host, uuid):
    hv = api.hypervisors.get(host)
    if hv is not None and hv.up:
        replica.remove(hv.pool(), uuid)


def replicas_of(api, host):
    """{uuid: replica} of the servers the replicas on the answering hosts place on `host`, the
    newest of each (a tombstone wins: the server was deleted)."""
    found = {}
    for hv in api.hypervisors.values():
        if not hv.up or hv.name == host:
            continue
        for document in replica.read_all(hv.conn, hv.pool()):
            record = document["record"]
            if record.get("host") != host and not document["deleted"]:
                continue
            known = found.get(record.get("uuid"))
            if known is None or document["deleted"] or (
                    not known["deleted"] and (document["written_at"] or 0) > (known["written_at"] or 0)):
                found[record["uuid"]] = dict(document, holder=hv.name)
    return dict((uuid, doc) for uuid, doc in found.items() if not doc["deleted"] and doc["record"].get("host") == host)
