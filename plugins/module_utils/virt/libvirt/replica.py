# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server's record kept on another hypervisor too, for the day its own host is down.

The hypervisor is the record; when it does not answer, its servers' records are read from their
replicas: `.replica-<uuid>` in another host's instance pool, a JSON document with the record (as
the domain's metadata holds it) and the user data of its config drive (Nova keeps both in its
database). A tombstone (`deleted`) says the server was deleted while its replica's host did not
answer. The leading dot keeps replicas out of the instance volumes and the orphans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

PREFIX = ".replica-"


def volume_name(uuid):
    return PREFIX + uuid


def write(conn, pool, record, user_data=None, deleted=False, written_at=None):
    """The replica of `record` in `pool` (replacing an older one)."""
    document = json.dumps({"record": instance_record.to_xml(instance_record.stored(record)), "user_data": user_data,
                           "deleted": deleted, "written_at": written_at}, sort_keys=True).encode("utf-8")
    remove(pool, record["uuid"])
    vol = storage.create_volume(pool, volume_name(record["uuid"]), len(document), "raw")
    storage.upload_volume(conn, vol, document)


def read(conn, vol):
    """{"record", "user_data", "deleted", "written_at"} of one replica volume; None when it cannot
    be read (a write under way)."""
    try:
        document = json.loads(storage.download_volume(conn, vol).rstrip(b"\0").decode("utf-8"))
        document["record"] = instance_record.from_xml(document["record"])
    except (ValueError, KeyError, TypeError):
        return None
    return document


def read_all(conn, pool):
    """Every readable replica in `pool`."""
    storage.refresh_pool(pool)
    found = []
    for vol in pool.listAllVolumes(0):
        if vol.name().startswith(PREFIX):
            document = read(conn, vol)
            if document is not None:
                found.append(document)
    return found


def remove(pool, uuid):
    vol = storage.find_volume(pool, volume_name(uuid))
    if vol is not None:
        storage.delete_volume(vol)
