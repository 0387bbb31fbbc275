"""Fixtures for tests against the real local libvirtd: a private pool and network per test,
and the tiny guest image. Everything a test creates is removed when it ends, also on failure."""

import fcntl
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest

# Runs killed on purpose leave leases the next run outwaits: a shorter one than the default 60 s keeps
# the suite's waits short (every ansible-playbook the tests start inherits it; renewed every 5 s).
os.environ.setdefault("NOVALITE_LEASE_SECONDS", "20")

from helpers import REPO
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import replica  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage  # noqa: E402

IMAGES = os.path.join(REPO, "build", "images")


@pytest.fixture(scope="session")
def conn():
    subprocess.run([os.path.join(REPO, "scripts", "start-libvirtd.sh")], check=True)
    conn = connection.connect("qemu:///system")
    with open(SESSIONS_LOCK, "a") as lock:
        # Sweep only when no other test session runs on this machine: each holds the lock shared.
        if _try_lock(lock, fcntl.LOCK_EX):
            sweep(conn)
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield conn
        if _try_lock(lock, fcntl.LOCK_EX):
            sweep(conn)
    conn.close()


SESSIONS_LOCK = "/run/novalite-test-sessions.lock"


def _try_lock(handle, mode):
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def sweep(connection):
    """Remove what an earlier, killed test run left behind (everything named nlt*)."""
    tags = set()
    for dom in connection.listAllDomains():
        if dom.name().startswith("nlt-"):
            tags.add(dom.name().split("-")[1])
    for pool in connection.listAllStoragePools():
        if pool.name().startswith("nlt_"):
            tags.add(pool.name().split("_")[1])
    for net in connection.listAllNetworks():
        if net.name().startswith("nlt-"):
            tags.add(net.name().split("-")[1])
    for tag in tags:
        LocalHypervisor(connection, tag, 0).teardown()


@pytest.fixture(scope="session")
def tiny_image():
    subprocess.run([os.path.join(REPO, "scripts", "build-tiny-image.sh"), IMAGES], check=True)
    return {
        "kernel": os.path.join(IMAGES, "tiny-vmlinuz"),
        "initrd": os.path.join(IMAGES, "tiny-initrd.img"),
        "root": os.path.join(IMAGES, "tiny-root.qcow2"),
    }


def catalog(tiny_image):
    """The flavors and images catalogs the tests and the demo use."""
    return {
        "flavors": [
            {"name": "m1.tiny", "vcpus": 1, "ram": 192, "disk": 1},
            {"name": "m1.small", "vcpus": 1, "ram": 256, "disk": 1, "ephemeral": 1, "swap": 64},
            {"name": "m1.huge", "vcpus": 64, "ram": 1048576, "disk": 1},
        ],
        "images": [
            {"name": "tiny-kernel", "file": tiny_image["kernel"], "disk_format": "aki"},
            {"name": "tiny-ramdisk", "file": tiny_image["initrd"], "disk_format": "ari"},
            {"name": "tiny", "file": tiny_image["root"], "disk_format": "qcow2",
             "kernel_id": "tiny-kernel", "ramdisk_id": "tiny-ramdisk",
             "os_command_line": "console=ttyS0 quiet panic=-1",
             "properties": {"architecture": "x86_64", "hypervisor_type": "qemu"}},
        ],
        "keypairs": {"ops": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2novalitetestkeyonly ops@test"},
    }


def remove_servers(conn, prefix, pool_name, network):
    """Remove the servers named prefix* from one host: domain, volumes, DHCP reservations."""
    pool = storage.find_pool(conn, pool_name)
    net = libvirt_network.find_network(conn, network)
    for dom in conn.listAllDomains():
        if not dom.name().startswith(prefix):
            continue
        record = instance_record.read_record(dom) or {}
        guest.destroy_domain(dom)
        for vol in storage.instance_volumes(pool, dom.UUIDString()):
            storage.delete_volume(vol)
        for port in record.get("ports") or []:
            if net is not None:
                libvirt_network.release_fixed_ip(pool, net, port["mac"])
    if pool is not None:    # the replicas this host keeps of servers named prefix* (on other hosts)
        for document in replica.read_all(conn, pool):
            if (document["record"].get("name") or "").startswith(prefix):
                replica.remove(pool, document["record"]["uuid"])


class LocalHypervisor:
    """A private storage pool and isolated network on the local libvirtd."""

    def __init__(self, conn, tag, subnet_octet):
        self.conn = conn
        self.tag = tag
        self.pool_name = "nlt_" + tag
        self.pool_path = "/var/lib/novalite/test-" + tag
        self.network = "nlt-" + tag
        self.bridge = "nlt" + tag[:8]
        self.cidr = "10.213.%d.0/24" % subnet_octet
        self.prefix = "nlt-%s-" % tag

    def config(self, **extra):
        cfg = {"name": "local", "uri": "qemu:///system", "virt_type": "qemu",
               "storage_pool": self.pool_name, "storage_path": self.pool_path}
        cfg.update(extra)
        return cfg

    def setup(self):
        libvirt_network.ensure_network(self.conn, self.network, self.cidr, bridge=self.bridge)

    def pool(self):
        return self.conn.storagePoolLookupByName(self.pool_name)

    def leftovers(self):
        """Domains, volumes and DHCP reservations of this test still on the host."""
        left = []
        for dom in self.conn.listAllDomains():
            if dom.name().startswith(self.prefix):
                left.append("domain " + dom.name())
        for name in (self.pool_name, self.pool_name + storage.BASE_SUFFIX):
            try:
                pool = self.conn.storagePoolLookupByName(name)
            except libvirt.libvirtError:
                continue
            pool.refresh(0)
            for vol in pool.listAllVolumes(0):
                if name == self.pool_name and vol.name() not in (storage.BASE_SUFFIX, libvirt_host.HOST_RECORD):
                    left.append("volume " + vol.name())
        net = libvirt_network.find_network(self.conn, self.network)
        if net is not None:
            dhcp = libvirt_network.network_dhcp(net)
            for mac, (ip, _name) in (dhcp[2] if dhcp else {}).items():
                left.append("dhcp host %s %s" % (mac, ip))
        return left

    def teardown(self):
        for dom in self.conn.listAllDomains():
            if dom.name().startswith(self.prefix):
                guest.destroy_domain(dom)
        for name in (self.pool_name + storage.BASE_SUFFIX, self.pool_name):
            try:
                pool = self.conn.storagePoolLookupByName(name)
            except libvirt.libvirtError:
                continue
            if pool.isActive():
                pool.refresh(0)
                for vol in pool.listAllVolumes(0):
                    storage.delete_volume(vol)
                pool.destroy()
            try:
                pool.delete(0)
            except libvirt.libvirtError:
                pass
            pool.undefine()
        for path in (self.pool_path + "/" + storage.BASE_SUFFIX, self.pool_path):
            if os.path.isdir(path):
                os.rmdir(path)
        # the test's network, and any other it made named with its prefix (nlt-TAG-...)
        for net in self.conn.listAllNetworks():
            if net.name() == self.network or net.name().startswith(self.prefix):
                if net.isActive():
                    net.destroy()
                net.undefine()


def remove_pool(connection, name):
    """Delete a storage pool with its volumes, its directory and its _base cache pool."""
    for pool_name in (name + storage.BASE_SUFFIX, name):
        pool = storage.find_pool(connection, pool_name)
        if pool is None:
            continue
        path = storage.pool_path(pool)
        if pool.isActive():
            pool.refresh(0)
            for vol in pool.listAllVolumes(0):
                if vol.name() != storage.BASE_SUFFIX:
                    storage.delete_volume(vol)
            pool.destroy()
        pool.undefine()
        if os.path.isdir(path):
            os.rmdir(path)


@pytest.fixture
def default_pool_cleanup(conn):
    """For tests that use the default instance pool (the demo): if it was not there before,
    it is removed afterwards, with its image cache."""
    existed = storage.find_pool(conn, storage.DEFAULT_POOL) is not None
    yield
    if not existed:
        remove_pool(conn, storage.DEFAULT_POOL)


def free_octet(connection):
    """A 10.213.N.0/24 subnet no libvirt network uses."""
    used = set()
    for net in connection.listAllNetworks():
        for ip in ET.fromstring(net.XMLDesc(0)).findall("ip"):
            address = ip.get("address", "")
            if address.startswith("10.213."):
                used.add(int(address.split(".")[2]))
    return min(set(range(100, 250)) - used)


@pytest.fixture
def local_hv(conn):
    hv = LocalHypervisor(conn, uuid.uuid4().hex[:10], free_octet(conn))
    try:
        hv.setup()
        yield hv
    finally:
        hv.teardown()


# --------------------------------------------------------------------------- test bed
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
from testbed import TestBed   # noqa: E402  pylint: disable=wrong-import-position

BED_NETWORK = {"name": "private", "cidr": "10.213.7.0/24", "bridge": "nlpriv0"}


class Bed:
    """The running test bed, prepared by the nova_compute role, and how to reach it."""

    def __init__(self, testbed):
        self.testbed = testbed
        self.hosts = testbed.hosts
        self.inventory = testbed.inventory_path

    def hypervisors(self, **per_host):
        """hypervisors for nova_server: per_host maps a host index (1-based) to overrides."""
        result = []
        for index, host in enumerate(self.hosts, 1):
            hv = {"name": host["name"], "uri": host["uri"], "virt_type": "qemu"}
            hv.update(per_host.get("h%d" % index, {}))
            result.append(hv)
        return result

    def conn(self, index):
        return connection.connect(self.hosts[index - 1]["uri"])

    def domains(self, prefix):
        """{host name: [domain names starting with prefix]} over the bed."""
        found = {}
        for index, host in enumerate(self.hosts, 1):
            conn = self.conn(index)
            try:
                found[host["name"]] = sorted(d.name() for d in conn.listAllDomains() if d.name().startswith(prefix))
            finally:
                conn.close()
        return found

    def leftovers(self, prefix):
        """Domains, instance volumes and DHCP reservations of servers named prefix* on any host."""
        left = []
        for index, host in enumerate(self.hosts, 1):
            conn = self.conn(index)
            try:
                for dom in conn.listAllDomains():
                    if dom.name().startswith(prefix):
                        left.append("%s: domain %s" % (host["name"], dom.name()))
                pool = storage.find_pool(conn, "nova_instances")
                if pool is not None:
                    pool.refresh(0)
                    live = set(d.UUIDString() for d in conn.listAllDomains())
                    left += ["%s: orphan volume %s" % (host["name"], vol.name()) for vol in pool.listAllVolumes(0)
                             if vol.name()[:1] not in "._" and vol.name().split(".")[0] not in live]
                net = libvirt_network.find_network(conn, BED_NETWORK["name"])
                dhcp = libvirt_network.network_dhcp(net) if net is not None else None
                for mac, (ip, name) in (dhcp[2] if dhcp else {}).items():
                    if (name or "").startswith(prefix):
                        left.append("%s: dhcp %s %s" % (host["name"], mac, ip))
            finally:
                conn.close()
        return left

    def wipe(self, prefix):
        """Remove every server named prefix* from the bed, and set the hosts' failed_builds
        back to 0 (a test that fails builds, on purpose or by losing a race, must not steer
        the next test's placements through the BuildFailureWeigher)."""
        for index in range(1, len(self.hosts) + 1):
            try:
                conn = self.conn(index)
            except connection.DriverError:
                continue  # a host a test stopped; the bed's tear-down removes it whole
            try:
                remove_servers(conn, prefix, "nova_instances", BED_NETWORK["name"])
                libvirt_host.update_host_record(conn, storage.find_pool(conn, "nova_instances"), failed_builds=0)
            finally:
                conn.close()


@pytest.fixture(scope="session")
def bed(tiny_image):
    """Three nspawn hosts, prepared by the nova_compute role through prepare_compute.yml.
    NOVALITE_TEST_BED names the bed (default nltest), so two sessions can run side by side."""
    from helpers import run_playbook_file
    testbed = TestBed(os.environ.get("NOVALITE_TEST_BED", "nltest"), 3)
    try:
        testbed.up()
        run = run_playbook_file(os.path.join(REPO, "playbooks", "prepare_compute.yml"),
                                {"nova_compute_networks": [BED_NETWORK]}, inventory_path=testbed.inventory_path)
        assert run.rc == 0, run.stderr[-3000:]
        yield Bed(testbed)
    finally:
        testbed.down()
        assert testbed.leftovers() == []


@pytest.fixture
def prefix(bed, request):
    """A server-name prefix for one test; its servers are gone when the test ends."""
    name = "t%s-" % uuid.uuid4().hex[:6]
    yield name
    bed.wipe(name)
