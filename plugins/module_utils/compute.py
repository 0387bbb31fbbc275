# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's create-server flow, top to bottom, against the hypervisors of an inventory.

Each step carries the name of the Nova code it stands for (see docs/create-flow):

  1 servers.Controller.create         -> validation.check_server_request (the module calls it)
  2 compute.API._provision_instances  -> ComputeAPI._provision_instances: quota, records
  3 conductor.build_instances         -> ComputeAPI.build_instances: build_request_spec
  4 scheduler.select_destinations     -> scheduler.select_destinations over live host states
  5 compute_rpcapi.build_and_run_instance -> ComputeManager.build_and_run_instance (per host)
  6 ResourceTracker.instance_claim    -> ComputeManager._instance_claim (a lock on the host)
  7 _build_resources                  -> networking, then block_device_mapping
  8 driver.spawn                      -> ComputeManager._spawn: define and start the domain
  9 after spawn                       -> active / None, power_state, launched_at, create.end
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import json
import threading
import time
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils import config_drive
from ansible_collections.novalite.compute.plugins.module_utils import images
from ansible_collections.novalite.compute.plugins.module_utils import instance_record as records
from ansible_collections.novalite.compute.plugins.module_utils import libvirt_driver as driver
from ansible_collections.novalite.compute.plugins.module_utils.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.quota import (
    QuotaExceeded, check_num_instances_quota, count_usage)
from ansible_collections.novalite.compute.plugins.module_utils.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler import (
    NoValidHost, select_destinations)
from ansible_collections.novalite.compute.plugins.module_utils import filters

GIB = 1024 ** 3
MIB = 1024 ** 2
DELETED_STATES = (records.DELETED,)
LEASE_MARGIN = 15


class ComputeError(Exception):
    """The request failed; `servers` and `details` say what was left where."""

    def __init__(self, message, servers=None, details=None):
        super(ComputeError, self).__init__(message)
        self.servers = servers or []
        self.details = details or {}


class RescheduledException(Exception):
    """A build on one host failed in a way another host may not: try an alternate."""


class RescheduledByPolicyException(RescheduledException):
    """The claim found the server group's policy would break on this host (another run
    placed a member there meanwhile). As in Nova, not counted as the host's failed build."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------- notifications
class Notifier:
    """Nova's versioned-notification envelope, kept in memory and appended to a file."""

    def __init__(self, path=None):
        self.path = path
        self.events = []
        self._lock = threading.Lock()

    def notify(self, event_type, host, payload, priority="INFO"):
        event = {
            "message_id": str(uuidlib.uuid4()),
            "event_type": event_type,
            "publisher_id": "compute.%s" % host,
            "priority": priority,
            "timestamp": utcnow(),
            "payload": payload,
        }
        with self._lock:
            self.events.append(event)
            if self.path:
                with open(self.path, "a") as handle:
                    handle.write(json.dumps(event, sort_keys=True) + "\n")
        return event


def notification_payload(instance, image_name=None, message=None, fault=None):
    flavor = instance.get("flavor") or {}
    payload = {
        "instance_id": instance["uuid"],
        "display_name": instance["name"],
        "tenant_id": instance.get("project_id"),
        "host": instance.get("host"),
        "node": instance.get("host"),
        "availability_zone": instance.get("availability_zone"),
        "state": instance.get("vm_state"),
        "state_description": instance.get("task_state") or "",
        "instance_type": flavor.get("name"),
        "memory_mb": flavor.get("ram"),
        "vcpus": flavor.get("vcpus"),
        "root_gb": flavor.get("disk"),
        "ephemeral_gb": flavor.get("ephemeral"),
        "image_name": image_name or instance.get("image"),
        "created_at": instance.get("created_at"),
        "launched_at": instance.get("launched_at") or "",
        "metadata": instance.get("metadata") or {},
        "fixed_ips": [{"address": p.get("ip"), "vif_mac": p["mac"], "label": p["network"]}
                      for p in instance.get("ports") or []],
    }
    if message is not None:
        payload["message"] = message
    if fault is not None:
        payload["fault"] = fault
    return payload


# ------------------------------------------------------------------------ hypervisors
class Hypervisor:
    """One compute node of the inventory and its libvirt connection."""

    def __init__(self, config, create_pool=False):
        self.config = config
        self.create_pool = create_pool
        self.name = config["name"]
        self.uri = config["uri"]
        self.conn = None
        self.facts = None
        self.networks = ()
        self.error = None
        self.failed_builds = 0
        self._pool = None
        self.lock = threading.Lock()
        self._network_conn = None
        self._network_conn_lock = threading.Lock()
        # This run's builds on this host queue here for the host's claim and network locks, so
        # only one of them at a time polls the lock on the hypervisor (each poll: libvirt calls).
        self.claims = threading.Lock()
        self.reservations = threading.Lock()

    def gather(self):
        """Connect and read the host's facts; on failure the host is down."""
        try:
            self.conn = driver.connect(self.uri)
            if self.create_pool:
                self.pool()
            self.facts = driver.host_facts(self.conn, self.config["storage_pool"], self.config["virt_type"])
            self.networks = tuple(net.name() for net in self.conn.listAllNetworks() if net.isActive())
            self.failed_builds = self.facts.get("failed_builds", 0)
            self.error = None
        except Exception as exc:  # any failure to reach the host marks it down
            self.facts = None
            self.error = str(exc)

    @property
    def up(self):
        return self.facts is not None

    def pool(self):
        if self._pool is None:
            self._pool = driver.ensure_pool(self.conn, self.config["storage_pool"], self.config["storage_path"])
        return self._pool

    def network_conn(self):
        """A second connection to this host for DHCP reservations, opened on first use: while
        a virNetworkUpdate runs (~0.25 s: libvirt rewrites dnsmasq's hosts), libvirt answers
        nothing else on its connection, so the builds' other calls keep the main one. The main
        connection when a second cannot be opened."""
        with self._network_conn_lock:
            if self._network_conn is None:
                try:
                    self._network_conn = driver.connect(self.uri)
                except driver.DriverError:
                    self._network_conn = self.conn
            return self._network_conn

    def host_state(self):
        config = dict(self.config, up=self.up, failed_builds=self.failed_builds)
        return HostState.from_facts(self.facts, config)

    def refresh_facts(self):
        self.facts = driver.host_facts(self.conn, self.config["storage_pool"], self.config["virt_type"])
        return self.facts

    def reconnect(self, within=15.0):
        """A fresh connection after the old one died (libvirtd restarted, the network
        came back); tried until `within` seconds pass. Raises DriverError."""
        deadline = time.monotonic() + within
        while True:
            try:
                conn = driver.connect(self.uri)
                break
            except driver.DriverError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
        old, self.conn, self._pool = self.conn, conn, None
        try:
            old.close()
        except Exception:  # already dead
            pass
        return conn

    def alive(self):
        try:
            return self.conn is not None and self.conn.isAlive() == 1
        except Exception:  # a closed connection
            return False


def capacity(hv):
    """Per resource, what a host has allocated (reserved included, as Nova counts it) against
    its limit (total x allocation ratio), for reports."""
    if not hv.up:
        return None
    state = hv.host_state()
    return {
        "vcpus": {"used": state.vcpus_used, "limit": state.limits["vcpu"]},
        "memory_mb": {"used": state.memory_mb_used, "limit": state.limits["memory_mb"]},
        "disk_gb": {"used": state.disk_mb_used / 1024.0, "limit": state.limits["disk_gb"]},
    }


def gather_all(hypervisors, timeout):
    """Gather every hypervisor's facts in parallel; a host silent past `timeout` is down."""
    threads = []
    for hv in hypervisors:
        thread = threading.Thread(target=hv.gather, name="gather-%s" % hv.name)
        thread.daemon = True
        thread.start()
        threads.append((hv, thread))
    deadline = time.monotonic() + timeout
    for hv, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            hv.facts = None
            hv.error = "no answer from %s within %ss" % (hv.uri, timeout)


# ------------------------------------------------------------------------- the API
class ComputeAPI:
    """What nova-api, nova-conductor and the compute managers do for one request."""

    def __init__(self, catalogs, scheduler_config, project_id="default", quotas=None,
                 notifier=None, check_mode=False, wait=True, timeout=180,
                 connect_timeout=30, open_url=None):
        self.catalogs = catalogs
        self.scheduler_config = scheduler_config
        self.project_id = project_id
        self.quotas = quotas or {}
        self.notifier = notifier or Notifier()
        self.check_mode = check_mode
        self.wait = wait
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.open_url = open_url
        # Pools are made (when missing) only once the request has passed every check: see _prepare_pools.
        self.hypervisors = dict((name, Hypervisor(config))
                                for name, config in sorted(catalogs["hypervisors"].items()))
        self.faults = []
        self._power_on = _Latch(0)

    # ----------------------------------------------------------------- shared steps
    def gather_host_states(self):
        gather_all(self.hypervisors.values(), self.connect_timeout)
        return [hv.host_state() for hv in self.hypervisors.values()]

    def find_servers(self, names):
        """{name: (hypervisor, domain, record)} of the named servers on every host."""
        found = {}
        for hv in self.hypervisors.values():
            if not hv.up:
                continue
            for record in hv.facts["instances"]:
                if record.get("name") in names:
                    found[record["name"]] = (hv, record)
        return found

    def unreachable(self):
        return dict((hv.name, hv.error) for hv in self.hypervisors.values() if not hv.up)

    @staticmethod
    def server_names(request):
        if request["max_count"] == 1:
            return [request["name"]]
        return ["%s-%d" % (request["name"], index) for index in range(1, request["max_count"] + 1)]

    # ------------------------------------------------------------------ create
    def create(self, request):
        """Create the servers of the request that do not exist yet (idempotent by name)."""
        names = self.server_names(request)
        self.gather_host_states()
        existing = self._settle_unfinished_builds(self.find_servers(set(names)))
        self._check_names_free(names, existing)
        missing = [name for name in names if name not in existing]
        result = {"changed": False, "servers": [], "placement": None, "faults": []}
        before = dict((name, diff_view(server_view(record, hv))) for name, (hv, record) in existing.items())
        result["diff"] = {"before": before, "after": before}
        for name in names:
            if name in existing:
                hv, record = existing[name]
                changed = self._update_metadata(hv, record, request["meta"])
                result["changed"] = result["changed"] or changed
                result["servers"].append(server_view(record, hv))
        if not missing:
            result["diff"]["after"] = dict((s["name"], diff_view(s)) for s in result["servers"])
            return result
        self._check_networks(request)
        min_count = max(1, request["min_count"] - len(existing))
        instances = self._provision_instances(request, missing, min_count)
        if not self.check_mode:
            self._prepare_pools()
        spec, selections, placement = self._schedule(request, instances, min_count)
        instances = instances[:len(selections)]
        result["placement"] = placement
        result["changed"] = True
        plans = dict((instance["name"], {"selected": selection.host, "alternates": list(selection.alternates),
                                         "weight": selection.weight, "filters": placement["filters"],
                                         "weighed": placement["weighed"]})
                     for instance, selection in zip(instances, selections))
        if self.check_mode:
            for instance, selection in zip(instances, selections):
                instance["host"] = selection.host
                result["servers"].append(server_view(instance, self.hypervisors[selection.host]))
        else:
            built = self.build_instances(request, instances, selections)
            result["servers"].extend(server_view(inst, self.hypervisors.get(inst.get("host"))) for inst in built)
        result["servers"].sort(key=lambda s: s["name"])
        for server in result["servers"]:
            if server["name"] in plans:
                server["placement"] = plans[server["name"]]
        result["diff"]["after"] = dict((s["name"], diff_view(s)) for s in result["servers"])
        if self.check_mode:
            return result
        built = [s for s in result["servers"] if s["name"] in plans]
        result["faults"] = self.faults
        failed = [inst for inst in built if inst["vm_state"] == records.ERROR]
        if failed:
            raise ComputeError("%d of %d servers failed to build: %s" % (
                len(failed), len(built), "; ".join("%s: %s" % (i["name"], (i.get("fault") or {}).get("message"))
                                                   for i in failed)),
                servers=result["servers"], details={"faults": self.faults, "placement": placement})
        return result

    def _settle_unfinished_builds(self, existing):
        """Servers of ours whose build has not finished: wait while another run still
        builds them (its lease is live), reap those whose run died (lease expired), so
        a run killed at any point is completed by the next one (a lease lasts at most
        its run's timeout plus LEASE_MARGIN, so a run with the same timeout outwaits
        it). Returns `existing` without the reaped ones."""
        deadline = time.monotonic() + self.timeout + LEASE_MARGIN
        while True:
            waiting = []
            for name, (hv, record) in sorted(existing.items()):
                if records.is_complete(record):
                    continue
                if records.build_in_progress(record, time.time()):
                    waiting.append(name)
                elif not self.check_mode:
                    try:
                        ComputeManager(self, hv).reap_abandoned(record)
                        hv.refresh_facts()
                    except Exception as exc:  # reported with the server it concerns
                        raise ComputeError("name: the abandoned build of %s on %s could not be removed: %s"
                                           % (name, hv.name, exc))
                    del existing[name]
                else:
                    del existing[name]
            if not waiting:
                return existing
            if time.monotonic() > deadline:
                hv, record = existing[waiting[0]]
                raise ComputeError("name: %s is being built by another run on %s (task_state %s; its lease runs "
                                   "%.0f s more); try again when it ends" % (
                                       waiting[0], hv.name, record.get("task_state"),
                                       record["lease_until"] - time.time()))
            time.sleep(1.0)
            for name in waiting:
                hv, _record = existing[name]
                hv.refresh_facts()
                fresh = [r for r in hv.facts["instances"] if r.get("name") == name]
                if fresh:
                    existing[name] = (hv, fresh[0])
                else:
                    del existing[name]  # its run failed and cleaned up: build it anew

    def _check_names_free(self, names, existing):
        """A domain with one of our names but no record of ours is not ours to touch."""
        for hv in self.hypervisors.values():
            if not hv.up:
                continue
            for name in names:
                if name in existing:
                    continue
                dom = driver.find_domain(hv.conn, name)
                if dom is not None:
                    raise ComputeError("name: a domain named %r already exists on hypervisor %s and is "
                                       "not managed by novalite.compute" % (name, hv.name))

    def _check_networks(self, request):
        """The NICs against the reachable hosts' networks, before anything is made: each network
        exists somewhere, and a fixed_ip lies in its subnet and is free on some host having it."""
        up = [hv for hv in self.hypervisors.values() if hv.up]
        if not up:
            return  # _schedule reports the unreachable hosts
        for index, nic in enumerate(request["nics"]):
            field = "nics[%d]" % index
            holders = [hv for hv in up if nic["network"] in hv.networks]
            if not holders:
                raise ComputeError("%s.net-name: network %r does not exist on any reachable hypervisor"
                                   % (field, nic["network"]))
            if nic.get("fixed_ip") is None:
                continue
            problems = []
            for hv in holders:
                problem = driver.fixed_ip_problem(driver.find_network(hv.conn, nic["network"]), nic["fixed_ip"])
                if problem is None:
                    break
                problems.append("%s on %s" % (problem, hv.name))
            else:
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

    def _update_metadata(self, hv, record, meta):
        if (record.get("metadata") or {}) == meta:
            return False
        if not self.check_mode:
            dom = driver.find_domain(hv.conn, record["domain"])
            record["metadata"] = meta
            driver.save_record(dom, _stored(record))
        record["metadata"] = meta
        return True

    def _provision_instances(self, request, names, min_count):
        """compute.API._provision_instances: quota, then building/scheduling records."""
        flavor = request["flavor"]
        usage = count_usage([hv.facts["instances"] for hv in self.hypervisors.values() if hv.up],
                            self.project_id)
        try:
            allowed = check_num_instances_quota(self.quotas, usage, _flavor(flavor), min_count, len(names))
        except QuotaExceeded as exc:
            raise ComputeError("quota: %s" % exc)
        now = utcnow()
        reservation_id = "r-" + uuidlib.uuid4().hex[:8]
        group = request["scheduler_hints"].get("group")
        instances = []
        for index, name in enumerate(names[:allowed]):
            instances.append({
                "uuid": str(uuidlib.uuid4()),
                "name": name,
                "project_id": self.project_id,
                "vm_state": records.BUILDING,
                "task_state": records.SCHEDULING,
                "power_state": records.NOSTATE,
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
                "ports": [],
            })
        return instances

    def _request_spec(self, request, num_instances, min_count):
        """conductor: scheduler_utils.build_request_spec."""
        image = request["image"]
        group = None
        group_name = request["scheduler_hints"].get("group")
        if group_name:
            conf = self.catalogs["server_groups"][group_name]
            group = ServerGroup(conf["name"], conf["policy"], rules=conf["rules"])
        hints = dict((k, v) for k, v in request["scheduler_hints"].items() if k != "group")
        return build_request_spec(
            flavor=_flavor(request["flavor"]),
            image=ImageMeta(image["name"], properties=image["properties"], min_ram=image["min_ram"],
                            min_disk=image["min_disk"]),
            num_instances=num_instances, min_count=min_count,
            availability_zone=request.get("availability_zone"), scheduler_hints=hints,
            instance_group=group, project_id=self.project_id)

    def _schedule(self, request, instances, min_count):
        """scheduler_client.select_destinations over the hosts that have the networks."""
        if not any(hv.up for hv in self.hypervisors.values()):
            raise ComputeError("hypervisors: none could be reached: %s" % "; ".join(
                "%s: %s" % item for item in sorted(self.unreachable().items())))
        spec = self._request_spec(request, len(instances), min_count)
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
                                                 "unreachable": self.unreachable()})
        placement = {"filters": result.filter_report,
                     "weighed": [{"host": host, "weight": weight} for host, weight in result.weighed],
                     "hosts": [s.host for s in result.selections],
                     "unreachable": self.unreachable()}
        return spec, result.selections, placement

    # ------------------------------------------------------------------ conductor
    def build_instances(self, request, instances, selections):
        """Hand each instance to its chosen host; hosts build in parallel.

        The servers of one request are powered on together: each is started paused and resumed
        once every build of the request has started its domain (or failed). Otherwise the first
        guests, booting (a TCG boot takes seconds of CPU), slow the start of all the others."""
        threads = []
        self._power_on = _Latch(len(instances))
        for instance, selection in zip(instances, selections):
            thread = threading.Thread(target=self._build_and_arrive,
                                      args=(request, instance, selection), name="build-" + instance["name"])
            thread.daemon = True
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return instances

    def _build_and_arrive(self, request, instance, selection):
        try:
            self.build_and_run_instance(request, instance, selection)
        finally:
            self._power_on.arrive(instance["uuid"])  # a build that failed holds no one back

    def build_and_run_instance(self, request, instance, selection):
        """The host, then its alternates, up to max_attempts; then vm_state error."""
        hosts = [selection.host] + list(selection.alternates)
        hosts = hosts[:self.scheduler_config.max_attempts]
        for attempt, host in enumerate(hosts, 1):
            hv = self.hypervisors[host]
            try:
                ComputeManager(self, hv).build_and_run_instance(request, instance)
                self._record_build(hv, failed=False)
                return instance
            except RescheduledException as exc:
                fault = {"code": 500, "message": str(exc), "host": host, "attempt": attempt,
                         "created": utcnow()}
                self.faults.append(dict(fault, server=instance["name"]))
                instance["fault"] = fault
                if not isinstance(exc, RescheduledByPolicyException):
                    self._record_build(hv, failed=True)
        instance.update(vm_state=records.ERROR, task_state=None, host=None)
        self.notifier.notify("compute.instance.create.error", hosts[-1] if hosts else "none",
                             notification_payload(instance, fault=instance.get("fault")), "ERROR")
        return instance

    @staticmethod
    def _record_build(hv, failed):
        """Nova's failed_builds on the host itself: one more on a failure, 0 on a success.

        The BuildFailureWeigher of later requests reads it back from the host record.
        """
        with hv.lock:
            count = hv.failed_builds + 1 if failed else 0
            if count == hv.failed_builds or not hv.up:
                return
            hv.failed_builds = count
            try:
                driver.update_host_record(hv.conn, hv.pool(), failed_builds=count)
            except Exception:  # the host may be what failed; the count stays in memory
                pass

    # ------------------------------------------------------------------ delete
    def delete(self, request):
        """Delete the named servers (idempotent): domain, volumes, DHCP reservations."""
        names = self.server_names(request)
        if request["max_count"] > 1:
            names.append(request["name"])
        self.gather_host_states()
        existing = self.find_servers(set(names))
        result = {"changed": bool(existing), "servers": [],
                  "diff": {"before": dict((name, diff_view(server_view(record, hv)))
                                          for name, (hv, record) in existing.items()), "after": {}}}
        for name in sorted(existing):
            hv, record = existing[name]
            result["servers"].append(server_view(record, hv))
            if not self.check_mode:
                ComputeManager(self, hv).terminate_instance(record)
                result["servers"][-1].update(status="DELETED", vm_state=records.DELETED, task_state=None)
        if request.get("purge_orphans"):
            purged = self.purge_orphans()
            result["orphans_removed"] = purged
            result["changed"] = result["changed"] or any(purged.values())
        down = self.unreachable()
        if down:
            result["unreachable"] = down
        return result

    def purge_orphans(self):
        """Nova's running_deleted_instance_action=reap: remove, on every reachable host,
        what driver.find_orphans reports. {host: [orphans removed]}"""
        removed = {}
        for hv in self.hypervisors.values():
            if not hv.up:
                continue
            removed[hv.name] = driver.find_orphans(hv.conn, hv.config["storage_pool"])
            if not self.check_mode:
                for orphan in removed[hv.name]:
                    driver.remove_orphan(hv.conn, hv.config["storage_pool"], orphan)
        return removed


class ComputeManager:
    """nova.compute.manager for one instance on one hypervisor."""

    def __init__(self, api, hypervisor):
        self.api = api
        self.hv = hypervisor
        self.notifier = api.notifier
        self._network = None

    def _save(self, dom, instance, **changes):
        """Write the record; while the build runs, each save renews its lease."""
        instance.update(changes)
        self._renew_lease(instance)
        driver.save_record(dom, _stored(instance))

    def _renew_lease(self, instance):
        """lease_until: past it, a build that has not finished is taken as abandoned
        (its run died) and the next run reaps it. Every step of a build either saves
        the record or is itself bounded by `timeout`, so a live build renews in time."""
        instance["updated_at"] = utcnow()
        if records.is_complete(instance):
            instance["lease_until"] = None
        else:
            instance["lease_until"] = time.time() + self.api.timeout + LEASE_MARGIN

    def build_and_run_instance(self, request, instance):
        """_build_and_run_instance: claim, build resources, spawn, active."""
        if not self.hv.up:
            raise RescheduledException("hypervisor %s is unreachable: %s" % (self.hv.name, self.hv.error))
        instance.update(host=self.hv.name, availability_zone=self.hv.config["availability_zone"],
                        vm_state=records.BUILDING, task_state=records.SCHEDULING, ports=[])
        instance.pop("fault", None)
        self.notifier.notify("compute.instance.create.start", self.hv.name,
                             notification_payload(instance, request["image"]["name"]))
        try:
            with self._instance_claim(request, instance) as dom:
                resources = self._build_resources(request, instance, dom)
                self._save(dom, instance, vm_state=records.BUILDING, task_state=records.SPAWNING)
                self._spawn(request, instance, dom, resources)
        except RescheduledException as exc:
            self.notifier.notify("compute.instance.create.error", self.hv.name,
                                 notification_payload(instance, fault={"message": str(exc)}), "ERROR")
            raise
        self.notifier.notify("compute.instance.create.end", self.hv.name,
                             notification_payload(instance, request["image"]["name"], message="Success"))

    @contextlib.contextmanager
    def _instance_claim(self, request, instance):
        """ResourceTracker.instance_claim: re-check live usage under the host's lock.

        The claim is the domain itself, defined (not started) with the instance
        record while the lock is held, so every later claim counts it. On any
        failure inside the block the claim is aborted: everything built is removed.
        """
        conn = self.hv.conn
        try:
            pool = self.hv.pool()
            with self.hv.claims, driver.HostLock(pool, "claim", timeout=self.api.timeout):
                facts = self.hv.refresh_facts()
                self._check_claim(request, instance, facts)
                self._renew_lease(instance)
                xml = driver.domain_xml(self._domain_spec(request, instance, pool))
                dom = driver.define_domain(conn, xml)
        except RescheduledException:
            raise
        except Exception as exc:  # any failure to claim sends the build to an alternate
            raise RescheduledException("claim on %s failed: %s" % (self.hv.name, exc))
        try:
            yield dom
        except Exception as exc:
            message = str(exc) if isinstance(exc, RescheduledException) else "build on %s failed: %s" % (
                self.hv.name, exc)
            try:
                with self.hv.lock:
                    lost = not self.hv.alive()
                    if lost:
                        self.hv.reconnect()
                        driver.release_lost_locks(self.hv.conn)
                self._cleanup(instance, self.hv.pool())
                if lost:  # an upload cut off with the connection left its base half-written
                    for base in driver.half_written_bases(self.hv.conn, self.hv.config["storage_pool"],
                                                          locked_too=True):
                        driver.remove_half_written_base(self.hv.conn, self.hv.config["storage_pool"], base)
            except Exception as cleanup_exc:  # the host is gone: say what stays there
                message += ("; what it built on %s could not be removed (%s): nova_host_facts reports it "
                            "as an orphan once its lease ends" % (self.hv.name, cleanup_exc))
            raise RescheduledException(message)

    def _check_claim(self, request, instance, facts):
        """The resource and server-group filters, on the host's live usage."""
        state = HostState.from_facts(facts, dict(self.hv.config, up=True, failed_builds=0))
        spec = self.api._request_spec(request, 1, 1)
        group = spec.instance_group
        if group is not None:
            hosts = set()
            for hv in self.api.hypervisors.values():
                if hv is not self.hv and hv.up:
                    if any(r.get("server_group") == group.name for r in hv.facts["instances"]):
                        hosts.add(hv.name)
            if any(r.get("server_group") == group.name for r in facts["instances"]):
                hosts.add(self.hv.name)
            group.hosts = sorted(hosts)
        for filter_cls in (filters.CoreFilter, filters.RamFilter, filters.DiskFilter):
            if not filter_cls().host_passes(state, spec):
                raise RescheduledException("claim on %s refused by %s: the host's live usage leaves no room"
                                           % (self.hv.name, filter_cls.__name__))
        for filter_cls in (filters.ServerGroupAntiAffinityFilter, filters.ServerGroupAffinityFilter):
            if not filter_cls().host_passes(state, spec):
                raise RescheduledByPolicyException("claim on %s refused by %s: the members now on the hosts "
                                                   "break the group's policy here"
                                                   % (self.hv.name, filter_cls.__name__))
        if driver.find_domain(self.hv.conn, instance["name"]) is not None:
            raise ComputeError("name: a domain named %r appeared on %s during the build"
                               % (instance["name"], self.hv.name))

    def _domain_spec(self, request, instance, pool, resources=None):
        flavor = instance["flavor"]
        base = driver.pool_path(pool)
        spec = {
            "name": instance["name"], "uuid": instance["uuid"], "title": instance["name"],
            "virt_type": self.hv.facts["virt_type"], "arch": self.hv.facts["cpu_arch"],
            "vcpus": flavor["vcpus"], "memory_mb": flavor["ram"],
            "console_log": "%s/%s.console.log" % (base, instance["uuid"]),
            "record": _stored(instance), "disks": [], "nics": [],
        }
        if resources:
            spec.update(resources)
        return spec

    def _build_resources(self, request, instance, dom):
        """_build_resources: networking, then block_device_mapping.

        As Nova's _allocate_network_async, the DHCP reservations (virNetworkUpdate: libvirt
        rewrites the network's dnsmasq hosts, ~0.25 s each) go on in a thread while the block
        devices are built and the domain is started paused; _spawn lets the guest run only
        once they are in place."""
        conn = self.hv.conn
        pool = self.hv.pool()
        self._save(dom, instance, task_state=records.NETWORKING)
        ports = []
        for nic in request["nics"]:
            net = driver.find_network(conn, nic["network"])
            if net is None or not net.isActive():
                raise RescheduledException("network %s is not active on %s" % (nic["network"], self.hv.name))
            ports.append(({"network": nic["network"], "mac": driver.generate_mac(), "ip": None}, net, nic))
        instance["ports"] = [port for port, _net, _nic in ports]
        if ports:
            self._save(dom, instance)  # the MACs are on record before any reservation exists
            self._network = _Background(self._allocate_network, pool, instance["name"], ports)
        self._save(dom, instance, task_state=records.BLOCK_DEVICE_MAPPING)
        return {"disks": self._block_device_mapping(request, instance, pool),
                "nics": [{"network": p["network"], "mac": p["mac"]} for p in instance["ports"]]}

    def _allocate_network(self, pool, hostname, ports):
        conn = self.hv.network_conn()
        for port, net, nic in ports:
            if conn is not self.hv.conn:
                net = driver.find_network(conn, net.name()) or net
            with self.hv.reservations:
                port["ip"] = driver.reserve_fixed_ip(conn, pool, net, port["mac"], hostname, nic.get("fixed_ip"))

    def _wait_network(self):
        """Wait for the reservations in flight; their error, if any, is raised here."""
        network, self._network = self._network, None
        if network is not None:
            network.wait()

    def _block_device_mapping(self, request, instance, pool):
        """Root overlay on the cached base, ephemeral, swap and the config drive."""
        conn = self.hv.conn
        image = request["image"]
        flavor = instance["flavor"]
        uuid = instance["uuid"]
        base_path, _copied = driver.cache_image(conn, pool, request["image_file"], image["disk_format"],
                                                request.get("image_checksum"), timeout=self.api.timeout)
        root_size = max(flavor["disk"] * GIB, request["image_size"])
        disks = []
        root = driver.create_volume(pool, uuid + ".disk", root_size, "qcow2",
                                    (base_path, "qcow2" if image["disk_format"] == "qcow2" else "raw"))
        disks.append({"path": root.path(), "format": "qcow2", "dev": "vda"})
        devs = iter(("vdb", "vdc", "vdd", "vde"))
        if flavor.get("ephemeral"):
            vol = driver.create_volume(pool, uuid + ".disk.eph0", flavor["ephemeral"] * GIB, "qcow2")
            disks.append({"path": vol.path(), "format": "qcow2", "dev": next(devs)})
        if flavor.get("swap"):
            vol = driver.create_volume(pool, uuid + ".disk.swap", flavor["swap"] * MIB, "qcow2")
            disks.append({"path": vol.path(), "format": "qcow2", "dev": next(devs)})
        if request["config_drive"]:
            keys = {}
            if request.get("key_name"):
                keys[request["key_name"]] = self.api.catalogs["keypairs"][request["key_name"]]
            iso = config_drive.build(instance, keys, request.get("userdata"), request.get("admin_password"))
            vol = driver.create_volume(pool, uuid + ".disk.config", len(iso), "raw")
            driver.upload_volume(conn, vol, iso)
            disks.append({"path": vol.path(), "format": "raw", "dev": next(devs), "readonly": True})
        driver.create_volume(pool, uuid + ".console.log", 0, "raw")
        return disks

    def _spawn(self, request, instance, dom, resources):
        """driver.spawn: the full domain XML, define, power on, wait until running."""
        conn = self.hv.conn
        pool = self.hv.pool()
        boot = {}
        for key, field in (("kernel_id", "kernel"), ("ramdisk_id", "initrd")):
            if request.get(field + "_file"):
                boot[field], _copied = driver.cache_image(conn, pool, request[field + "_file"], "raw",
                                                          request.get(field + "_checksum"),
                                                          timeout=self.api.timeout)
        if boot:
            boot["cmdline"] = request["image"].get("os_command_line") or "console=ttyS0"
        current = driver.find_domain(conn, instance["name"])
        record = driver.read_record(current) if current is not None else None
        if record is None or record.get("uuid") != instance["uuid"]:
            raise RescheduledException("the claim of %s on %s was lost: its domain was removed during the build"
                                       % (instance["name"], self.hv.name))
        self._renew_lease(instance)
        spec = self._domain_spec(request, instance, pool, dict(resources, **boot))
        dom = driver.define_domain(conn, driver.domain_xml(spec))
        driver.start_domain(dom, paused=True)
        self._wait_network()  # the guest's CPUs run only once its addresses are reserved
        self.api._power_on.arrive(instance["uuid"])
        self.api._power_on.wait(self.api.timeout)  # and once every server of the request is started
        driver.resume_domain(dom)
        if self.api.wait and not driver.wait_for_state(dom, records.RUNNING, self.api.timeout):
            raise RescheduledException("domain %s did not reach RUNNING within %ss"
                                       % (instance["name"], self.api.timeout))
        self._save(dom, instance, vm_state=records.ACTIVE, task_state=None,
                   power_state=driver.power_state(dom), launched_at=utcnow())

    def _cleanup(self, instance, pool):
        """Remove what this host holds of a failed build: domain, volumes, reservations."""
        conn = self.hv.conn
        if self._network is not None:  # a reservation in flight ends before reservations are released
            self._network.join()
            self._network = None
        dom = driver.find_domain(conn, instance["name"])
        if dom is not None:
            record = driver.read_record(dom)
            if record is not None and record.get("uuid") == instance["uuid"]:
                driver.destroy_domain(dom)
        for vol in driver.instance_volumes(pool, instance["uuid"]):
            driver.delete_volume(vol)
        for port in instance.get("ports") or []:
            net = driver.find_network(conn, port["network"])
            if net is not None:
                driver.release_fixed_ip(pool, net, port["mac"])
        instance["ports"] = []

    def reap_abandoned(self, record):
        """A build whose run died: remove what it left, as a failed build would have."""
        self.notifier.notify("compute.instance.create.error", self.hv.name, notification_payload(
            record, fault={"message": "build abandoned at task_state %s: its run stopped; reaped"
                           % record.get("task_state")}), "ERROR")
        self._cleanup(record, self.hv.pool())

    def terminate_instance(self, record):
        """Delete: power off, undefine, volumes, DHCP reservations; delete.start/end."""
        self.notifier.notify("compute.instance.delete.start", self.hv.name, notification_payload(record))
        dom = driver.find_domain(self.hv.conn, record["domain"])
        if dom is not None:
            record["task_state"] = records.DELETING
            driver.save_record(dom, _stored(record))
        self._cleanup(record, self.hv.pool())
        record.update(vm_state=records.DELETED, task_state=None)
        self.notifier.notify("compute.instance.delete.end", self.hv.name, notification_payload(record))


# ------------------------------------------------------------------------- helpers
class _Latch:
    """Counts down arrivals (each key once); wait() returns when all have arrived."""

    def __init__(self, count):
        self._cond = threading.Condition()
        self._pending = count
        self._arrived = set()

    def arrive(self, key):
        with self._cond:
            if key not in self._arrived:
                self._arrived.add(key)
                self._pending -= 1
                self._cond.notify_all()

    def wait(self, timeout):
        with self._cond:
            return self._cond.wait_for(lambda: self._pending <= 0, timeout)


class _Background(threading.Thread):
    """func(*args) in a thread; wait() joins it and raises what it raised."""

    def __init__(self, func, *args):
        super(_Background, self).__init__(name="%s-%s" % (threading.current_thread().name, func.__name__))
        self.daemon = True
        self._call = (func, args)
        self.error = None
        self.start()

    def run(self):
        func, args = self._call
        try:
            func(*args)
        except Exception as exc:  # handed to wait()
            self.error = exc

    def wait(self):
        self.join()
        if self.error is not None:
            raise self.error


def _flavor(flavor):
    return Flavor(flavor["name"], flavor["vcpus"], flavor["ram"], flavor["disk"],
                  flavor.get("ephemeral", 0), flavor.get("swap", 0), flavor.get("extra_specs") or {})


def _stored(instance):
    """The fields of an instance dict that go into the domain's metadata."""
    return dict((k, v) for k, v in instance.items() if k not in ("domain",))


def diff_view(server):
    """The part of a server that --diff shows."""
    return {"status": server["status"], "hypervisor_hostname": server["hypervisor_hostname"],
            "flavor": server["flavor"]["name"], "image": server["image"]["name"],
            "metadata": server["metadata"],
            "addresses": dict((net, [p["addr"] for p in ports]) for net, ports in server["addresses"].items())}


def server_view(record, hv=None):
    """A server shaped like openstack.cloud.server's result."""
    addresses = {}
    for port in record.get("ports") or []:
        addresses.setdefault(port["network"], []).append({
            "addr": port.get("ip"), "version": 4, "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": port["mac"]})
    flavor = record.get("flavor") or {}
    host = record.get("host") or (hv.name if hv else None)
    return {
        "id": record.get("uuid"),
        "name": record.get("name"),
        "status": records.status(record),
        "vm_state": record.get("vm_state"),
        "task_state": record.get("task_state"),
        "power_state": record.get("power_state", 0),
        "power_state_name": records.POWER_STATES.get(record.get("power_state", 0), "NOSTATE"),
        "hypervisor_hostname": host,
        "compute_host": host,
        "hypervisor_uri": hv.uri if hv else None,
        "availability_zone": record.get("availability_zone"),
        "flavor": {"name": flavor.get("name"), "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"),
                   "disk": flavor.get("disk"), "ephemeral": flavor.get("ephemeral", 0),
                   "swap": flavor.get("swap", 0), "extra_specs": flavor.get("extra_specs") or {}},
        "image": {"name": record.get("image")},
        "key_name": record.get("key_name") or None,
        "addresses": addresses,
        "metadata": record.get("metadata") or {},
        "project_id": record.get("project_id"),
        "server_group": record.get("server_group") or None,
        "created_at": record.get("created_at"),
        "launched_at": record.get("launched_at"),
        "fault": record.get("fault"),
        "reservation_id": record.get("reservation_id"),
        "launch_index": record.get("launch_index", 0),
        "config_drive": bool(record.get("config_drive")),
    }


def prepare_request_images(request, catalogs, open_url=None):
    """Local files, checksums and sizes of the image (and its kernel/ramdisk) of a request."""
    image = request["image"]
    path = images.local_file(image, open_url=open_url)
    request["image_file"] = path
    request["image_checksum"] = image.get("checksum") or images.sha256_of(path)
    request["image_size"] = images.virtual_size(path, image["disk_format"])
    flavor = request["flavor"]
    if flavor["disk"] and flavor["disk"] * GIB < request["image_size"]:
        raise ComputeError("flavor: root disk of %s (%d GB) is smaller than image %s (%d bytes)"
                           % (flavor["name"], flavor["disk"], image["name"], request["image_size"]))
    if image["min_disk"] and flavor["disk"] and flavor["disk"] < image["min_disk"]:
        raise ComputeError("flavor: root disk of %s (%d GB) is below the min_disk %d GB of image %s"
                           % (flavor["name"], flavor["disk"], image["min_disk"], image["name"]))
    if image["min_ram"] and flavor["ram"] < image["min_ram"]:
        raise ComputeError("flavor: ram of %s (%d MB) is below the min_ram %d MB of image %s"
                           % (flavor["name"], flavor["ram"], image["min_ram"], image["name"]))
    for key, field in (("kernel_id", "kernel"), ("ramdisk_id", "initrd")):
        if image.get(key):
            part = catalogs["images"][image[key]]
            part_path = images.local_file(part, open_url=open_url)
            request[field + "_file"] = part_path
            request[field + "_checksum"] = part.get("checksum") or images.sha256_of(part_path)
    return request


def cache_images(hypervisor_configs, files, connect_timeout, check_mode=False):
    """Nova's image pre-caching: copy each image into every hypervisor's _base cache.

    files: {image name: (local path, sha256)}. Hosts work in parallel.
    Returns {"cached": {host: [names copied]}, "unreachable": {host: reason}}.
    """
    hypervisors = [Hypervisor(config, create_pool=not check_mode) for config in hypervisor_configs.values()]
    gather_all(hypervisors, connect_timeout)
    cached = dict((hv.name, []) for hv in hypervisors if hv.up)
    errors = {}

    def work(hv):
        try:
            pool = driver.find_pool(hv.conn, hv.config["storage_pool"])
            for name, (path, checksum) in sorted(files.items()):
                if check_mode:
                    if pool is None or not driver.is_cached(hv.conn, pool, checksum):
                        cached[hv.name].append(name)
                    continue
                _path, copied = driver.cache_image(hv.conn, hv.pool(), path, "raw", checksum)
                if copied:
                    cached[hv.name].append(name)
        except Exception as exc:  # reported per host
            errors[hv.name] = str(exc)

    threads = [threading.Thread(target=work, args=(hv,)) for hv in hypervisors if hv.up]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unreachable = dict((hv.name, hv.error) for hv in hypervisors if not hv.up)
    unreachable.update(errors)
    return {"cached": cached, "unreachable": unreachable}
