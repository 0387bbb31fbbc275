# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ComputeAPI's server actions (POST /servers/{id}/action: compute.API.stop, start, reboot,
rebuild, rescue, lock, ...) and delete: the API's checks (instance_actions), then the work on
the server's host (manager.ComputeManager)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import readiness
from ansible_collections.novalite.compute.plugins.module_utils.compute import replicas
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import diff_view, server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.image_props_filter import (
    ImagePropertiesFilter)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, build_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import orphans


class ServerActionsAPI:
    """The server actions and delete of ComputeAPI (a part of it: compute/api.py)."""

    # ------------------------------------------------------------------ server actions
    def find_servers(self, names):
        """[(Hypervisor, record)] of the servers named (by name or UUID), in the order given,
        each once; a name no reachable hypervisor has, or one still being built, is refused."""
        found, missing = [], []
        for wanted in names:
            copies = [(hv, r) for hv in self.hypervisors.values() if hv.up for r in hv.facts["instances"]
                      if wanted in (r.get("name"), r.get("uuid")) or wanted.lower() == r.get("uuid")]
            # a move's shadow (the other host's side: migrate.py) is not the server
            servers = [(hv, r) for hv, r in copies if not states.is_transient(r) and not states.is_shadow(r, hv.name)]
            if len(servers) > 1:
                raise ComputeError("server: %s names %d servers, on %s; name them by UUID" % (
                    wanted, len(servers), ", ".join("%s (uuid %s)" % (hv.name, r["uuid"]) for hv, r in servers)))
            if not servers:
                if copies:
                    raise ComputeError("server: %s is being %s on %s (task_state %s); act on it once that ends" % (
                        wanted, "deleted" if copies[0][1].get("task_state") == states.DELETING else "built",
                        copies[0][0].name, copies[0][1].get("task_state")))
                missing.append(wanted)
                continue
            if all(server[1]["uuid"] != servers[0][1]["uuid"] for server in found):
                found.append(servers[0])
        if missing:
            raise ComputeError("server: no server named (or with the UUID) %s on the hypervisors that answer%s" % (
                ", ".join(missing), "" if not self.unreachable() else " (%s do not answer)" % ", ".join(
                    sorted(self.unreachable()))), details={"hypervisors_down": self.unreachable()})
        return found

    def server_action(self, request):
        """One action on each named server, as Nova's API and compute manager do it: every
        server is checked first (its vm_state, its lock, another run's task), so a refusal
        changes nothing; a server already where the action leads is left as it is; then each
        server's task runs on its host, saved at every step. A task whose run died (its lease
        over) is recovered first (manager.init_instance)."""
        action = request["action"]
        self.gather_host_states()
        found = self.find_servers(request["servers"])
        result = {"changed": False, "servers": [], "warnings": []}
        if not self.check_mode:
            for hv, record in found:
                if record.get("task_state") in states.MOVE_STATES:
                    raise ComputeError("server: %s has a move under way or cut short (task_state %s); run the move "
                                       "again, or nova_server, to finish or roll it back" % (
                                           record["name"], record["task_state"]))
                if record.get("task_state") is not None and not states.task_in_progress(record, time.time()):
                    task = ComputeManager(self, hv).init_instance(record)
                    if task:
                        result["warnings"].append("%s: the run doing %s on it stopped; recovered as %s" % (
                            record["name"], task, record["vm_state"]))
        todo = set()
        for hv, record in found:
            if action == ia.CONSOLE_OUTPUT or not ia.already_there(action, record):
                self._check_action(request, record)
                todo.add(record["uuid"])
        rebuilds = {}
        if action in (ia.REBUILD, ia.RESCUE):
            rebuilds = dict((record["uuid"], self._rebuild_request(request, hv, record)) for hv, record in found
                            if record["uuid"] in todo)
        acted = set()
        details = {}
        for hv, record in found:
            if record["uuid"] in todo and not self.check_mode and action != ia.CONSOLE_OUTPUT:
                acted_on, details[record["uuid"]] = self._act(rebuilds.get(record["uuid"], request), hv, record)
                if details[record["uuid"]] is not None:
                    acted.add(record["uuid"])
                    replicas.replicate(self, hv, acted_on)     # the record as the action saved it
        unready = []
        if self.wait and action in (ia.START, ia.REBOOT, ia.UNPAUSE, ia.RESUME, ia.REBUILD, ia.UNRESCUE, ia.RESCUE):
            unready = readiness.not_ready(self, [dict(r, host=hv.name) for hv, r in found if r["uuid"] in acted])
        for hv, record in found:
            view = server_view(record, hv)
            view["action"] = {"name": action, "changed": record["uuid"] in acted or (
                self.check_mode and record["uuid"] in todo and action != ia.CONSOLE_OUTPUT)}
            view["action"].update(details.get(record["uuid"]) or {})
            if action == ia.CONSOLE_OUTPUT:
                view["console_output"] = ComputeManager(self, hv).get_console_output(record, request.get("length"))
            result["servers"].append(view)
        result["changed"] = any(view["action"]["changed"] for view in result["servers"])
        result["warnings"].extend(self.warnings)
        if unready:
            raise ComputeError("wait_for: %s" % "; ".join(unready), servers=result["servers"])
        return result

    def _rebuild_request(self, request, hv, record):
        """compute.api.rebuild's (and rescue's) checks, before anything changes: the image (the server's own when
        none is given) in the catalog and fit for the server's flavor (_check_requested_image), its
        properties on the server's host (the scheduler's ImagePropertiesFilter on that host alone,
        as Nova checks a rebuild's new image), the server's key pair in the catalog (its config drive
        is written again); the request with the image's files read and verified."""
        name = request.get("image") or record.get("image")
        if name not in self.catalogs["images"]:
            raise ComputeError("image: %r is not in the images catalog (known: %s)" % (
                name, ", ".join(sorted(self.catalogs["images"])) or "none"))
        image = self.catalogs["images"][name]
        if image["disk_format"] in ("aki", "ari"):
            raise ComputeError("image: %r is a kernel or ramdisk image, not a bootable one" % name)
        key = record.get("key_name")
        if request["action"] == ia.REBUILD and record.get("config_drive") and key and key not in self.catalogs["keypairs"]:
            raise ComputeError("keypairs: %s's key pair %r is not in the keypairs catalog; give it, so that the "
                               "rebuilt config drive has it" % (record["name"], key))
        if request["action"] == ia.RESCUE:  # Nova does not filter a rescue image
            rescue = dict(request, image=image, flavor=record["flavor"])
            if not self.check_mode:
                compute_images.prepare_request_images(rescue, self.catalogs, open_url=self.open_url,
                                                      timeout=self.remaining("reading image %s" % name))
            return rescue
        spec = build_request_spec(
            flavor=Flavor.from_dict(record["flavor"]),
            image=ImageMeta(image["name"], properties=image["properties"], min_ram=image["min_ram"],
                            min_disk=image["min_disk"]), project_id=record.get("project_id") or self.project_id)
        if not ImagePropertiesFilter().host_passes(hv.host_state(), spec):
            raise ComputeError("image: %s's properties (%s) are not supported on hypervisor %s, where %s runs "
                               "(ImagePropertiesFilter); a rebuild stays on its host" % (
                                   name, ", ".join("%s=%s" % item for item in sorted(image["properties"].items())),
                                   hv.name, record["name"]))
        rebuild = dict(request, image=image, flavor=record["flavor"])
        if not self.check_mode:
            compute_images.prepare_request_images(rebuild, self.catalogs, open_url=self.open_url,
                                                  timeout=self.remaining("reading image %s" % name))
        return rebuild

    def _check_action(self, request, record):
        """compute.api's decorators, in Nova's order: check_instance_lock, then check_instance_state."""
        ia.check_instance_lock(request["action"], record, request.get("override_lock"))
        ia.check_instance_state(request["action"], record, time.time(), request.get("reboot_type") or "soft")

    def _act(self, request, hv, record):
        """The action on the server's host: (record, detail), detail None when, checked again under
        the instance's lock, it was already there."""
        action = request["action"]
        manager = ComputeManager(self, hv)

        def check(current):
            if ia.already_there(action, current):
                return True
            self._check_action(request, current)
            return False
        if action in (ia.LOCK, ia.UNLOCK):
            by = "admin" if request.get("override_lock") else "owner"
            return record, ({} if manager.set_lock(record, action == ia.LOCK, by) else None)
        calls = {
            ia.STOP: lambda: manager.stop_instance(record, request["shutdown_timeout"], check),
            ia.START: lambda: manager.start_instance(record, check),
            ia.REBOOT: lambda: manager.reboot_instance(record, request["reboot_type"], request["shutdown_timeout"], check),
            ia.PAUSE: lambda: manager.pause_instance(record, check),
            ia.UNPAUSE: lambda: manager.unpause_instance(record, check),
            ia.SUSPEND: lambda: manager.suspend_instance(record, check),
            ia.RESUME: lambda: manager.resume_instance(record, check),
            ia.REBUILD: lambda: manager.rebuild_instance(record, request, check),
            ia.RESCUE: lambda: manager.rescue_instance(record, request, check),
            ia.UNRESCUE: lambda: manager.unrescue_instance(record, check),
        }
        if action not in calls:
            raise ComputeError("action: %s is not done yet" % action)
        return calls[action]()

    # ------------------------------------------------------------------ delete
    def delete(self, request):
        """Delete the named servers (idempotent): domain, volumes, DHCP reservations. The name may
        be a server's UUID (max_count 1), as in openstack.cloud.server."""
        self.gather_host_states()
        request = self._resolve_uuid(request)
        names = self.server_names(request)
        if request["max_count"] > 1:
            names.append(request["name"])
        copies = instance_list.find_copies(self.hypervisors.values(), set(names))
        result = {"changed": bool(copies), "servers": [],
                  "diff": {"before": dict((name, diff_view(server_view(pairs[0][1], pairs[0][0])))
                                          for name, pairs in copies.items()), "after": {}}}
        for name in sorted(copies):  # check_instance_lock, for every server before any is deleted
            for _hv, record in copies[name]:
                ia.check_instance_lock(ia.DELETE, record, request.get("override_lock"))
        failed = []
        for name in sorted(copies):
            for hv, record in copies[name]:  # every copy: a server, and what lost hosts kept of it
                view = server_view(record, hv)
                result["servers"].append(view)
                if self.check_mode:
                    continue
                try:
                    self._terminate(hv, record)
                    replicas.forget(self, hv, record)
                except Exception as exc:  # reported with the server, the others are still deleted
                    view["fault"] = {"code": 500, "created": utcnow(), "message": "delete on %s failed: %s"
                                     % (hv.name, exc)}
                    failed.append(view)
                    continue
                view.update(status="DELETED", vm_state=states.DELETED, task_state=None)
        if request.get("purge_orphans"):
            purged = self.purge_orphans()
            result["orphans_removed"] = purged
            result["changed"] = result["changed"] or any(purged.values())
        down = self.unreachable()
        if down:
            result["hypervisors_down"] = down
        if self.warnings:
            result["warnings"] = list(self.warnings)
        if failed:
            raise ComputeError("%d of %d servers could not be deleted: %s" % (
                len(failed), len(result["servers"]), "; ".join("%s: %s" % (v["name"], v["fault"]["message"])
                                                               for v in failed)),
                servers=result["servers"], details={"hypervisors_down": down})
        return result

    def _terminate(self, hv, record):
        """terminate_instance; once more on a fresh connection when the host's libvirtd restarted
        (or its connection dropped) during it, as a build reconnects to clean up."""
        try:
            ComputeManager(self, hv).terminate_instance(record)
        except Exception:
            with hv.lock:
                if hv.alive():
                    raise
                hv.reconnect()
                locks.release_lost_locks(hv.conn)
            ComputeManager(self, hv).terminate_instance(record)

    def purge_orphans(self):
        """Nova's running_deleted_instance_action=reap: remove, on every reachable host,
        what orphans.find_orphans reports. {host: [orphans removed]}"""
        removed = {}
        for hv in self.hypervisors.values():
            if not hv.up:
                continue
            removed[hv.name] = orphans.find_orphans(hv.conn, hv.config["storage_pool"])
            if not self.check_mode:
                for orphan in removed[hv.name]:
                    orphans.remove_orphan(hv.conn, hv.config["storage_pool"], orphan)
        return removed
