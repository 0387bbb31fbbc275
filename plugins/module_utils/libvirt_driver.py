# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt side: one hypervisor reached by a libvirt URI.

Everything a server needs on its host goes through the libvirt API, so a local
`qemu:///system` and a remote `qemu+ssh://` hypervisor are driven the same way:
volumes in a storage pool (base image cache, overlays, config drive, console log),
DHCP reservations on libvirt networks, and the domain with the instance record in
its metadata. XML is built with ElementTree, never by pasting strings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc

from ansible_collections.novalite.compute.plugins.module_utils import images
from ansible_collections.novalite.compute.plugins.module_utils import instance_record as records

DEFAULT_URI = "qemu:///system"
DEFAULT_POOL = "nova_instances"
DEFAULT_POOL_PATH = "/var/lib/novalite/instances"
BASE_SUFFIX = "_base"
# The claim, network and host-record locks are held for a second or so: a lock this
# old, not renewed, was left by a run that died.
LOCK_STALE_SECONDS = 30
# A holder that keeps a lock longer (an image upload) renews it every few seconds.
LOCK_RENEW_SECONDS = 5
CACHED_SUFFIX = ".done"
MIB = 1024 * 1024
GIB = 1024 * MIB


class DriverError(Exception):
    """A hypervisor operation failed; the message says which and why."""


def _quiet(_ctx, _err):
    return None


_CONNECT_LOCK = threading.Lock()
# sshd drops new connections beyond MaxStartups (10 by default) that have not logged in
# yet: this process opens at most this many SSH handshakes to one host at a time.
HANDSHAKES_PER_HOST = 8
_HANDSHAKES = {}
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
_EVENT_LOOP = []


def _start_event_loop():
    """libvirt's default event loop, run in a daemon thread: it drives the keepalive
    probes that close a connection whose host stopped answering (once per process)."""
    if _EVENT_LOOP:
        return
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    thread = threading.Thread(target=loop, name="libvirt-events")
    thread.daemon = True
    thread.start()
    _EVENT_LOOP.append(thread)


def connect(uri):
    """Open a libvirt connection; errors become DriverError naming the URI.

    Remote connections send keepalive probes: a host that stops answering (its SSH,
    its network) fails the calls waiting on it after about KEEPALIVE_INTERVAL *
    (KEEPALIVE_COUNT + 1) seconds instead of leaving them blocked.
    """
    if not HAS_LIBVIRT:
        raise DriverError("the libvirt Python binding (libvirt-python) is not installed: %s"
                          % LIBVIRT_IMPORT_ERROR)
    libvirt.registerErrorHandler(_quiet, None)
    parts = urlsplit(uri)
    with _CONNECT_LOCK:
        _start_event_loop()
        handshakes = _HANDSHAKES.setdefault(parts.hostname, threading.BoundedSemaphore(HANDSHAKES_PER_HOST))
    try:
        with handshakes:
            conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot connect to hypervisor %s: %s" % (uri, exc.get_error_message()))
    if "+" in parts.scheme:
        try:
            conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        except libvirt.libvirtError:
            pass  # a daemon without keepalive support: calls may then block on a dead host
    return conn


def _text(element, path, default=None):
    found = element.find(path)
    return found.text if found is not None and found.text is not None else default


def _xml(element):
    return ET.tostring(element, encoding="unicode")


# --------------------------------------------------------------------------- host
def find_pool(conn, name):
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return None
        raise


def virt_type(conn, requested="auto", pool_name=DEFAULT_POOL, record=None):
    """kvm or qemu for this host.

    `kvm` or `qemu` when the operator says so. `auto` answers kvm only when libvirt
    offers KVM *and* the host record (written by nova_compute_node: a probe guest was
    seen to boot under KVM, or the operator chose kvm there) says kvm; /dev/kvm
    opening is not enough: nested KVM often starts domains whose kernels then hang.
    """
    if requested in ("kvm", "qemu"):
        return requested
    try:
        conn.getDomainCapabilities(None, None, None, "kvm")
    except libvirt.libvirtError:
        return "qemu"
    record = host_record(conn, pool_name) if record is None else record
    return record.get("virt_type") if record.get("virt_type") in ("kvm", "qemu") else "qemu"


def host_record(conn, pool_name=DEFAULT_POOL):
    """Host-level settings kept on the hypervisor itself (a small volume), or {}."""
    pool = find_pool(conn, pool_name)
    if pool is None or not pool.isActive():
        return {}
    error = None
    for _attempt in range(20):
        try:
            vol = find_volume(pool, HOST_RECORD)
            if vol is None:
                return {}
            return json.loads(download_volume(conn, vol).decode("utf-8").strip() or "{}")
        except (libvirt.libvirtError, ValueError) as exc:
            # a writer is replacing it right now: read again
            error = exc
            time.sleep(0.05)
    raise DriverError("cannot read the host record %s in pool %s: %s" % (HOST_RECORD, pool_name, error))


def host_facts(conn, pool_name=DEFAULT_POOL, requested_virt_type="auto"):
    """What this hypervisor has and uses, as nova_host_facts reports it.

    memory_mb is libvirt's node memory (virNodeGetInfo), the source Nova's libvirt
    driver uses; *_used are allocations: the flavors of the instances on the host
    plus the size of any other running domain, not what the guests touch.
    """
    info = conn.getInfo()
    caps = ET.fromstring(conn.getCapabilities())
    host_rec = host_record(conn, pool_name)
    instances = []
    vcpus_used = 0
    memory_used = 0
    disk_used_gb = 0
    running = 0
    for dom in conn.listAllDomains():
        try:
            state, max_mem_kib, _mem, nr_vcpus, _cpu = dom.info()
            active = state == libvirt.VIR_DOMAIN_RUNNING or dom.isActive()
            record = read_record(dom)
            if record is not None:
                record["power_state"] = power_state(dom)
                record["domain"] = dom.name()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined between the listing and this look
            raise
        running += 1 if active else 0
        if record is None:
            if active:
                vcpus_used += nr_vcpus
                memory_used += max_mem_kib // 1024
            continue
        flavor = record.get("flavor") or {}
        vcpus_used += int(flavor.get("vcpus", nr_vcpus))
        memory_used += int(flavor.get("ram", max_mem_kib // 1024))
        disk_used_gb += int(flavor.get("disk", 0)) + int(flavor.get("ephemeral", 0))
        disk_used_gb += -(-int(flavor.get("swap", 0)) // 1024)
        instances.append(record)
    local_gb = 0
    pool = find_pool(conn, pool_name)
    pool_active = pool is not None and pool.isActive()
    if pool_active:
        local_gb = pool.info()[1] // GIB
    return {
        "hypervisor_hostname": conn.getHostname(),
        "hypervisor_type": conn.getType(),
        "hypervisor_version": conn.getVersion(),
        "libvirt_version": conn.getLibVersion(),
        "virt_type": virt_type(conn, requested_virt_type, pool_name, host_rec),
        "failed_builds": int(host_rec.get("failed_builds", 0)),
        "cpu_arch": _text(caps, "host/cpu/arch", info[0]),
        "vcpus": info[2],
        "vcpus_used": vcpus_used,
        "memory_mb": info[1],
        "memory_mb_used": memory_used,
        "local_gb": local_gb,
        "local_gb_used": disk_used_gb,
        "running_vms": running,
        "storage_pool": pool_name,
        "storage_pool_active": pool_active,
        "instances": sorted(instances, key=lambda r: r.get("name", "")),
    }


def power_state(dom):
    state = dom.state()[0]
    mapping = {
        libvirt.VIR_DOMAIN_NOSTATE: 0, libvirt.VIR_DOMAIN_RUNNING: 1,
        libvirt.VIR_DOMAIN_BLOCKED: 1, libvirt.VIR_DOMAIN_PAUSED: 3,
        libvirt.VIR_DOMAIN_SHUTDOWN: 4, libvirt.VIR_DOMAIN_SHUTOFF: 4,
        libvirt.VIR_DOMAIN_CRASHED: 6, libvirt.VIR_DOMAIN_PMSUSPENDED: 7,
    }
    return mapping.get(state, 0)


# ------------------------------------------------------------------- instance record
def read_record(dom):
    """The instance record in a domain's metadata, or None for a foreign domain."""
    try:
        xml = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, records.NAMESPACE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise
    return records.from_xml(xml)


def save_record(dom, record):
    """Write the record into the domain's persistent (and live) metadata."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    element = records.to_element(record)
    inner = ET.tostring(element, encoding="unicode", default_namespace=None)
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, _strip_namespace(inner),
                    records.PREFIX, records.NAMESPACE, flags)


def _strip_namespace(xml):
    """setMetadata wants the element without its own namespace declaration."""
    root = ET.fromstring(xml)
    for el in root.iter():
        if el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return ET.tostring(root, encoding="unicode")


def find_domain(conn, name):
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


# ------------------------------------------------------------------------- storage
def ensure_pool(conn, name=DEFAULT_POOL, path=DEFAULT_POOL_PATH):
    """A started, autostarted directory pool; created when missing.

    Runs racing to make the same pool all get it: a step another run took first
    (libvirt: pool already exists, already active) is not an error, and each run
    builds the directory before starting the pool (building a directory pool
    keeps a directory that exists), so none starts it before it has one."""
    pool = find_pool(conn, name)
    if pool is None:
        pool_el = ET.Element("pool", type="dir")
        ET.SubElement(pool_el, "name").text = name
        target = ET.SubElement(pool_el, "target")
        ET.SubElement(target, "path").text = path
        perms = ET.SubElement(target, "permissions")
        ET.SubElement(perms, "mode").text = "0700"
        try:
            pool = conn.storagePoolDefineXML(_xml(pool_el), 0)
        except libvirt.libvirtError as exc:
            pool = find_pool(conn, name)        # defined by another run meanwhile
            if pool is None:                    # no: libvirt refused it (say, another pool has the path)
                raise exc
        else:
            pool.setAutostart(1)
    if not pool.isActive():
        try:
            pool.build(0)
            pool.create(0)
        except libvirt.libvirtError:
            if not pool.isActive():     # else started by another run meanwhile
                raise
    return pool


def pool_path(pool):
    return _text(ET.fromstring(pool.XMLDesc(0)), "target/path")


def base_pool(conn, instance_pool):
    """Nova's `_base` image cache: a second pool under the instance pool's path."""
    return ensure_pool(conn, instance_pool.name() + BASE_SUFFIX,
                       os.path.join(pool_path(instance_pool), BASE_SUFFIX))


def find_volume(pool, name):
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise


def _volume_xml(name, capacity_bytes, fmt, backing=None, mode="0600"):
    vol = ET.Element("volume")
    ET.SubElement(vol, "name").text = name
    ET.SubElement(vol, "capacity", unit="bytes").text = str(int(capacity_bytes))
    ET.SubElement(vol, "allocation", unit="bytes").text = "0"
    target = ET.SubElement(vol, "target")
    ET.SubElement(target, "format", type=fmt)
    perms = ET.SubElement(target, "permissions")
    ET.SubElement(perms, "mode").text = mode
    if backing is not None:
        store = ET.SubElement(vol, "backingStore")
        ET.SubElement(store, "path").text = backing[0]
        ET.SubElement(store, "format", type=backing[1])
    return _xml(vol)


def create_volume(pool, name, capacity_bytes, fmt="qcow2", backing=None):
    """Create a volume (an empty disk, or a qcow2 overlay on `backing`=(path, format))."""
    try:
        return pool.createXML(_volume_xml(name, capacity_bytes, fmt, backing), 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot create volume %s in pool %s: %s"
                          % (name, pool.name(), exc.get_error_message()))


def upload_volume(conn, vol, data, progress=None):
    """Write bytes (or a readable file object) into a volume through a libvirt stream;
    `progress()` is called after each MiB sent."""
    stream = conn.newStream(0)
    try:
        vol.upload(stream, 0, 0, 0)
        if isinstance(data, (bytes, bytearray)):
            view = memoryview(data)
            for start in range(0, len(view), MIB):
                stream.send(bytes(view[start:start + MIB]))
        else:
            while True:
                chunk = data.read(MIB)
                if not chunk:
                    break
                stream.send(chunk)
                if progress is not None:
                    progress()
        stream.finish()
    except Exception:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise


def download_volume(conn, vol, limit=None):
    """The bytes of a volume (its first `limit` bytes), through a libvirt stream."""
    stream = conn.newStream(0)
    vol.download(stream, 0, limit or 0, 0)
    chunks = []

    def sink(_stream, data, _opaque):
        chunks.append(bytes(data))
        return len(data)

    stream.recvAll(sink, None)
    stream.finish()
    return b"".join(chunks)


def refresh_pool(pool):
    """Re-read the pool's directory, for files changed outside libvirt. libvirt refuses
    while an upload or a volume build runs in the pool ("has asynchronous jobs running"):
    then its own list, which holds every volume made through it, is used as it is."""
    try:
        pool.refresh(0)
    except libvirt.libvirtError as exc:
        if "asynchronous jobs" not in (exc.get_error_message() or ""):
            raise


def delete_volume(vol):
    try:
        vol.delete(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise


class HostLock:
    """A lock on one hypervisor: a volume whose creation only one caller can win.

    libvirt refuses to create a volume whose name exists, atomically in the daemon,
    so whoever creates `.<name>.lock` holds the lock until it deletes it. A holder
    that died leaves its lock behind; once the lock is older than `stale_after`
    seconds (its file time on the hypervisor against this controller's clock:
    hosts and controllers are expected to keep time) it is broken. Breaking is itself
    won by one caller only: the breaker must first create `.<name>.lock.<stamp>`,
    named after the stale lock's own timestamp, so two callers that both saw the
    same stale lock can never both delete it (the second would delete the
    winner's fresh lock).
    """

    def __init__(self, pool, name, timeout=60.0, stale_after=LOCK_STALE_SECONDS):
        self.pool = pool
        self.name = ".%s.lock" % name
        self.timeout = timeout
        self.stale_after = stale_after
        self.vol = None
        self.stamp = None
        self._renewed = time.monotonic()

    def __enter__(self):
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                self.vol = self.pool.createXML(_volume_xml(self.name, 0, "raw"), 0)
                self._renewed = time.monotonic()
                self.stamp = _mtime(self.vol)
                return self
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_STORAGE_VOL_EXIST:
                    raise DriverError("cannot take lock %s: %s" % (self.name, exc.get_error_message()))
            self._break_if_stale()
            if time.monotonic() > deadline:
                raise DriverError("timed out after %ss waiting for lock %s on pool %s"
                                  % (self.timeout, self.name, self.pool.name()))
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _break_if_stale(self):
        _break_stale_volume(self.pool, self.name, self.stale_after)

    def renew(self):
        """Tell waiters the holder is alive: a byte written moves the lock's mtime."""
        self._renewed = time.monotonic()
        upload_volume(self.pool.connect(), self.vol, b"\0")

    def renew_now_and_then(self):
        """renew(), at most once per LOCK_RENEW_SECONDS: for loops that hold the lock long."""
        if time.monotonic() - self._renewed >= LOCK_RENEW_SECONDS:
            self.renew()

    def __exit__(self, *exc_info):
        if self.vol is not None:
            vol, self.vol = self.vol, None
            try:
                delete_volume(vol)
            except libvirt.libvirtError:
                # the connection died (libvirtd restarted): release_lost_locks() after reconnecting
                LOST_LOCKS.append((self.pool.name(), self.name, self.stamp))
                raise
        return False


LOST_LOCKS = []


def release_lost_locks(conn):
    """Delete the locks this process held when a connection died, if still ours (same pool
    name, lock name and nanosecond mtime); the others stay listed for their own host."""
    for entry in list(LOST_LOCKS):
        pool_name, name, stamp = entry
        pool = find_pool(conn, pool_name)
        if pool is not None and pool.isActive() and _volume_mtime(pool, name) == stamp:
            delete_volume(find_volume(pool, name))
            LOST_LOCKS.remove(entry)


def _break_stale_volume(pool, name, stale_after, depth=0):
    """Delete the lock volume `name` if it is stale, as the one caller that won the
    marker `<name>.<its mtime>`. The marker serialises the look and the delete: a
    second breaker of the same stale lock finds the lock replaced and leaves it.
    A marker left by a breaker that died is stale in turn and broken the same way."""
    stamp = _volume_mtime(pool, name)
    if stamp is None or time.time() - float(stamp) <= stale_after:
        return
    marker_name = "%s.%s" % (name, stamp.replace(".", "-"))
    try:
        marker = pool.createXML(_volume_xml(marker_name, 0, "raw"), 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_STORAGE_VOL_EXIST:
            raise
        if depth < 2:
            _break_stale_volume(pool, marker_name, stale_after, depth + 1)
        return
    try:
        if _volume_mtime(pool, name) == stamp:
            vol = find_volume(pool, name)
            if vol is not None:
                delete_volume(vol)
    finally:
        delete_volume(marker)


def _mtime(vol):
    return _text(ET.fromstring(vol.XMLDesc(0)), "target/timestamps/mtime")


def _volume_mtime(pool, name):
    """A volume's modification time as the hypervisor's file system gives it (text,
    nanosecond precision), or None when there is no such volume."""
    try:
        vol = find_volume(pool, name)
        if vol is None:
            return None
        return _mtime(vol)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None  # released between the look-up and the read
        raise


def cache_image(conn, instance_pool, path, fmt, checksum=None, timeout=600):
    """The base image in the host's `_base` cache, uploaded once per host.

    Volumes are named by the image's sha256, so a changed file is a new base and an
    unchanged one is never copied twice. `<sha256>.done` is created after the upload
    completes: a base without it was left half-written by an uploader that died and
    is uploaded again. Returns (volume path, copied: bool).
    """
    checksum = checksum or images.sha256_of(path)
    cache = base_pool(conn, instance_pool)
    name = checksum
    with HostLock(cache, name, timeout=timeout) as lock:
        vol = find_volume(cache, name)
        if vol is not None and find_volume(cache, name + CACHED_SUFFIX) is not None:
            return vol.path(), False
        if vol is not None:
            delete_volume(vol)
        size = os.path.getsize(path)
        vol = create_volume(cache, name, size, "raw", None)
        try:
            with open(path, "rb") as handle:
                upload_volume(conn, vol, handle, progress=lock.renew_now_and_then)
            create_volume(cache, name + CACHED_SUFFIX, 0, "raw")
        except Exception:
            delete_volume(vol)
            raise
        refresh_pool(cache)
        return vol.path(), True


def half_written_bases(conn, instance_pool_name, now=None, locked_too=False):
    """Base images an uploader left unfinished (no .done) and no live upload holds
    (with locked_too, also those whose cache lock is not stale yet)."""
    now = time.time() if now is None else now
    cache = find_pool(conn, instance_pool_name + BASE_SUFFIX)
    if cache is None or not cache.isActive():
        return []
    refresh_pool(cache)
    names = set(cache.listVolumes())
    found = []
    for name in sorted(names):
        if name.startswith(".") or name.endswith(CACHED_SUFFIX) or name + CACHED_SUFFIX in names:
            continue
        stamp = _volume_mtime(cache, ".%s.lock" % name)
        if locked_too or stamp is None or now - float(stamp) > LOCK_STALE_SECONDS:
            found.append(name)
    return found


def remove_half_written_base(conn, instance_pool_name, name):
    """Delete one of half_written_bases(), under its cache lock so no upload is cut short
    (a lock its uploader left when its connection died is broken once stale)."""
    cache = find_pool(conn, instance_pool_name + BASE_SUFFIX)
    if cache is None:
        return
    with HostLock(cache, name, timeout=LOCK_STALE_SECONDS * 2):
        vol = find_volume(cache, name)
        if vol is not None and find_volume(cache, name + CACHED_SUFFIX) is None:
            delete_volume(vol)


def is_cached(conn, instance_pool, checksum):
    """Whether the _base cache of this pool holds the whole image with this sha256."""
    cache = find_pool(conn, instance_pool.name() + BASE_SUFFIX)
    return (cache is not None and cache.isActive() and find_volume(cache, checksum) is not None
            and find_volume(cache, checksum + CACHED_SUFFIX) is not None)


def volume_virtual_size(vol):
    """Capacity of a volume as libvirt reads it (qcow2 virtual size for qcow2)."""
    return vol.info()[1]


# ------------------------------------------------------------------------ networks
def find_network(conn, name):
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            return None
        raise


def ensure_network(conn, name, cidr, bridge=None, dhcp=True):
    """An isolated libvirt network (no forward) with DHCP; defined when missing."""
    net = find_network(conn, name)
    defined = False
    if net is None:
        network = ipaddress.IPv4Network(cidr, strict=False)
        # first and last usable addresses, without listing the hosts of a large subnet
        first = network.network_address + 1
        last = network.broadcast_address - 1
        root = ET.Element("network")
        ET.SubElement(root, "name").text = name
        if bridge:
            ET.SubElement(root, "bridge", name=bridge, stp="off")
        ip = ET.SubElement(root, "ip", address=str(first), netmask=str(network.netmask))
        if dhcp:
            dhcp_el = ET.SubElement(ip, "dhcp")
            ET.SubElement(dhcp_el, "range", start=str(first + 1), end=str(last))
        net = conn.networkDefineXML(_xml(root))
        defined = True
    try:
        if not net.isActive():
            net.create()
        if defined:
            net.setAutostart(1)
    except libvirt.libvirtError as exc:
        if defined:  # a network that cannot start (its subnet is in use...) is not left behind
            net.undefine()
        raise DriverError("cannot start network %s: %s" % (name, exc.get_error_message()))
    return net


def network_dhcp(net):
    """(range start, range end, {mac: (ip, name)}) of a network's first IPv4 DHCP."""
    root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    for ip in root.findall("ip"):
        if ip.get("family", "ipv4") != "ipv4":
            continue
        dhcp = ip.find("dhcp")
        if dhcp is None or dhcp.find("range") is None:
            continue
        rng = dhcp.find("range")
        hosts = {}
        for host in dhcp.findall("host"):
            if host.get("mac"):
                hosts[host.get("mac").lower()] = (host.get("ip"), host.get("name"))
        return rng.get("start"), rng.get("end"), hosts
    return None


_DHCP_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


def generate_mac():
    """Nova's fa:16:3e OUI followed by three random octets."""
    tail = os.urandom(3)
    return "fa:16:3e:%02x:%02x:%02x" % (tail[0], tail[1], tail[2])


def reserve_fixed_ip(conn, pool, net, mac, hostname, requested=None):
    """A DHCP host entry for `mac` on `net` (at `requested`, or the first free
    address of the DHCP range); returns the address.

    Runs under the host's network lock so two builds never take one address.
    """
    with HostLock(pool, "net-" + net.name()):
        dhcp = network_dhcp(net)
        if dhcp is None:
            return None
        start, end, hosts = dhcp
        if mac in hosts:
            return hosts[mac][0]
        taken = set(ip for ip, _name in hosts.values())
        for lease in _leases(net):
            taken.add(lease.get("ipaddr"))
        first = int(ipaddress.ip_address(start))
        last = int(ipaddress.ip_address(end))
        address = None
        if requested is not None:
            if requested in taken:
                raise DriverError("address %s on network %s is already in use" % (requested, net.name()))
            address = requested
        for candidate in range(first, last + 1):
            if address is not None:
                break
            text = str(ipaddress.ip_address(candidate))
            if text not in taken:
                address = text
        if address is None:
            raise DriverError("network %s has no free address left in %s-%s" % (net.name(), start, end))
        host = ET.Element("host", mac=mac, ip=address)
        if hostname and _DHCP_HOSTNAME.match(hostname):
            host.set("name", hostname)
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                   libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, _xml(host), flags)
        return address


def network_subnet(net):
    """The IPv4 subnet of a network's first IPv4 <ip>, or None."""
    root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    for ip in root.findall("ip"):
        if ip.get("family", "ipv4") != "ipv4" or not ip.get("address"):
            continue
        mask = ip.get("netmask") or ip.get("prefix") or "24"
        return ipaddress.IPv4Interface("%s/%s" % (ip.get("address"), mask))
    return None


def fixed_ip_problem(net, address):
    """Why `address` cannot be reserved on `net` (outside its subnet, its own address, taken,
    no DHCP), or None. The reservation itself re-checks under the network lock."""
    if net is None:
        return "the network is gone"
    subnet = network_subnet(net)
    dhcp = network_dhcp(net)
    if subnet is None or dhcp is None:
        return "network %s has no IPv4 DHCP to reserve %s in" % (net.name(), address)
    ip = ipaddress.IPv4Address(address)
    if ip not in subnet.network:
        return "%s is outside network %s (%s)" % (address, net.name(), subnet.network)
    if ip in (subnet.network.network_address, subnet.network.broadcast_address, subnet.ip):
        return "%s is the network, broadcast or host address of network %s" % (address, net.name())
    taken = set(entry[0] for entry in dhcp[2].values())
    taken.update(lease.get("ipaddr") for lease in _leases(net))
    if address in taken:
        return "%s is already in use on network %s" % (address, net.name())
    return None


def release_fixed_ip(pool, net, mac):
    """Remove the DHCP host entry of `mac`; True when there was one."""
    with HostLock(pool, "net-" + net.name()):
        dhcp = network_dhcp(net)
        if dhcp is None or mac.lower() not in dhcp[2]:
            return False
        ip, name = dhcp[2][mac.lower()]
        host = ET.Element("host", mac=mac, ip=ip)
        if name:
            host.set("name", name)
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                   libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, _xml(host), flags)
        return True


def _leases(net):
    try:
        return net.DHCPLeases() or []
    except libvirt.libvirtError:
        return []


def lease_for(net, mac):
    for lease in _leases(net):
        if (lease.get("mac") or "").lower() == mac.lower():
            return lease.get("ipaddr")
    return None


# ------------------------------------------------------------------------- domains
def domain_xml(spec):
    """Domain XML for a server.

    spec: name, uuid, virt_type, arch, machine, vcpus, memory_mb, kernel, initrd,
    cmdline, disks [(path, fmt, dev, readonly)], nics [(network, mac)], console_log,
    record (the instance record for <metadata>), title.
    """
    ET.register_namespace(records.PREFIX, records.NAMESPACE)
    dom = ET.Element("domain", type=spec["virt_type"])
    ET.SubElement(dom, "name").text = spec["name"]
    ET.SubElement(dom, "uuid").text = spec["uuid"]
    ET.SubElement(dom, "title").text = spec.get("title") or spec["name"]
    meta = ET.SubElement(dom, "metadata")
    meta.append(records.to_element(spec["record"]))
    ET.SubElement(dom, "memory", unit="MiB").text = str(int(spec["memory_mb"]))
    ET.SubElement(dom, "vcpu", placement="static").text = str(int(spec["vcpus"]))
    sysinfo = ET.SubElement(dom, "sysinfo", type="smbios")
    system = ET.SubElement(sysinfo, "system")
    for key, value in (("manufacturer", "novalite"), ("product", "OpenStack Nova"),
                       ("serial", spec["uuid"]), ("uuid", spec["uuid"]),
                       ("family", "Virtual Machine")):
        ET.SubElement(system, "entry", name=key).text = value
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch=spec.get("arch", "x86_64"),
                  machine=spec.get("machine", "pc")).text = "hvm"
    if spec.get("kernel"):
        ET.SubElement(os_el, "kernel").text = spec["kernel"]
        if spec.get("initrd"):
            ET.SubElement(os_el, "initrd").text = spec["initrd"]
        ET.SubElement(os_el, "cmdline").text = spec.get("cmdline") or "console=ttyS0"
    else:
        ET.SubElement(os_el, "boot", dev="hd")
    ET.SubElement(os_el, "smbios", mode="sysinfo")
    features = ET.SubElement(dom, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    ET.SubElement(dom, "clock", offset="utc")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    for disk in spec.get("disks", []):
        disk_el = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(disk_el, "driver", name="qemu", type=disk["format"])
        ET.SubElement(disk_el, "source", file=disk["path"])
        ET.SubElement(disk_el, "target", dev=disk["dev"], bus="virtio")
        if disk.get("readonly"):
            ET.SubElement(disk_el, "readonly")
    for nic in spec.get("nics", []):
        iface = ET.SubElement(devices, "interface", type="network")
        ET.SubElement(iface, "mac", address=nic["mac"])
        ET.SubElement(iface, "source", network=nic["network"])
        ET.SubElement(iface, "model", type="virtio")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=spec["console_log"], append="on")
    ET.SubElement(serial, "target", port="0")
    console = ET.SubElement(devices, "console", type="file")
    ET.SubElement(console, "source", path=spec["console_log"], append="on")
    ET.SubElement(console, "target", type="serial", port="0")
    ET.SubElement(devices, "memballoon", model="virtio")
    return _xml(dom)


def define_domain(conn, xml):
    try:
        return conn.defineXML(xml)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot define domain: %s" % exc.get_error_message())


def start_domain(dom, paused=False):
    """Power on; `paused`: QEMU runs but the guest's CPUs wait for resume_domain."""
    try:
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)
    except libvirt.libvirtError as exc:
        raise DriverError("cannot start domain %s: %s" % (dom.name(), exc.get_error_message()))


def resume_domain(dom):
    try:
        dom.resume()
    except libvirt.libvirtError as exc:
        raise DriverError("cannot resume domain %s: %s" % (dom.name(), exc.get_error_message()))


def wait_for_state(dom, wanted, timeout):
    """Poll the domain until its power state is `wanted`; True if it got there."""
    deadline = time.monotonic() + timeout
    while True:
        if power_state(dom) == wanted:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def destroy_domain(dom):
    """Power off (if running) and undefine, with its NVRAM and snapshots metadata."""
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID):
            raise
    flags = (libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
             | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise


def instance_volumes(pool, instance_uuid):
    """Volumes of one instance: every volume named `<uuid>.*` in the instance pool."""
    refresh_pool(pool)
    prefix = instance_uuid + "."
    return [vol for vol in pool.listAllVolumes(0) if vol.name().startswith(prefix)]


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
        if not records.is_complete(record) and not records.build_in_progress(record, now):
            orphans.append({"type": "domain", "name": dom.name(), "uuid": record.get("uuid"),
                            "vm_state": record.get("vm_state"), "task_state": record.get("task_state")})
    for lock_pool, vol in locks:
        stamp = _mtime(vol)
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
            _break_stale_volume(lock_pool, orphan["name"], LOCK_STALE_SECONDS)
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


def new_uuid():
    return str(uuidlib.uuid4())


# ------------------------------------------------------------------ host record
HOST_RECORD = ".novalite-host.json"


HOST_RECORD_SIZE = 4096


def write_host_record(conn, pool, record):
    """Write `record` (a dict, as JSON padded to a fixed size) into the host record volume,
    in place, so that readers never find it missing."""
    data = json.dumps(record, sort_keys=True).encode("utf-8")
    if len(data) > HOST_RECORD_SIZE:
        raise DriverError("host record too large (%d bytes)" % len(data))
    vol = find_volume(pool, HOST_RECORD)
    if vol is not None and vol.info()[1] != HOST_RECORD_SIZE:
        delete_volume(vol)
        vol = None
    if vol is None:
        vol = create_volume(pool, HOST_RECORD, HOST_RECORD_SIZE, "raw")
    upload_volume(conn, vol, data.ljust(HOST_RECORD_SIZE))


def update_host_record(conn, pool, **changes):
    """Change some fields of the host record, under the host's record lock."""
    with HostLock(pool, "host-record"):
        record = host_record(conn, pool.name())
        record.update(changes)
        write_host_record(conn, pool, record)
        return record


def probe_kvm_boot(conn, kernel, initrd, marker, timeout, console_dir):
    """Boot a transient KVM guest and wait for `marker` on its serial console.

    True when the marker appears within `timeout` seconds: KVM really boots guests
    here, not merely starts domains.
    """
    name = "novalite-kvm-probe-%s" % uuidlib.uuid4().hex[:8]
    log = os.path.join(console_dir, name + ".log")
    spec = {"name": name, "uuid": new_uuid(), "virt_type": "kvm", "vcpus": 1, "memory_mb": 128,
            "kernel": kernel, "initrd": initrd, "cmdline": "console=ttyS0 panic=-1",
            "console_log": log, "record": {"name": name}}
    xml = domain_xml(spec)
    try:
        dom = conn.createXML(xml, 0)
    except libvirt.libvirtError:
        return False
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(log, "rb") as handle:
                    if marker.encode("utf-8") in handle.read():
                        return True
            except IOError:
                pass
            time.sleep(0.25)
        return False
    finally:
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
        if os.path.exists(log):
            os.unlink(log)
