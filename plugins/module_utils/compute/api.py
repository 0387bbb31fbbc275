# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's create-server flow, top to bottom, against the hypervisors of an inventory.

Each step carries the name of the Nova code it stands for (see docs/architecture.md):

  1 servers.Controller.create         -> the module's argument spec and validation.check_server_request
  2 compute.API._provision_instances  -> ComputeAPI._provision_instances: quota, records
  3 conductor.build_instances         -> ComputeAPI._request_spec: build_request_spec
  4 scheduler.select_destinations     -> ComputeAPI._schedule: scheduler.manager.select_destinations
  5 compute_rpcapi.build_and_run_instance -> conductor.ComputeTaskManager.build_instances (per host,
                                         alternates on a reschedule)
  6 ResourceTracker.instance_claim    -> claims.instance_claim (a lock on the host)
  7 _build_resources                  -> manager.ComputeManager: networking, then block_device_mapping
  8 driver.spawn                      -> manager.ComputeManager._spawn: define and start the domain
  9 after spawn                       -> active / None, power_state, launched_at, create.end

Server actions (POST /servers/{id}/action): ComputeAPI.server_action, the API's checks in
instance_actions, the work on the host in manager.ComputeManager."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils.compute import evacuate
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import leases
from ansible_collections.novalite.compute.plugins.module_utils.compute import migrate
from ansible_collections.novalite.compute.plugins.module_utils.compute import readiness
from ansible_collections.novalite.compute.plugins.module_utils.compute import replicas
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.conductor import ComputeTaskManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.hypervisor import Hypervisor, gather_all
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import Notifier
from ansible_collections.novalite.compute.plugins.module_utils.compute.quota import QuotaExceeded, check_num_instances_quota, count_usage
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import (
    is_uuid, user_data_digest, user_data_matches, utcnow)
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import diff_view, server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError, RescheduledException, TaskTimeout
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.image_props_filter import ImagePropertiesFilter
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import NoValidHost, select_destinations
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec, spec_to_stored)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import orphans


class ComputeAPI:
    """What nova-api, nova-conductor and the compute managers do for one request."""

    def __init__(self, catalogs, scheduler_config, project_id="default", quotas=None,
                 notifier=None, check_mode=False, wait=True, timeout=180,
                 connect_timeout=30, open_url=None, allow_unchecked_names=False, wait_for="active",
                 on_drift="warn", allow_resize=False, allow_resize_to_same_host=False, resize_auto_confirm=False):
        self.catalogs = catalogs
        self.scheduler_config = scheduler_config
        self.project_id = project_id
        self.quotas = quotas or {}
        self.notifier = notifier or Notifier()
        self.check_mode = check_mode
        self.wait = wait
        self.timeout = timeout
        # The whole task's deadline: every wait takes what it needs from what is left.
        self.deadline = time.monotonic() + timeout
        self.heartbeat = leases.Heartbeat()
        self.wait_for = wait_for
        self.connect_timeout = connect_timeout
        self.open_url = open_url
        self.allow_unchecked_names = allow_unchecked_names
        self.on_drift = on_drift
        self.allow_resize = allow_resize
        self.allow_resize_to_same_host = allow_resize_to_same_host
        self.resize_auto_confirm = resize_auto_confirm
        self._built_here = set()
        self.addressing = threading.Lock()     # network/ipam.py: one build of this run picks an address at a time
        # Pools are made (when missing) only once the request has passed every check: see _prepare_pools.
        self.hypervisors = dict((name, Hypervisor(config))
                                for name, config in sorted(catalogs["hypervisors"].items()))
        self.faults = []
        self.warnings = []      # what did not stop the task (a replica not written)

    # ----------------------------------------------------------------- shared steps
    def remaining(self, doing):
        """Seconds left of the task's timeout for what it is `doing`; TaskTimeout once none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TaskTimeout("timeout: the task's %ss ran out before %s" % (self.timeout, doing))
        return left

    def gather_host_states(self):
        gather_all(self.hypervisors.values(), self.connect_timeout)
        evacuate.destroy_evacuated_instances(self)
        return [hv.host_state() for hv in self.hypervisors.values()]

    def replicate(self, host, name):
        """The server's replica (compute/replicas.py), from its record as its host holds it now."""
        hv = self.hypervisors.get(host)
        if self.check_mode or hv is None or not hv.up:
            return
        dom = guest.find_domain(hv.conn, name)
        record = instance_record.read_record(dom) if dom is not None else None
        if record is not None and states.is_complete(record):
            replicas.replicate(self, hv, record)

    def home_hypervisor(self):
        """The first hypervisor by name that answers: where the fleet-wide locks of a name and of
        an affinity group live (compute/claims.py). One that stopped answering during the run
        hands them to the next."""
        for hv in self.hypervisors.values():
            if hv.up and hv.alive():
                return hv
        raise RescheduledException("no hypervisor answers any more to hold the name's lock")

    def unreachable(self):
        return dict((hv.name, hv.error) for hv in self.hypervisors.values() if not hv.up)

    @staticmethod
    def server_names(request):
        if request["max_count"] == 1:
            return [request["name"]]
        return ["%s-%d" % (request["name"], index) for index in range(1, request["max_count"] + 1)]

    def _resolve_uuid(self, request):
        """openstack.cloud.server's name is a name or an ID: the request with the name of the
        server whose UUID `name` is (one server asked for, the hosts gathered), else as it is."""
        if request["max_count"] != 1 or not is_uuid(request["name"]):
            return request
        wanted = request["name"].lower()
        for hv in self.hypervisors.values():
            if hv.up:
                for record in hv.facts["instances"]:
                    if record.get("uuid") == wanted and record.get("name"):
                        return dict(request, name=record["name"])
        return request

    def _check_drift(self, request, existing):
        """{name: drift} of the servers of the request that exist; with on_drift=fail, a
        failure naming them and their fields, before anything is changed."""
        drifts = dict((name, instance_drift(request, record, hv)) for name, (hv, record) in existing.items())
        drifted = [(name, drift) for name, drift in sorted(drifts.items()) if drift]
        if drifted and self.on_drift == "fail":
            servers = [dict(server_view(record, hv), drift=drifts[name])
                       for name, (hv, record) in sorted(existing.items())]
            raise ComputeError("on_drift: %s; nothing was changed (on_drift=warn reports it and goes on)"
                               % drift_message(drifted), servers=servers,
                               details={"drift": dict(drifted)})
        return drifts

    # ------------------------------------------------------------------ create
    def create(self, request):
        """Create the servers of the request that do not exist yet (idempotent by name)."""
        self.gather_host_states()
        request = self._resolve_uuid(request)
        names = self.server_names(request)
        copies = instance_list.find_copies(self.hypervisors.values(), set(names))
        copies = self._recover_moves(copies)
        existing = instance_list.settle(self, instance_list.check_names_free(self, names, copies))
        resized = self._resize_existing(request, existing)
        missing = [name for name in names if name not in existing]
        if missing and is_uuid(request["name"]):
            raise ComputeError("name: %r is a UUID and no server on the hypervisors that answer has it; a new "
                               "server cannot be named as a UUID (it would be taken for one)" % request["name"],
                               details={"hypervisors_down": self.unreachable()})
        drifts = self._check_drift(request, existing)
        if missing:
            self._check_names_checkable(missing)
        result = {"changed": bool(resized), "servers": [], "placement": None, "faults": []}
        if resized:
            result["resized"] = resized
        before = dict((name, diff_view(server_view(record, hv))) for name, (hv, record) in existing.items())
        result["diff"] = {"before": before, "after": before}
        for name in names:  # update_instance_metadata is lock-checked: every server before any changes
            if name in existing and (existing[name][1].get("metadata") or {}) != request["meta"]:
                ia.check_instance_lock(ia.UPDATE_METADATA, existing[name][1], request.get("override_lock"))
        for name in names:
            if name in existing:
                hv, record = existing[name]
                changed = ComputeManager(self, hv).change_instance_metadata(record, request["meta"])
                if changed:
                    replicas.replicate(self, hv, record)
                result["changed"] = result["changed"] or changed
                result["servers"].append(dict(server_view(record, hv), drift=drifts[name]))
        drifted = [(name, drift) for name, drift in sorted(drifts.items()) if drift]
        if drifted:
            result["warnings"] = ["%s; left as it is (on_drift=fail makes this an error)" % drift_message(drifted)]
        if not missing:
            result["diff"]["after"] = dict((s["name"], diff_view(s)) for s in result["servers"])
            if self.warnings:
                result.setdefault("warnings", []).extend(self.warnings)
            return result
        self._check_networks(request)
        min_count = max(1, request["min_count"] - len(existing))
        instances = self._provision_instances(request, missing, min_count)
        if not self.check_mode:
            self._prepare_pools()
        spec, selections, placement = self._schedule(request, instances)
        result["placement"] = placement
        changed_before, result["changed"] = result["changed"], True
        plans = dict((instance["name"], {"selected": selection.host, "alternates": list(selection.alternates),
                                         "weight": selection.weight, "filters": placement["filters"],
                                         "weighed": placement["weighed"]})
                     for instance, selection in zip(instances, selections))
        if self.check_mode:
            for instance, selection in zip(instances, selections):
                instance["host"] = selection.host
                result["servers"].append(server_view(instance, self.hypervisors[selection.host]))
        else:
            built = ComputeTaskManager(self).build_instances(request, instances, selections)
            others = self._servers_of_other_runs([inst for inst in built if inst.get("taken")])
            built = [inst for inst in built if not inst.get("taken")]
            self._built_here = set(inst["uuid"] for inst in built)
            result["changed"] = changed_before or bool(built)
            for name, (hv, record) in sorted(others.items()):
                # Another run built it under this name: it may differ from this request.
                drift = instance_drift(request, record, hv)
                if drift:
                    result.setdefault("warnings", []).append("%s (built by another run); left as it is"
                                                             % drift_message([(name, drift)]))
                result["servers"].append(dict(server_view(record, hv), drift=drift))
            self._roll_back_below_min_count(request, built, len(existing) + len(others))
            for inst in built:
                if inst["vm_state"] == states.ACTIVE:
                    replicas.replicate(self, self.hypervisors[inst["host"]], inst, request.get("userdata"))
            unready = readiness.not_ready(self, built) if self.wait else []
            result["servers"].extend(server_view(inst, self.hypervisors.get(inst.get("host"))) for inst in built)
        result["servers"].sort(key=lambda s: s["name"])
        for server in result["servers"]:
            server.setdefault("drift", [])
            if server["name"] in plans and (self.check_mode or server["id"] in self._built_here):
                server["placement"] = plans[server["name"]]
        result["diff"]["after"] = dict((s["name"], diff_view(s)) for s in result["servers"])
        if self.check_mode:
            return result
        built = [s for s in result["servers"] if s["name"] in plans and s["id"] in self._built_here]
        result["faults"] = self.faults
        if self.warnings:
            result.setdefault("warnings", []).extend(self.warnings)
        failed = [inst for inst in built if inst["vm_state"] in (states.ERROR, states.DELETED)]
        if unready and not failed:
            raise ComputeError("wait_for: %s" % "; ".join(unready), servers=result["servers"],
                               details={"faults": self.faults, "placement": placement})
        if failed:
            raise ComputeError("%d of %d servers failed to build: %s" % (
                len(failed), len(built), "; ".join("%s: %s" % (i["name"], (i.get("fault") or {}).get("message"))
                                                   for i in failed)),
                servers=result["servers"], details={"faults": self.faults, "placement": placement})
        return result

    def _recover_moves(self, copies):
        """The moves a dead run left on the named servers, finished or rolled back (migrate.py)."""
        if self.check_mode:
            return copies
        names = [name for name, pairs in copies.items() if any(r.get("migration") for _hv, r in pairs)]
        if names and any(migrate.recover_moves(self, copies[name]) for name in names):
            copies.update(instance_list.refreshed(self, names))
        return copies

    def _resize_existing(self, request, existing):
        """allow_resize: each existing server whose flavor is not the request's is resized to it
        (MigrationTask, migrate.py), confirmed at once with resize_auto_confirm. {name: migration}"""
        if not self.allow_resize:
            return {}
        resized = {}
        for name, (hv, record) in sorted(existing.items()):
            wanted = request["flavor"]
            if (record.get("flavor") or {}).get("name") == wanted["name"] and record.get("vm_state") != states.RESIZED:
                continue
            result = migrate.MoveTask(self).resize(name, wanted["name"],
                                                   allow_same_host=self.allow_resize_to_same_host,
                                                   auto_confirm=self.resize_auto_confirm, gather=False)
            if not result["changed"]:
                continue
            resized[name] = result.get("migration") or result.get("destination")
            if not self.check_mode:
                fresh = instance_list.refreshed(self, [name])[name]
                servers = [(h, r) for h, r in fresh if not states.is_shadow(r, h.name)]
                if servers:
                    existing[name] = servers[0]
        return resized

    # ------------------------------------------------------------------ moves
    def resize(self, name, flavor, allow_same_host=None, auto_confirm=False, override_lock=False):
        """compute.API.resize: the server on a host the scheduler picks with the new flavor."""
        same = self.allow_resize_to_same_host if allow_same_host is None else allow_same_host
        return migrate.MoveTask(self).resize(name, flavor, allow_same_host=same, auto_confirm=auto_confirm,
                                             override_lock=override_lock)

    def migrate(self, name, host=None, auto_confirm=False, override_lock=False):
        """compute.API.resize without a flavor: a cold migration, to `host` if given (still filtered)."""
        return migrate.MoveTask(self).resize(name, None, auto_confirm=auto_confirm, target_host=host,
                                             override_lock=override_lock)

    def move_action(self, request):
        """nova_server_action's moves (resize, migrate, confirm_resize, revert_resize), one server after
        the other; each checked (lock, state) before it is touched."""
        action = request["action"]
        servers, migrations = [], {}
        self.gather_host_states()
        task = migrate.MoveTask(self)
        changed = False
        for name in request["servers"]:
            if action == "resize":
                one = task.resize(name, request["flavor"], allow_same_host=request["allow_resize_to_same_host"],
                                  auto_confirm=request["auto_confirm"], override_lock=request["override_lock"],
                                  gather=False)
            elif action == "migrate":
                one = task.resize(name, None, auto_confirm=request["auto_confirm"], target_host=request["host"],
                                  override_lock=request["override_lock"], gather=False)
            elif action == "live_migrate":
                one = task.live_migrate(name, target_host=request["host"],
                                        completion_timeout=request.get("completion_timeout"),
                                        bandwidth_mib=request.get("bandwidth"),
                                        override_lock=request["override_lock"], gather=False)
            elif action == "confirm_resize":
                one = task.confirm(name, override_lock=request["override_lock"], gather=False)
            else:
                one = task.revert(name, override_lock=request["override_lock"], gather=False)
            changed = changed or one["changed"]
            if one["changed"]:
                self.replicate(one["server"]["hypervisor_hostname"], one["server"]["name"])
            server = dict(one["server"], action={"name": action, "changed": one["changed"]})
            if one.get("migration"):
                server["migration"] = one["migration"]
                migrations[name] = one["migration"]
            if one.get("destination"):
                server["action"]["destination"] = one["destination"]
            servers.append(server)
        return {"changed": changed, "servers": servers, "warnings": list(self.warnings)}

    def evacuate(self, request):
        """nova_server_action action=evacuate (compute/evacuate.py)."""
        result = evacuate.evacuate(self, request)
        result["warnings"].extend(self.warnings)
        return result

    def confirm_resize(self, name):
        return migrate.MoveTask(self).confirm(name)

    def revert_resize(self, name):
        return migrate.MoveTask(self).revert(name)

    def _check_names_checkable(self, names):
        """Fail closed: a new name might exist on a hypervisor that does not answer, so it is not
        created unless allow_unchecked_names says so."""
        down = self.unreachable()
        if down and not self.allow_unchecked_names:
            raise ComputeError("name: cannot check that %s does not exist on the hypervisors that do not answer "
                               "(%s); set allow_unchecked_names to create it all the same" % (
                                   ", ".join(names), "; ".join("%s: %s" % item for item in sorted(down.items()))),
                               details={"hypervisors_down": down})

    def _servers_of_other_runs(self, taken):
        """{name: (Hypervisor, record)}: the servers other runs were building under the names this
        run's claims found taken, once those runs have finished them."""
        if not taken:
            return {}
        names = set(inst["name"] for inst in taken)
        found = instance_list.settle(self, instance_list.refreshed(self, names))
        for inst in taken:
            if inst["name"] not in found:
                inst.update(vm_state=states.ERROR, task_state=None, taken=False, fault={
                    "code": 500, "created": utcnow(), "message": "another run was building %s and did not finish "
                    "it; run again" % inst["name"]})
        return found

    def _roll_back_below_min_count(self, request, built, others):
        """min_count is all or nothing, also when claims are lost after scheduling: when fewer than
        min_count of the request's servers exist, the ones this run built are removed."""
        active = [inst for inst in built if inst["vm_state"] == states.ACTIVE]
        if len(active) + others >= request["min_count"] or not active:
            return
        for inst in active:
            hv = self.hypervisors[inst["host"]]
            ComputeManager(self, hv).terminate_instance(dict(inst, domain=inst["name"]))
            inst.update(vm_state=states.DELETED, task_state=None, fault={
                "code": 500, "created": utcnow(), "message": "removed: only %d of min_count %d servers could be "
                "built" % (len(active) + others, request["min_count"])})

    def _check_networks(self, request):
        """The NICs against the reachable hosts' networks, before anything is made: each network
        exists somewhere, and a fixed_ip lies in its subnet on some host having it and is given
        out on none."""
        up = [hv for hv in self.hypervisors.values() if hv.up]
        if not up:
            return  # _schedule reports the unreachable hosts
        for index, nic in enumerate(request["nics"]):
            field = "nics[%d]" % index
            holders = [hv for hv in up if nic["network"] in hv.networks]
            if not holders:
                raise ComputeError("%s: network %r does not exist on any reachable hypervisor"
                                   % ("network" if request.get("network") else field + ".net-name", nic["network"]))
            if nic.get("fixed_ip") is None:
                continue
            problems, taken = [], []
            for hv in holders:
                net = libvirt_network.find_network(hv.conn, nic["network"])
                if net is not None and nic["fixed_ip"] in libvirt_network.held_addresses(net):
                    taken.append(hv.name)   # one network across the fleet (network/ipam.py): taken anywhere
                problem = libvirt_network.fixed_ip_problem(net, nic["fixed_ip"])
                if problem is not None:
                    problems.append("%s on %s" % (problem, hv.name))
            if taken:
                raise ComputeError("%s.fixed_ip: %s (on %s)" % (
                    field, libvirt_network.in_use(nic["fixed_ip"], nic["network"]), ", ".join(taken)))
            if len(problems) == len(holders):
                raise ComputeError("%s.fixed_ip: %s" % (field, "; ".join(problems)))

    def _prepare_pools(self):
        """The instance storage pool of each reachable host, made when missing; a host where
        that fails is down for this request."""
        for hv in self.hypervisors.values():
            if hv.up and not hv.facts.get("storage_pool_active"):
                try:
                    hv.pool()
                    hv.refresh_facts()
                except Exception as exc:  # the host cannot hold instances: treat it as down
                    hv.facts = None
                    hv.error = "cannot prepare storage pool %s: %s" % (hv.config["storage_pool"], exc)

    def _provision_instances(self, request, names, min_count):
        """compute.API._provision_instances: quota, then building/scheduling records."""
        flavor = request["flavor"]
        usage = count_usage([hv.facts["instances"] for hv in self.hypervisors.values() if hv.up],
                            self.project_id)
        try:
            allowed = check_num_instances_quota(self.quotas, usage, Flavor.from_dict(flavor), min_count, len(names))
        except QuotaExceeded as exc:
            raise ComputeError("quota: %s" % exc)
        now = utcnow()
        reservation_id = "r-" + uuidlib.uuid4().hex[:8]
        group = request["scheduler_hints"].get("group")
        # Nova's RequestSpec, kept with each server from create on (moves schedule with it again)
        stored_spec = spec_to_stored(self._request_spec(request, 1))
        instances = []
        for index, name in enumerate(names[:allowed]):
            instances.append({
                "uuid": str(uuidlib.uuid4()),
                "name": name,
                "project_id": self.project_id,
                "vm_state": states.BUILDING,
                "task_state": states.SCHEDULING,
                "power_state": states.NOSTATE,
                "created_at": now,
                "launched_at": None,
                "image": request["image"]["name"],
                "flavor": flavor,
                "key_name": request.get("key_name"),
                "metadata": request["meta"],
                "availability_zone": request.get("availability_zone"),
                "server_group": group,
                "launch_index": index,
                "reservation_id": reservation_id,
                "config_drive": "True" if request["config_drive"] else "",
                "user_data_digest": user_data_digest(request.get("userdata")),
                "ports": [],
                "request_spec": stored_spec,
            })
        return instances

    def _request_spec(self, request, num_instances):
        """conductor: scheduler_utils.build_request_spec."""
        image = request["image"]
        group = None
        group_name = request["scheduler_hints"].get("group")
        if group_name:
            conf = self.catalogs["server_groups"][group_name]
            group = ServerGroup(conf["name"], conf["policy"], rules=conf["rules"])
        hints = dict((k, v) for k, v in request["scheduler_hints"].items() if k != "group")
        return build_request_spec(
            flavor=Flavor.from_dict(request["flavor"]),
            image=ImageMeta(image["name"], properties=image["properties"], min_ram=image["min_ram"],
                            min_disk=image["min_disk"]),
            num_instances=num_instances,
            availability_zone=request.get("availability_zone"), scheduler_hints=hints,
            instance_group=group, project_id=self.project_id)

    def _schedule(self, request, instances):
        """scheduler_client.select_destinations over the hosts that have the networks."""
        if not any(hv.up for hv in self.hypervisors.values()):
            raise ComputeError("hypervisors: none could be reached: %s" % "; ".join(
                "%s: %s" % item for item in sorted(self.unreachable().items())))
        spec = self._request_spec(request, len(instances))
        wanted = set(nic["network"] for nic in request["nics"])
        if wanted and not any(wanted <= set(hv.networks) for hv in self.hypervisors.values() if hv.up):
            for index, nic in enumerate(request["nics"]):
                if not any(nic["network"] in hv.networks for hv in self.hypervisors.values()):
                    raise ComputeError("nics[%d].net-name: network %r does not exist on any reachable "
                                       "hypervisor" % (index, nic["network"]))
        states = []
        for hv in self.hypervisors.values():
            state = hv.host_state()
            if hv.up and not wanted <= set(hv.networks):
                state.up = False
            states.append(state)
        try:
            result = select_destinations(states, spec, self.scheduler_config)
        except NoValidHost as exc:
            message = str(exc)
            unprepared = sorted(hv.name for hv in self.hypervisors.values()
                                if hv.up and not hv.facts.get("storage_pool_active"))
            if unprepared:
                message += ("; no active instance storage pool on %s (prepare it with the nova_compute role "
                            "or novalite.compute.nova_compute_node)" % ", ".join(unprepared))
            raise ComputeError(message, details={"placement": {"filters": exc.report},
                                                 "hypervisors_down": self.unreachable()})
        placement = {"filters": result.filter_report,
                     "weighed": [{"host": host, "weight": weight} for host, weight in result.weighed],
                     "hosts": [s.host for s in result.selections],
                     "hypervisors_down": self.unreachable()}
        return spec, result.selections, placement

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


# ---------------------------------------------------------------------- drift
DRIFT_FLAVOR_FIGURES = ("vcpus", "ram", "disk", "ephemeral", "swap", "extra_specs")


def instance_drift(request, record, hv=None):
    """[{field, requested, actual}]: how an existing server differs from the request, in what
    the request sets and the server keeps (metadata aside: it is updated). User data is never
    shown, only whether it is the same."""
    drift = []

    def differs(field, requested, actual):
        if requested != actual:
            drift.append({"field": field, "requested": requested, "actual": actual})

    wanted, flavor = request["flavor"], record.get("flavor") or {}
    if wanted["name"] != flavor.get("name"):
        differs("flavor", wanted["name"], flavor.get("name"))
    else:
        figures = [key for key in DRIFT_FLAVOR_FIGURES if (wanted.get(key) or 0) != (flavor.get(key) or 0)]
        if figures:
            differs("flavor", dict((key, wanted.get(key)) for key in figures),
                    dict((key, flavor.get(key)) for key in figures))
    differs("image", request["image"]["name"], record.get("image"))
    ports = [{"network": port.get("network"), "fixed_ip": port.get("ip")} for port in record.get("ports") or []]
    requested_nics = [dict(nic) for nic in request["nics"]]
    shown = [dict(port, fixed_ip=port["fixed_ip"] if nic.get("fixed_ip") else None)
             for nic, port in zip(requested_nics, ports)] + ports[len(requested_nics):]
    if [nic["network"] for nic in requested_nics] != [port["network"] for port in ports] or any(
            nic.get("fixed_ip") and nic["fixed_ip"] != port["fixed_ip"] for nic, port in zip(requested_nics, ports)):
        differs("nics", requested_nics, shown)
    differs("key_name", request.get("key_name") or None, record.get("key_name") or None)
    same = user_data_matches(request.get("userdata"), record.get("user_data_digest"))
    if same is False:
        differs("user_data", "given" if request.get("userdata") is not None else None,
                "other user data" if record.get("user_data_digest") else None)
    zone = request.get("availability_zone")
    actual_zone = record.get("availability_zone") or (hv.config["availability_zone"] if hv else None)
    if zone is not None:
        differs("availability_zone", zone, actual_zone)
    differs("server_group", request["scheduler_hints"].get("group"), record.get("server_group") or None)
    differs("config_drive", bool(request["config_drive"]), bool(record.get("config_drive")))
    return drift


def drift_message(drifted):
    """'server web1 differs from the request in flavor (requested ..., actual ...), ...' for
    [(name, drift)]."""
    return "; ".join("server %s differs from the request in %s" % (name, ", ".join(
        "%s (requested %s, actual %s)" % (item["field"], _shown(item["requested"]), _shown(item["actual"]))
        for item in drift)) for name, drift in drifted)


def _shown(value):
    if isinstance(value, list):
        return "[%s]" % ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        if set(value) == {"network", "fixed_ip"}:
            return value["network"] + ("=" + value["fixed_ip"] if value["fixed_ip"] else "")
        return "{%s}" % ", ".join("%s: %s" % (key, _shown(item)) for key, item in sorted(value.items()))
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)
