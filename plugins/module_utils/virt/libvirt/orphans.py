# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host holds that belongs to no complete instance, and its removal
(Nova's running_deleted_instance_action=reap)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import libvirt
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.guest import (
    destroy_domain, find_domain)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.imagecache import (
    half_written_bases, remove_half_written_base)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.instance_record import read_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.locks import (
    LOCK_STALE_SECONDS, break_stale_lock, volume_mtime)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.network import (
    find_network, network_dhcp, release_fixed_ip)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.storage import (
    BASE_SUFFIX, DEFAULT_POOL, delete_volume, find_pool, find_volume, instance_volumes, refresh_pool)


def find_orphans(conn, pool_name=DEFAULT_POOL, now=None):
    """What this host holds that belongs to no complete instance.

    - domain: an instance record whose build stopped (its run died: lease expired);
    - volume: an instance volume `<uuid>.*` of no domain;
    - dhcp: a DHCP reservation with Nova's fa:16:3e MAC that no instance record names;
    - lock: a lock (or lock-break marker) in the instance pool or its `_base` cache, past the
      lock staleness: its holder died;
    - base: a base image in the `_base` cache whose upload never finished.
    Volumes and reservations are listed before the domains, so a build that starts
    meanwhile (domain first, then its volumes and reservation) never looks orphaned.
    """
    now = time.time() if now is None else now
    pool = find_pool(conn, pool_name)
    volumes = []
    locks = []
    for each in (pool, find_pool(conn, pool_name + BASE_SUFFIX)):
        if each is not None and each.isActive():
            refresh_pool(each)
            for vol in each.listAllVolumes(0):
                if ".lock" in vol.name():
                    locks.append((each.name(), vol))
                elif each is pool:
                    volumes.append((vol.name(), vol))
    reservations = []
    for net in conn.listAllNetworks():
        dhcp = network_dhcp(net) if net.isActive() else None
        for mac, (ip, name) in sorted((dhcp[2] if dhcp else {}).items()):
            if mac.startswith("fa:16:3e:"):
                reservations.append({"type": "dhcp", "network": net.name(), "mac": mac, "ip": ip, "name": name})
    domain_uuids = set()
    macs = set()
    orphans = []
    for dom in conn.listAllDomains():
        try:
            domain_uuids.add(dom.UUIDString())
            record = read_record(dom)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue
            raise
        if record is None:
            continue
        macs.update(port.get("mac", "").lower() for port in record.get("ports") or [])
        if states.is_transient(record) and not states.build_in_progress(record, now):
            orphans.append({"type": "domain", "name": dom.name(), "uuid": record.get("uuid"),
                            "vm_state": record.get("vm_state"), "task_state": record.get("task_state")})
    for lock_pool, vol in locks:
        stamp = volume_mtime(vol)
        if stamp and now - float(stamp) > LOCK_STALE_SECONDS:
            orphans.append({"type": "lock", "name": vol.name(), "pool": lock_pool, "path": vol.path()})
    for name, vol in volumes:
        if name.startswith("."):
            continue
        if name != BASE_SUFFIX and name.split(".", 1)[0] not in domain_uuids:
            orphans.append({"type": "volume", "name": name, "path": vol.path()})
    orphans.extend(r for r in reservations if r["mac"] not in macs)
    orphans.extend({"type": "base", "name": name} for name in half_written_bases(conn, pool_name, now))
    return orphans


def remove_orphan(conn, pool_name, orphan):
    """Remove one entry of find_orphans(); absent already is fine."""
    pool = find_pool(conn, pool_name)
    if orphan["type"] == "domain":
        dom = find_domain(conn, orphan["name"])
        record = read_record(dom) if dom is not None else None
        if record is None or record.get("uuid") != orphan["uuid"]:
            return
        destroy_domain(dom)
        if pool is not None:
            for vol in instance_volumes(pool, orphan["uuid"]):
                delete_volume(vol)
        for port in record.get("ports") or []:
            net = find_network(conn, port["network"])
            if net is not None and pool is not None:
                release_fixed_ip(pool, net, port["mac"])
    elif orphan["type"] == "lock":
        lock_pool = find_pool(conn, orphan.get("pool", pool_name))
        if lock_pool is not None:
            break_stale_lock(lock_pool, orphan["name"], LOCK_STALE_SECONDS)
    elif orphan["type"] == "volume":
        vol = find_volume(pool, orphan["name"]) if pool is not None else None
        if vol is not None:
            delete_volume(vol)
    elif orphan["type"] == "base":
        remove_half_written_base(conn, pool_name, orphan["name"])
    elif orphan["type"] == "dhcp":
        net = find_network(conn, orphan["network"])
        if net is not None and pool is not None:
            release_fixed_ip(pool, net, orphan["mac"])
