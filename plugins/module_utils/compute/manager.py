# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.compute.manager for one instance on one hypervisor: the build after the claim
(networking, block devices, spawn), its clean-up, delete. Its other parts: the server actions
(server_actions.ServerActions: stop, start, reboot, pause, unpause, suspend, resume, lock, the
console, init_instance for a task whose run died) and rebuild and rescue (rebuild.RebuildRescue)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import claims
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.rebuild import RebuildRescue
from ansible_collections.novalite.compute.plugins.module_utils.compute.server_actions import ServerActions
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import Background, utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import RescheduledException, TaskTimeout
from ansible_collections.novalite.compute.plugins.module_utils.network import ipam
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


class ComputeManager(ServerActions, RebuildRescue):
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
