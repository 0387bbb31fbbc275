# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moves a killed run left (nova.compute.manager's _init_instance for moves, and what
Nova's conductor would find in its database): found with the server, then finished or rolled back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import same_host_resize
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import (
    LIVE_MIGRATION, NoSide, Side, copy_record)
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest


def _sides_of(pairs):
    """{migration uuid: {"source": (hv, record), "dest": (hv, record)}} of the copies that carry a
    migration, each side by the host the migration names."""
    moves = {}
    for hv, record in pairs:
        migration = record.get("migration")
        if not migration:
            continue
        move = moves.setdefault(migration["uuid"], {})
        if hv.name == migration.get("dest_compute"):
            move["dest"] = (hv, record)
        elif hv.name == migration.get("source_compute"):
            move["source"] = (hv, record)
    return moves


class MoveRecovery:
    """MoveTask's part that finds a server and recovers the moves a dead run left on it."""

    def find_server(self, name, gather=False):
        """(Hypervisor, record, [(Hypervisor, record)] shadows) of the named server (name or UUID), once
        any move a dead run left half-done on it is recovered (the hosts' states gathered first with
        gather). ComputeError naming `name` when no reachable host has it."""
        if gather:
            self.api.gather_host_states()
        request = self.api._resolve_uuid({"name": name, "max_count": 1})
        copies = instance_list.find_copies(self.api.hypervisors.values(), set([request["name"]]))
        pairs = copies.get(request["name"], [])
        if pairs and not self.api.check_mode and self.recover_moves(pairs):
            pairs = instance_list.refreshed(self.api, [request["name"]])[request["name"]]
        servers = [(hv, r) for hv, r in pairs if not states.is_shadow(r, hv.name)]
        shadows = [(hv, r) for hv, r in pairs if states.is_shadow(r, hv.name)]
        if not servers:
            raise ComputeError("name: no server %r on the hypervisors that answer%s" % (
                name, "" if not self.api.unreachable() else " (%s do not answer)" % ", ".join(sorted(self.api.unreachable()))))
        found = instance_list.settle(self.api, {request["name"]: servers})
        hv, record = found[request["name"]]
        shadows = [(shv, r) for shv, r in shadows if r.get("uuid") == record.get("uuid")]
        return hv, record, shadows

    def recover_moves(self, pairs):
        """Finish or roll back the moves a dead run left (a task_state of a move, its lease over). A
        move whose lease is live belongs to a run still at it (or one killed less than a lease ago): it
        is waited for within the task's timeout, then ComputeError. True if anything was done."""
        done = False
        name = pairs[0][1].get("name") if pairs else None
        while True:
            now = time.time()
            waiting = None
            for _move_uuid, move in sorted(_sides_of(pairs).items()):
                records = [r for _hv, r in move.values()]
                busy = [r for r in records if r.get("task_state") in states.MOVE_STATES]
                if not busy:
                    both_claim = "source" in move and "dest" in move and not any(
                        states.is_shadow(r, hv.name) for hv, r in move.values())
                    if both_claim:
                        busy = records      # both sides claim the server: a finish cut short
                    else:
                        continue
                live = [r for r in busy if states.task_in_progress(r, now)]
                if live:
                    waiting = live[0]
                    continue
                self.recover(move)
                done = True
            if waiting is None:
                return done
            if time.monotonic() > self.api.deadline:
                raise ComputeError("name: %s is being moved by another run (task_state %s; its lease runs %.0f s "
                                   "more); try again when it ends"
                                   % (waiting.get("name"), waiting.get("task_state"), waiting["lease_until"] - now))
            time.sleep(instance_list.POLL_SECONDS)
            pairs = instance_list.refreshed(self.api, [name])[name]

    # ------------------------------------------------------------------ recovery
    def recover(self, move):
        """A move a dead run left: finished on the destination -> it stands (the source made the shadow;
        a confirm or revert cut short is completed); else rolled back onto the source."""
        source = move.get("source")
        dest = move.get("dest")
        src_side = Side(self.api, source[0], copy_record(source[1])) if source else None
        dst_side = Side(self.api, dest[0], copy_record(dest[1])) if dest else None
        if dst_side is not None:
            dst_side.dom = guest.find_domain(dst_side.hv.conn, dst_side.record["name"])
            if self._same_host(dst_side.record, dst_side.hv):
                return same_host_resize.recover(self, dst_side)
        if src_side is not None:
            src_side.dom = guest.find_domain(src_side.hv.conn, src_side.record["name"])
        dst_migration = (dst_side.record.get("migration") or {}) if dst_side else {}
        status = dst_migration.get("status")
        live = dst_migration.get("migration_type") == LIVE_MIGRATION or (
            src_side is not None and (src_side.record.get("migration") or {}).get("migration_type") == LIVE_MIGRATION)
        if live:
            return self._recover_live(src_side, dst_side)
        finished = dst_side is not None and dst_side.record.get("host") == dst_side.hv.name
        if finished and status == "reverting" and src_side is not None:
            self.revert_resize(dst_side, src_side)
        elif finished and status in ("finished", "confirming"):
            if status == "confirming" or src_side is None:
                self.confirm_resize(dst_side, src_side)
            else:
                src_side.save(host=dst_side.hv.name, vm_state=states.RESIZED, task_state=None,
                              migration=dst_migration)
                if dst_side.record.get("task_state") is not None:
                    dst_side.save(task_state=None)
        elif src_side is not None:
            migration = src_side.record.get("migration") or {}
            if dst_side is None:
                # the destination's copy may be half made with no record yet: its volumes by uuid
                dest_name = migration.get("dest_compute")
                dest_hv = self.api.hypervisors.get(dest_name)
                if dest_hv is not None and dest_hv.up:
                    dst_side = Side(self.api, dest_hv, None)
            target = dst_side or Side(self.api, src_side.hv, None)
            if target.hv is src_side.hv:
                target = NoSide()
            self._roll_back(src_side, target, "its run stopped at task_state %s" % src_side.record.get("task_state"))
        elif dst_side is not None:
            # only the destination's side answers and it never finished: nothing of it is the server
            self._clean_side(dst_side.hv, dst_side.record["uuid"], dst_side.record["name"],
                             dst_side.record.get("ports") or [])

    def _recover_live(self, src_side, dst_side):
        """A live migration whose run died: libvirt cancels a migration whose managing client went, so the
        guest runs on the source unless the migration had completed (the source's domain gone, the
        destination's running): then it stands; else the destination's copy is removed."""
        src_running = src_side is not None and src_side.dom is not None and src_side.dom.isActive()
        dst_running = dst_side is not None and dst_side.dom is not None and dst_side.dom.isActive()
        if dst_running and not src_running and (src_side is None or src_side.dom is None):
            migration = dict(dst_side.record.get("migration") or {}, status="completed", updated_at=utcnow())
            dst_side.record["lease_until"] = None
            dst_side.save(host=dst_side.hv.name, task_state=None, migration=migration,
                          availability_zone=dst_side.hv.config["availability_zone"],
                          power_state=guest.power_state(dst_side.dom))
            if src_side is not None:
                self.post_live_migration(src_side, dst_side)
            return
        if src_side is None:
            return      # the source does not answer: nothing is decided without it
        migration = src_side.record.get("migration") or {}
        dest_hv = dst_side.hv if dst_side is not None else self.api.hypervisors.get(migration.get("dest_compute"))
        target = Side(self.api, dest_hv, None) if dest_hv is not None and dest_hv.up else NoSide()
        if target.hv is not None:
            self._clean_side(target.hv, src_side.record["uuid"], src_side.record["name"],
                             src_side.record.get("ports") or [])
        migration = dict(migration, status="failed", updated_at=utcnow())
        src_side.record["lease_until"] = None
        src_side.save(host=src_side.hv.name, task_state=None, migration=migration,
                      power_state=guest.power_state(src_side.dom) if src_side.dom is not None else 0)
