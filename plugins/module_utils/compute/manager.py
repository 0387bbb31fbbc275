# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.compute.manager for one instance on one hypervisor: the build after the claim
(networking, block devices, spawn), its clean-up, delete, and the server actions (stop, start,
reboot, pause, unpause, suspend, resume, lock, the console), each walking Nova's task_states with
every step saved, guarded by expected_task_state; a task whose run died is recovered
(init_instance) by the next run that acts on the server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import claims
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import Background, user_data_digest, utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError, RescheduledException, TaskTimeout
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import driver
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.network import ipam
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


REBOOT_TASKS = (states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED, states.REBOOTING_HARD,
                states.REBOOT_PENDING_HARD, states.REBOOT_STARTED_HARD)


class ComputeManager:
    """nova.compute.manager for one instance on one hypervisor."""

    def __init__(self, api, hypervisor, power_on=None):
        self.api = api
        self.power_on = power_on
        self.hv = hypervisor
        self.notifier = api.notifier
        self._network = None
        self._record_lock = threading.Lock()
        self._building = None       # (domain, instance) while the heartbeat renews the lease

    def _save(self, dom, instance, **changes):
        """Write the record; while the build runs, each save renews its lease."""
        with self._record_lock:
            instance.update(changes)
            self._renew_lease(instance)
            instance_record.save_record(dom, instance_record.stored(instance))

    def _renew_lease(self, instance):
        """lease_until: past it, a build that has not finished is taken as abandoned
        (its run died) and the next run reaps it. Every step of a build renews it, and
        the run's heartbeat (leases.py) does in between."""
        instance["updated_at"] = utcnow()
        if states.is_complete(instance):
            instance["lease_until"] = None
        else:
            instance["lease_until"] = time.time() + states.LEASE_SECONDS

    def renew(self):
        """The heartbeat's renewal of the build's lease (its record saved again)."""
        building = self._building
        if building is not None and not states.is_complete(building[1]):
            self._save(*building)

    def build_and_run_instance(self, request, instance):
        """_build_and_run_instance: claim, build resources, spawn, active."""
        if not self.hv.up:
            raise RescheduledException("hypervisor %s is unreachable: %s" % (self.hv.name, self.hv.error))
        instance.update(host=self.hv.name, availability_zone=self.hv.config["availability_zone"],
                        vm_state=states.BUILDING, task_state=states.SCHEDULING, ports=[])
        instance.pop("fault", None)
        event = "compute.instance.%s." % request.get("event", "create")   # an evacuation's: rebuild
        self.notifier.notify(event + "start", self.hv.name, notification_payload(instance, request["image"]["name"]))
        try:
            with claims.instance_claim(self, request, instance) as dom:
                self._building = (dom, instance)
                try:
                    with self.api.heartbeat.holding(self):
                        resources = self._build_resources(request, instance, dom)
                        self._save(dom, instance, vm_state=states.BUILDING, task_state=states.SPAWNING)
                        self._spawn(request, instance, dom, resources)
                finally:
                    self._building = None
        except RescheduledException as exc:
            self.notifier.notify(event + "error", self.hv.name,
                                 notification_payload(instance, fault={"message": str(exc)}), "ERROR")
            raise
        self.notifier.notify(event + "end", self.hv.name,
                             notification_payload(instance, request["image"]["name"], message="Success"))

    def _domain_spec(self, request, instance, pool, resources=None):
        flavor = instance["flavor"]
        base = storage.pool_path(pool)
        spec = {
            "name": instance["name"], "uuid": instance["uuid"], "title": instance["name"],
            "virt_type": self.hv.facts["virt_type"], "arch": self.hv.facts["cpu_arch"],
            "vcpus": flavor["vcpus"], "memory_mb": flavor["ram"],
            "console_log": "%s/%s.console.log" % (base, instance["uuid"]),
            "record": instance_record.stored(instance), "disks": [], "nics": [],
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
        self._save(dom, instance, task_state=states.NETWORKING)
        ports = []
        for nic in request["nics"]:
            net = libvirt_network.find_network(conn, nic["network"])
            if net is None or not net.isActive():
                raise RescheduledException("network %s is not active on %s" % (nic["network"], self.hv.name))
            # an evacuation's ports keep their MACs (and, as fixed_ip, their addresses)
            mac = nic.get("mac") or libvirt_network.generate_mac()
            ports.append(({"network": nic["network"], "mac": mac, "ip": None}, net, nic))
        instance["ports"] = [port for port, _net, _nic in ports]
        if ports:
            self._save(dom, instance)  # the MACs are on record before any reservation exists
            self._network = Background(self._allocate_network, pool, instance["name"], ports)
        self._save(dom, instance, task_state=states.BLOCK_DEVICE_MAPPING)
        return {"disks": self._block_device_mapping(request, instance, pool),
                "nics": [{"network": p["network"], "mac": p["mac"]} for p in instance["ports"]]}

    def _allocate_network(self, pool, hostname, ports):
        conn = self.hv.network_conn()
        for port, net, nic in ports:
            if conn is not self.hv.conn:
                net = libvirt_network.find_network(conn, net.name()) or net
            with ipam.addresses_elsewhere(self.api, nic["network"], self.hv) as elsewhere:
                with self.hv.reservations:
                    port["ip"] = libvirt_network.reserve_fixed_ip(conn, pool, net, port["mac"], hostname,
                                                                  nic.get("fixed_ip"), avoid=elsewhere)

    def _wait_network(self):
        """Wait for the reservations in flight; their error, if any, is raised here."""
        network, self._network = self._network, None
        if network is not None:
            network.wait()

    def _block_device_mapping(self, request, instance, pool, keep=()):
        """Root overlay on the cached base, ephemeral, swap and the config drive; the volumes
        named in `keep` (a rebuild's preserved ephemeral disk, its console log) are used as they are."""
        conn = self.hv.conn
        image = request["image"]
        flavor = instance["flavor"]
        uuid = instance["uuid"]
        base_path, _copied = imagecache.cache_image(
            conn, pool, request["image_file"], image["disk_format"], request.get("image_checksum"),
            timeout=self.api.remaining("caching image %s on %s" % (image["name"], self.hv.name)))
        root_size = max(flavor["disk"] * units.Gi, request["image_size"])
        disks = []
        root = storage.create_volume(pool, uuid + ".disk", root_size, "qcow2",
                                     (base_path, "qcow2" if image["disk_format"] == "qcow2" else "raw"))
        disks.append({"path": root.path(), "format": "qcow2", "dev": "vda"})
        devs = iter(("vdb", "vdc", "vdd", "vde"))
        if flavor.get("ephemeral"):
            vol = storage.find_volume(pool, uuid + ".disk.eph0") if uuid + ".disk.eph0" in keep else None
            vol = vol or storage.create_volume(pool, uuid + ".disk.eph0", flavor["ephemeral"] * units.Gi, "qcow2")
            disks.append({"path": vol.path(), "format": "qcow2", "dev": next(devs)})
        if flavor.get("swap"):
            vol = storage.create_volume(pool, uuid + ".disk.swap", flavor["swap"] * units.Mi, "qcow2")
            disks.append({"path": vol.path(), "format": "qcow2", "dev": next(devs)})
        if request["config_drive"]:
            keys = {}
            if request.get("key_name"):
                keys[request["key_name"]] = self.api.catalogs["keypairs"][request["key_name"]]
            iso = configdrive.build(instance, keys, request.get("userdata"), request.get("admin_password"))
            vol = storage.create_volume(pool, uuid + ".disk.config", len(iso), "raw")
            storage.upload_volume(conn, vol, iso)
            disks.append({"path": vol.path(), "format": "raw", "dev": next(devs), "readonly": True})
        if uuid + ".console.log" not in keep:
            storage.create_volume(pool, uuid + ".console.log", 0, "raw")
        return disks

    def _boot_files(self, request, pool):
        """The image's kernel and ramdisk in the host's cache, and its command line (a direct
        kernel boot), or {} for an image that boots from its disk."""
        boot = {}
        for field in ("kernel", "initrd"):
            if request.get(field + "_file"):
                boot[field], _copied = imagecache.cache_image(
                    self.hv.conn, pool, request[field + "_file"], "raw", request.get(field + "_checksum"),
                    timeout=self.api.remaining("caching the %s on %s" % (field, self.hv.name)))
        if boot:
            boot["cmdline"] = request["image"].get("os_command_line") or "console=ttyS0"
        return boot

    def _spawn(self, request, instance, dom, resources):
        """driver.spawn: the full domain XML, define, power on, wait until running."""
        conn = self.hv.conn
        pool = self.hv.pool()
        boot = self._boot_files(request, pool)
        current = guest.find_domain(conn, instance["name"])
        record = instance_record.read_record(current) if current is not None else None
        if record is None or record.get("uuid") != instance["uuid"]:
            raise RescheduledException("the claim of %s on %s was lost: its domain was removed during the build"
                                       % (instance["name"], self.hv.name))
        self._renew_lease(instance)
        spec = self._domain_spec(request, instance, pool, dict(resources, **boot))
        dom = guest.define_domain(conn, spec)
        guest.start_domain(dom, paused=True)
        self._wait_network()  # the guest's CPUs run only once its addresses are reserved
        if self.power_on is not None:
            self.power_on.arrive(instance["uuid"])
            # and once every server of the request is started
            self.power_on.wait(self.api.remaining("starting the request's servers together"))
        guest.resume_domain(dom)
        left = self.api.remaining("starting %s" % instance["name"])
        if self.api.wait and not guest.wait_for_state(dom, states.RUNNING, left):
            raise TaskTimeout("timeout: %s did not reach RUNNING within the task's %ss"
                              % (instance["name"], self.api.timeout))
        self._save(dom, instance, vm_state=states.ACTIVE, task_state=None,
                   power_state=guest.power_state(dom), launched_at=utcnow())

    def _cleanup(self, instance, pool):
        """Remove what this host holds of a failed build: domain, volumes, reservations."""
        conn = self.hv.conn
        if self._network is not None:  # a reservation in flight ends before reservations are released
            self._network.join()
            self._network = None
        dom = guest.find_domain(conn, instance["name"])
        if dom is not None:
            record = instance_record.read_record(dom)
            if record is not None and record.get("uuid") == instance["uuid"]:
                guest.destroy_domain(dom)
        for vol in storage.instance_volumes(pool, instance["uuid"]):
            storage.delete_volume(vol)
        for port in instance.get("ports") or []:
            net = libvirt_network.find_network(conn, port["network"])
            if net is not None:
                libvirt_network.release_fixed_ip(pool, net, port["mac"])
        instance["ports"] = []

    def reap_abandoned(self, record):
        """A build whose run died: remove what it left, as a failed build would have."""
        self.notifier.notify("compute.instance.create.error", self.hv.name, notification_payload(
            record, fault={"message": "build abandoned at task_state %s: its run stopped; reaped"
                           % record.get("task_state")}), "ERROR")
        self._cleanup(record, self.hv.pool())

    def change_instance_metadata(self, record, meta):
        """The server's metadata set to `meta` in its record (not in check mode); True if it changed."""
        if (record.get("metadata") or {}) == meta:
            return False
        record["metadata"] = meta
        if not self.api.check_mode:
            dom = guest.find_domain(self.hv.conn, record["domain"])
            instance_record.save_record(dom, instance_record.stored(record))
        return True

    def terminate_instance(self, record):
        """Delete: power off, undefine, volumes, DHCP reservations; delete.start/end."""
        self.notifier.notify("compute.instance.delete.start", self.hv.name, notification_payload(record))
        dom = guest.find_domain(self.hv.conn, record["domain"])
        if dom is not None:
            record["task_state"] = states.DELETING
            instance_record.save_record(dom, instance_record.stored(record))
        self._cleanup(record, self.hv.pool())
        record.update(vm_state=states.DELETED, task_state=None)
        self.notifier.notify("compute.instance.delete.end", self.hv.name, notification_payload(record))

    # ------------------------------------------------------------------ server actions
    def _instance_lock(self, record):
        """The instance's lock on its host: held only to read and save the record at a task's
        start (the compare-and-set Nova's database does for expected_task_state)."""
        return locks.HostLock(self.hv.pool(), "instance-" + record["uuid"],
                              timeout=self.api.remaining("taking %s's instance lock" % record["name"]))

    def _current(self, record):
        """(domain, the record as the host holds it now, its vm_state synced with the power state)."""
        dom = guest.find_domain(self.hv.conn, record["domain"])
        current = instance_record.read_record(dom) if dom is not None else None
        if current is None or current.get("uuid") != record["uuid"]:
            raise ComputeError("server %s (uuid %s) is no longer on %s" % (record["name"], record["uuid"], self.hv.name))
        current.update(domain=record["domain"], power_state=guest.power_state(dom))
        return dom, states.sync_power_state(current)

    def begin_task(self, record, task_state, check=None):
        """compute.api: instance.task_state = task_state; instance.save(expected_task_state=[None]),
        under the instance's lock: of two runs that both passed the API's checks, the first saves
        its task, the second finds it set and gets UnexpectedTaskState before it changes anything.
        `check(current)`, asked again under the lock, raises for a refusal or returns True when
        the server is already where the action leads (then: (None, record), nothing done)."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            if current.get("task_state") is not None:
                raise ia.UnexpectedTaskState(
                    "Conflict updating instance %s. Expected: {'task_state': [None]}. Actual: {'task_state': %r} "
                    "(another run is acting on it)" % (record["name"], current.get("task_state")))
            record.clear()
            record.update(current)
            if check is not None and check(current):
                return None, record
            self._save(dom, record, task_state=task_state)
        return dom, record

    def _save_task(self, dom, record, expected=None, **changes):
        """instance.save(expected_task_state=expected): the record re-read first; another
        task_state means another run took the server (this run's lease ran out). A lock set
        meanwhile is kept."""
        expected = (record["task_state"],) if expected is None else expected
        current = instance_record.read_record(dom) or {}
        if current.get("task_state") not in expected:
            raise ia.UnexpectedTaskState(
                "Conflict updating instance %s. Expected: {'task_state': %r}. Actual: {'task_state': %r}"
                % (record["name"], list(expected), current.get("task_state")))
        for key in ("locked", "locked_by"):
            if key in current:
                record[key] = current[key]
        self._save(dom, record, **changes)

    def _fail_task(self, dom, record, action, exc):
        """@reverts_task_state: a failed action leaves no task behind; the vm_state is what the
        domain's power state says, the fault says what failed."""
        expected = (record.get("task_state"),)
        try:
            record.update(power_state=guest.power_state(dom), task_state=None)
            states.sync_power_state(record)
            record["fault"] = {"code": 500, "created": utcnow(), "message": "%s failed: %s" % (action, exc)}
            self._save_task(dom, record, expected=expected)
        except Exception:  # the record could not be saved: the lease ends, the next run recovers it
            pass

    def run_action(self, record, action, task_state, work, check=None):
        """One action on one server: ACTION.start, the task begun (guarded), work(dom, record)
        (which may step through more task_states with _step and returns the record's changes
        and a detail for the result), the task ended with every change saved, ACTION.end.
        Returns (record, detail); (record, None) when check found it already there."""
        event = "compute.instance.%s" % ia.NOTIFICATION_NAMES[action]
        dom, record = self.begin_task(record, task_state, check)
        if dom is None:
            return record, None
        self.notifier.notify(event + ".start", self.hv.name, notification_payload(record))
        try:
            self._building = (dom, record)
            try:
                with self.api.heartbeat.holding(self):  # the task's lease renewed while it runs
                    changes, detail = work(dom, record)
                    record.pop("fault", None)
                    self._save_task(dom, record, expected=changes.pop("_expected", None),
                                    **dict(changes, task_state=None, power_state=guest.power_state(dom)))
            finally:
                self._building = None
        except ia.UnexpectedTaskState:
            raise
        except Exception as exc:
            self._fail_task(dom, record, action, exc)
            self.notifier.notify(event + ".error", self.hv.name, notification_payload(
                record, fault={"message": str(exc)}), "ERROR")
            raise ComputeError("%s of %s on %s failed: %s" % (action, record["name"], self.hv.name, exc))
        self.notifier.notify(event + ".end", self.hv.name, notification_payload(record))
        return record, detail

    def _step(self, dom, record, task_state):
        self._save_task(dom, record, task_state=task_state)

    def stop_instance(self, record, shutdown_timeout, check=None):
        """ComputeManager.stop_instance: powering-off; a clean ACPI shutdown within
        shutdown_timeout, then the plug (driver.power_off); stopped."""
        def work(dom, record):
            clean = driver.power_off(dom, min(shutdown_timeout, self.api.remaining("stopping %s" % record["name"])))
            if record.get("rescue_image"):  # a rescued server stopped: its rescue definition is gone with it
                self._remove_rescue_disk(record)
            return {"vm_state": states.STOPPED}, {"clean_shutdown": clean}
        return self.run_action(record, ia.STOP, states.POWERING_OFF, work, check)

    def start_instance(self, record, check=None):
        """ComputeManager.start_instance: powering-on; the domain started; active."""
        def work(dom, _record):
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.START, states.POWERING_ON, work, check)

    def reboot_instance(self, record, reboot_type, shutdown_timeout, check=None):
        """ComputeManager.reboot_instance: rebooting (or rebooting_hard), reboot_pending,
        reboot_started; driver.reboot (soft: ACPI shutdown and start, hard after
        shutdown_timeout); active."""
        hard = reboot_type == "hard"

        def work(dom, record):
            self._step(dom, record, states.REBOOT_PENDING_HARD if hard else states.REBOOT_PENDING)
            self._step(dom, record, states.REBOOT_STARTED_HARD if hard else states.REBOOT_STARTED)
            done = driver.reboot(dom, reboot_type, min(shutdown_timeout, self.api.remaining("rebooting")),
                                 self.api.remaining("rebooting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {"reboot_type": done}
        return self.run_action(record, ia.REBOOT, ia.reboot_task_state(reboot_type), work, check)

    def pause_instance(self, record, check=None):
        def work(dom, _record):
            driver.pause(dom)
            return {"vm_state": states.PAUSED}, {}
        return self.run_action(record, ia.PAUSE, states.PAUSING, work, check)

    def unpause_instance(self, record, check=None):
        def work(dom, _record):
            driver.unpause(dom)
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.UNPAUSE, states.UNPAUSING, work, check)

    def suspend_instance(self, record, check=None):
        """ComputeManager.suspend_instance: suspending; the managed save; suspended."""
        def work(dom, _record):
            driver.suspend(dom)
            return {"vm_state": states.SUSPENDED}, {}
        return self.run_action(record, ia.SUSPEND, states.SUSPENDING, work, check)

    def resume_instance(self, record, check=None):
        """ComputeManager.resume_instance: resuming; started from the managed save; active. The
        record (task_state resuming, the lease) goes into the saved definition first, so that the
        guest restored from it shows this task, not the suspend's it was saved with."""
        def work(dom, record):
            if guest.has_managed_save(dom):
                with self._record_lock:
                    guest.save_record_in_managed_save(dom, instance_record.stored(record))
            driver.resume(dom, self.api.remaining("resuming %s" % record["name"]))
            return {"vm_state": states.ACTIVE, "_expected": (states.RESUMING, states.SUSPENDING)}, {}
        return self.run_action(record, ia.RESUME, states.RESUMING, work, check)

    def set_lock(self, record, locked, locked_by="owner"):
        """compute.api.lock / unlock: the record's lock flag, under the instance's lock."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            if bool(current.get("locked")) == locked:
                record.update(current)
                return False
            current.update(locked=locked, locked_by=locked_by if locked else None)
            instance_record.save_record(dom, instance_record.stored(current))
            record.clear()
            record.update(current)
        self.notifier.notify("compute.instance.%s" % ("lock" if locked else "unlock"), self.hv.name,
                             notification_payload(record))
        return True

    def get_console_output(self, record, length=None):
        """ComputeManager.get_console_output: the serial console's log, read through libvirt."""
        return driver.get_console_output(self.hv.conn, self.hv.pool(), record["uuid"], length)

    def init_instance(self, record):
        """ComputeManager._init_instance for a server whose task's run died (task_state set,
        its lease over): a rebuild cut off leaves the server in error (its disks may be half
        made; rebuild it again); a reboot (or an unrescue) cut off with the guest down is
        finished, hard, as _retry_reboot does; any other task is cleared and the vm_state is what the domain
        is (its rescue definition running: rescued, running: active, paused: paused, saved:
        suspended, off: stopped; a rescue disk no rescue runs on is removed), so the server can
        be acted on again. Returns the task that was recovered, or None (another run did it)."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            task = current.get("task_state")
            if task is None or states.task_in_progress(current, time.time()):
                record.clear()
                record.update(current)
                return None
            power = current["power_state"]
            if task in states.REBUILD_STATES:
                current["vm_state"] = states.ERROR
                current["fault"] = {"code": 500, "created": utcnow(), "message": "rebuild abandoned at task_state %s: "
                                    "its run stopped; rebuild the server again" % task}
            elif task in REBOOT_TASKS + (states.UNRESCUING,) and power != states.RUNNING:
                # _retry_reboot: a reboot cut off with the guest down is finished, hard
                driver.hard_reboot(dom)
                driver.power_on(dom, self.api.remaining("restarting %s" % record["name"]))
                current.update(vm_state=states.ACTIVE, power_state=guest.power_state(dom))
            elif power in (states.RUNNING, states.PAUSED_POWER) and guest.is_rescue(dom):
                current["vm_state"] = states.RESCUED
            elif power == states.RUNNING:
                current["vm_state"] = states.ACTIVE
            elif power == states.PAUSED_POWER:
                current["vm_state"] = states.PAUSED
            elif guest.has_managed_save(dom):
                current["vm_state"] = states.SUSPENDED
            else:
                current["vm_state"] = states.STOPPED
            if current["vm_state"] != states.RESCUED and task in (states.RESCUING, states.UNRESCUING):
                self._remove_rescue_disk(current)
            current.update(task_state=None, lease_until=None, updated_at=utcnow())
            instance_record.save_record(dom, instance_record.stored(current))
            record.clear()
            record.update(current)
        return task

    def rebuild_instance(self, record, request, check=None):
        """ComputeManager.rebuild_instance (_rebuild_default_impl), on the server's own host: rebuilding
        - the guest powered off; rebuild_block_device_mapping - the root overlay made again on the
        (new) image's base, the ephemeral disk too unless preserve_ephemeral, the swap, the config
        drive regenerated (with the new user data and metadata when given, else the server's);
        rebuild_spawning - the domain defined again (same UUID, name, MACs, addresses, flavor) with
        the image's kernel and started; active, or stopped again when it was stopped, as in Nova."""
        def work(dom, record):
            was = record["vm_state"]
            pool = self.hv.pool()
            uuid = record["uuid"]
            guest.poweroff(dom)
            user_data = request.get("userdata")
            if user_data is None and record.get("config_drive"):
                user_data = self._config_drive_user_data(pool, uuid)
            self._step(dom, record, states.REBUILD_BLOCK_DEVICE_MAPPING)
            record["image"] = request["image"]["name"]
            if request.get("meta") is not None:
                record["metadata"] = request["meta"]
            if request.get("userdata") is not None:
                record["user_data_digest"] = user_data_digest(request["userdata"])
            keep = set([uuid + ".console.log"] + ([uuid + ".disk.eph0"] if request.get("preserve_ephemeral") else []))
            for vol in storage.instance_volumes(pool, uuid):
                if vol.name() not in keep:
                    storage.delete_volume(vol)
            disks = self._block_device_mapping(dict(request, config_drive=bool(record.get("config_drive")),
                                                    key_name=record.get("key_name"), userdata=user_data),
                                               record, pool, keep)
            self._step(dom, record, states.REBUILD_SPAWNING)
            resources = dict(self._boot_files(request, pool), disks=disks,
                             nics=[{"network": p["network"], "mac": p["mac"]} for p in record.get("ports") or []])
            dom = guest.define_domain(self.hv.conn, self._domain_spec(request, record, pool, resources))
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            changes = {"vm_state": states.ACTIVE, "launched_at": utcnow()}
            if was == states.STOPPED:
                guest.poweroff(dom)
                changes["vm_state"] = states.STOPPED
            return changes, {"image": record["image"], "preserve_ephemeral": bool(request.get("preserve_ephemeral"))}
        return self.run_action(record, ia.REBUILD, states.REBUILDING, work, check)

    def _config_drive_user_data(self, pool, uuid):
        vol = storage.find_volume(pool, uuid + ".disk.config")
        if vol is None:
            return None
        return configdrive.read_user_data(storage.download_volume(self.hv.conn, vol))

    def rescue_instance(self, record, request, check=None):
        """ComputeManager.rescue_instance (LibvirtDriver.rescue): rescuing - a rescue disk made on the
        rescue image's base (the server's own image unless another is given), the guest powered off,
        and the domain started from a rescue definition - the rescue disk boots as vda with the rescue
        image's kernel, the server's root disk attached as vdb, its config drive and NICs as they were.
        The rescue definition is the domain's live one only (virDomainCreateXML over the defined
        domain): its persistent definition stays the server's, so that unrescue, or a run killed here,
        comes back to it. rescued."""
        def work(dom, record):
            pool = self.hv.pool()
            uuid = record["uuid"]
            old = storage.find_volume(pool, uuid + ".disk.rescue")
            if old is not None:
                storage.delete_volume(old)
            image = request["image"]
            base_path, _copied = imagecache.cache_image(
                self.hv.conn, pool, request["image_file"], image["disk_format"], request.get("image_checksum"),
                timeout=self.api.remaining("caching image %s on %s" % (image["name"], self.hv.name)))
            rescue = storage.create_volume(pool, uuid + ".disk.rescue", request["image_size"], "qcow2",
                                           (base_path, "qcow2" if image["disk_format"] == "qcow2" else "raw"))
            disks = [{"path": rescue.path(), "format": "qcow2", "dev": "vda"}]
            devs = iter(("vdb", "vdc", "vdd", "vde", "vdf"))
            for suffix, fmt, readonly in ((".disk", "qcow2", False), (".disk.eph0", "qcow2", False),
                                          (".disk.swap", "qcow2", False), (".disk.config", "raw", True)):
                vol = storage.find_volume(pool, uuid + suffix)
                if vol is not None:
                    disks.append({"path": vol.path(), "format": fmt, "dev": next(devs), "readonly": readonly})
            record["rescue_image"] = image["name"]
            resources = dict(self._boot_files(request, pool), disks=disks,
                             nics=[{"network": p["network"], "mac": p["mac"]} for p in record.get("ports") or []])
            spec = self._domain_spec(request, record, pool, resources)
            guest.poweroff(dom)
            guest.create_transient(self.hv.conn, spec)
            if not guest.wait_for_state(dom, states.RUNNING, self.api.remaining("starting %s's rescue" % record["name"])):
                raise ComputeError("the rescue domain of %s did not reach RUNNING" % record["name"])
            return {"vm_state": states.RESCUED}, {"image": image["name"]}
        return self.run_action(record, ia.RESCUE, states.RESCUING, work, check)

    def unrescue_instance(self, record, check=None):
        """ComputeManager.unrescue_instance: unrescuing - the rescue domain powered off (its persistent
        definition, the server's, is what remains), the rescue disk removed, the server started; active."""
        def work(dom, record):
            guest.poweroff(dom)
            self._remove_rescue_disk(record)
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.UNRESCUE, states.UNRESCUING, work, check)

    def _remove_rescue_disk(self, record):
        vol = storage.find_volume(self.hv.pool(), record["uuid"] + ".disk.rescue")
        if vol is not None:
            storage.delete_volume(vol)
        record["rescue_image"] = None
