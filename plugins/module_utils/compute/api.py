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

ComputeAPI's other parts: its moves (resize, migrate, live migration, evacuation) in
api_moves.MovesAPI, its server actions (POST /servers/{id}/action) and delete in
api_actions.ServerActionsAPI, the idempotence check of create in drift."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils.compute import evacuate
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute import leases
from ansible_collections.novalite.compute.plugins.module_utils.compute import readiness
from ansible_collections.novalite.compute.plugins.module_utils.compute import replicas
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.api_actions import ServerActionsAPI
from ansible_collections.novalite.compute.plugins.module_utils.compute.api_moves import MovesAPI
from ansible_collections.novalite.compute.plugins.module_utils.compute.conductor import ComputeTaskManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.drift import drift_message, instance_drift
from ansible_collections.novalite.compute.plugins.module_utils.compute.hypervisor import Hypervisor, gather_all
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import Notifier
from ansible_collections.novalite.compute.plugins.module_utils.compute.quota import (
    QuotaExceeded, check_num_instances_quota, count_usage)
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import is_uuid, user_data_digest, utcnow
from ansible_collections.novalite.compute.plugins.module_utils.compute.views import diff_view, server_view
from ansible_collections.novalite.compute.plugins.module_utils.exception import (
    ComputeError, RescheduledException, TaskTimeout)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import NoValidHost, select_destinations
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec, spec_to_stored)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network


class ComputeAPI(MovesAPI, ServerActionsAPI):
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
        states = [hv.host_state(up=hv.up and wanted <= set(hv.networks)) for hv in self.hypervisors.values()]
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
