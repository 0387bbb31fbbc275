# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A move's record (nova.objects.migration: its types and statuses), the server's stored request
spec, and each host's side of a move: its copy of the record, saved with a lease the heartbeat renews."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec, spec_to_stored)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


# nova.objects.migration's types and statuses
RESIZE = "resize"
MIGRATION = "migration"
LIVE_MIGRATION = "live-migration"
EVACUATION = "evacuation"
# where a cold move's migration goes: pre-migrating -> migrating -> post-migrating -> finished
# -> confirming -> confirmed, or -> reverting -> reverted; error when it was rolled back
DONE = ("finished", "confirming", "reverting")

SHUTDOWN_TIMEOUT = 30


class MoveFailed(ComputeError):
    """A move failed and was rolled back: the server is where it was."""


def stored_request_spec(record, catalogs=None):
    """The server's stored RequestSpec (plain data), or, for a server created before specs were
    stored, one built from its record as Nova's RequestSpec.from_components does for an instance
    without one: its flavor, image (the catalog's properties when the catalog still has it), server
    group and project; no availability zone (the record keeps the zone it landed in, not one asked
    for) and no hints."""
    if record.get("request_spec"):
        return record["request_spec"]
    catalogs = catalogs or {}
    image = (catalogs.get("images") or {}).get(record.get("image")) or {}
    group = None
    group_name = record.get("server_group")
    if group_name:
        conf = (catalogs.get("server_groups") or {}).get(group_name)
        group = ServerGroup(group_name, conf["policy"], rules=conf.get("rules") or {}) if conf else None
    spec = build_request_spec(
        flavor=Flavor.from_dict(record.get("flavor")),
        image=ImageMeta(record.get("image") or "unknown", properties=image.get("properties") or {},
                        min_ram=image.get("min_ram") or 0, min_disk=image.get("min_disk") or 0),
        instance_group=group, project_id=record.get("project_id") or "default")
    return spec_to_stored(spec)


def copy_record(record, **changes):
    copy = dict((k, v) for k, v in record.items() if k not in ("domain",))
    copy.update(changes)
    return copy


class Side:
    """One host's copy of the server during a move: its hypervisor, domain and record."""

    def __init__(self, api, hv, record, dom=None):
        self.api = api
        self.hv = hv
        self.record = record
        self.dom = dom

    def save(self, **changes):
        self.record.update(changes)
        self.record["updated_at"] = utcnow()
        if states.is_complete(self.record) and not self.record.get("migration_live"):
            self.record["lease_until"] = None
        else:
            self.record["lease_until"] = time.time() + states.LEASE_SECONDS
        if self.dom is None:
            self.dom = guest.find_domain(self.hv.conn, self.record["name"])
        instance_record.save_record(self.dom, instance_record.stored(self.record))

    def save_migration(self, **changes):
        migration = dict(self.record.get("migration") or {})
        migration.update(changes, updated_at=utcnow())
        self.save(migration=migration)


class Renewer:
    """What the heartbeat renews while a move runs: both sides' leases."""

    def __init__(self, sides):
        self.sides = sides

    def renew(self):
        for side in self.sides:
            if side.dom is not None and side.record.get("task_state") is not None:
                try:
                    side.save()
                except Exception:  # a side being removed: its next step says so
                    pass


class NoSide:
    """No destination to clean."""

    hv = None
    record = None


def console_and_ports_on(dest, source, target, uuid):
    """On the destination of a move: the console log, and the same MACs and addresses reserved
    on its networks (on record first); the ports with their addresses."""
    if storage.find_volume(dest.pool(), uuid + ".console.log") is None:
        storage.create_volume(dest.pool(), uuid + ".console.log", 0, "raw")
    target.save(ports=[dict(port) for port in source.record.get("ports") or []])
    ports = []
    for port in source.record.get("ports") or []:
        net = libvirt_network.find_network(dest.conn, port["network"])
        if net is None:
            raise ComputeError("network %s is missing on %s" % (port["network"], dest.name))
        with dest.reservations:
            ip = libvirt_network.reserve_fixed_ip(dest.conn, dest.pool(), net, port["mac"], source.record["name"],
                                                  port.get("ip"))
        ports.append(dict(port, ip=ip))
    return ports
