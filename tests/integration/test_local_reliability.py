"""Reliability on the real local libvirtd: stale locks broken by exactly one caller, the orphan
report and its purge, and a run killed mid-build that the next run completes."""

import multiprocessing
import os
import tempfile
import threading
import time
import uuid

import pytest

from conftest import LocalHypervisor, catalog, remove_pool
from helpers import SERVER_PLAY, kill_playbook, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import orphans
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

HOST_FACTS_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      novalite.compute.nova_host_facts:
        hypervisors: "{{ hypervisors }}"
"""


def _age(pool, name, seconds):
    """Make the volume `name` look `seconds` old (its file's times on the hypervisor)."""
    path = storage.find_volume(pool, name).path()
    past = time.time() - seconds
    os.utime(path, (past, past))
    pool.refresh(0)


def _hold_lock(pool_name, log_path, start_at):
    conn = connection.connect("qemu:///system")
    pool = conn.storagePoolLookupByName(pool_name)
    time.sleep(max(0.0, start_at - time.time()))
    with locks.HostLock(pool, "race", timeout=60):
        with open(log_path, "a") as log:
            log.write("enter %d\n" % os.getpid())
        time.sleep(0.15)
        with open(log_path, "a") as log:
            log.write("leave %d\n" % os.getpid())
    conn.close()


def _holders_overlap(lines):
    inside = 0
    for line in lines:
        inside += 1 if line.startswith("enter") else -1
        if inside > 1:
            return True
    return False


def _make_pool(name, path, start_at, results):
    conn = connection.connect("qemu:///system")
    time.sleep(max(0.0, start_at - time.time()))
    try:
        results.put(("active" if storage.ensure_pool(conn, name, path).isActive() else "inactive", None))
    except Exception as exc:  # pylint: disable=broad-except
        results.put(("error", str(exc)))
    conn.close()


@pytest.mark.parametrize("round_no", range(3))
def test_racing_runs_all_get_the_pool_they_make(conn, round_no):
    """Six processes make the same missing pool at the same instant (racing nova_server runs
    on a new host): each gets it started, none fails on a step another took first."""
    racers = 6
    made = LocalHypervisor(conn, "p%s" % uuid.uuid4().hex[:9], 0)
    results = multiprocessing.Queue()
    start_at = time.time() + 1.0
    procs = [multiprocessing.Process(target=_make_pool, args=(made.pool_name, made.pool_path, start_at, results))
             for dummy in range(racers)]
    try:
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for dummy in range(racers)]
        for proc in procs:
            proc.join(30)
        assert outcomes == [("active", None)] * racers, (round_no, outcomes)
        pool = conn.storagePoolLookupByName(made.pool_name)
        assert pool.isActive() and pool.autostart() and os.path.isdir(made.pool_path)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        made.teardown()
    assert storage.find_pool(conn, made.pool_name) is None and not os.path.exists(made.pool_path)


def test_pool_libvirt_refuses_fails_with_libvirts_reason(conn):
    """A pool libvirt will not define (its directory is another pool's) fails with libvirt's
    reason, which names that pool, not with 'pool not found' from the lookup after it."""
    holder = LocalHypervisor(conn, "p%s" % uuid.uuid4().hex[:9], 0)
    refused = "p%s" % uuid.uuid4().hex[:9]
    try:
        storage.ensure_pool(conn, holder.pool_name, holder.pool_path)
        with pytest.raises(connection.libvirt.libvirtError) as caught:
            storage.ensure_pool(conn, refused, holder.pool_path)
        assert holder.pool_name in str(caught.value) and "not found" not in str(caught.value), caught.value
        assert storage.find_pool(conn, refused) is None
    finally:
        remove_pool(conn, refused)      # only there if libvirt took it after all
        holder.teardown()
    assert storage.find_pool(conn, holder.pool_name) is None and not os.path.exists(holder.pool_path)


@pytest.mark.parametrize("round_no", range(3))
def test_stale_lock_is_broken_by_exactly_one_caller(conn, local_hv, round_no):
    """Six processes find the same stale lock at the same instant; they hold it one at a time."""
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    storage.create_volume(pool, ".race.lock", 0, "raw")
    _age(pool, ".race.lock", locks.LOCK_STALE_SECONDS + 5)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "holders.log")
        start_at = time.time() + 1.5
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_hold_lock, args=(local_hv.pool_name, log_path, start_at)) for _number in range(6)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(120)
        assert [proc.exitcode for proc in procs] == [0] * 6
        with open(log_path) as log:
            lines = log.read().splitlines()
    assert len(lines) == 12
    assert not _holders_overlap(lines), lines
    pool.refresh(0)
    assert sorted(v.name() for v in pool.listAllVolumes(0) if v.name().startswith(".race")) == []


def test_lock_whose_breaker_died_is_still_taken(conn, local_hv):
    """A stale lock plus the stale break marker of a breaker that died: the lock is taken anyway."""
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    storage.create_volume(pool, ".race.lock", 0, "raw")
    _age(pool, ".race.lock", locks.LOCK_STALE_SECONDS + 60)
    stamp = locks.lock_mtime(pool, ".race.lock")
    marker = ".race.lock." + stamp.replace(".", "-")
    storage.create_volume(pool, marker, 0, "raw")
    _age(pool, marker, locks.LOCK_STALE_SECONDS + 5)
    started = time.monotonic()
    with locks.HostLock(pool, "race", timeout=30):
        assert time.monotonic() - started < 30
    pool.refresh(0)
    assert [v.name() for v in pool.listAllVolumes(0) if v.name().startswith(".race")] == []


def test_fresh_lock_is_not_broken(conn, local_hv):
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    with locks.HostLock(pool, "race"):
        with pytest.raises(connection.DriverError, match="timed out after 1s waiting for lock .race.lock"):
            with locks.HostLock(pool, "race", timeout=1):
                pass


def _facts(hv):
    run = run_playbook(HOST_FACTS_PLAY, {"hypervisors": [hv.config()]})
    assert run.rc == 0, run.failures()
    return run.task("facts")["ansible_facts"]["nova_hosts"]["local"]


def test_orphans_are_reported_and_purged(conn, local_hv, tiny_image):
    hv = local_hv
    data = catalog(tiny_image)
    server = dict(data, name=hv.prefix + "keep", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                  nics=[{"net-name": hv.network}], timeout=120)
    run = run_playbook(SERVER_PLAY, {"args": server})
    assert run.rc == 0, run.failures()
    kept = run.task("server")["server"]
    assert _facts(hv)["orphans"] == []

    # What dead runs leave: a half-built domain past its lease, a volume of no domain,
    # a DHCP reservation nobody names, a lock whose holder died.
    pool = hv.pool()
    net = libvirt_network.find_network(conn, hv.network)
    dead_uuid = str(uuid.uuid4())
    mac = libvirt_network.generate_mac()
    record = {"uuid": dead_uuid, "name": hv.prefix + "dead", "vm_state": states.BUILDING,
              "task_state": states.BLOCK_DEVICE_MAPPING, "lease_until": time.time() - 1,
              "flavor": {"name": "m1.tiny", "vcpus": 1, "ram": 192, "disk": 1},
              "ports": [{"network": hv.network, "mac": mac, "ip": None}]}
    guest.define_domain(conn, {
        "name": hv.prefix + "dead", "uuid": dead_uuid, "title": "dead", "virt_type": "qemu", "arch": "x86_64",
        "vcpus": 1, "memory_mb": 192, "console_log": "%s/%s.console.log" % (hv.pool_path, dead_uuid),
        "record": record, "disks": [], "nics": []})
    libvirt_network.reserve_fixed_ip(conn, pool, net, mac, hv.prefix + "dead")
    storage.create_volume(pool, dead_uuid + ".disk", 1024 * 1024, "qcow2")
    stray_uuid = str(uuid.uuid4())
    storage.create_volume(pool, stray_uuid + ".disk.config", 4096, "raw")
    stray_mac = libvirt_network.generate_mac()
    libvirt_network.reserve_fixed_ip(conn, pool, net, stray_mac, None)
    storage.create_volume(pool, ".claim.lock", 0, "raw")
    _age(pool, ".claim.lock", locks.LOCK_STALE_SECONDS + 5)
    cache = storage.base_pool(conn, pool)  # an uploader that died before its base existed
    base_lock = ".%s.lock" % ("0" * 64)
    storage.create_volume(cache, base_lock, 0, "raw")
    _age(cache, base_lock, locks.LOCK_STALE_SECONDS + 5)

    orphans = _facts(hv)["orphans"]
    found = sorted((o["type"], o.get("name") if o["type"] != "dhcp" else o["mac"]) for o in orphans)
    # the half-built domain's volume and reservation are named by its record: they go with it
    assert found == sorted([
        ("domain", hv.prefix + "dead"), ("volume", stray_uuid + ".disk.config"), ("dhcp", stray_mac),
        ("lock", ".claim.lock"), ("lock", base_lock)]), orphans

    check = run_playbook(SERVER_PLAY, {"args": {"name": hv.prefix + "none", "state": "absent",
                                                "purge_orphans": True, "hypervisors": [hv.config()]}}, check=True)
    assert check.rc == 0, check.failures()
    assert check.task("server")["changed"] is True
    assert len(_facts(hv)["orphans"]) == 5

    purge = run_playbook(SERVER_PLAY, {"args": {"name": hv.prefix + "none", "state": "absent",
                                                "purge_orphans": True, "hypervisors": [hv.config()]}})
    assert purge.rc == 0, purge.failures()
    result = purge.task("server")
    assert result["changed"] is True
    assert len(result["orphans_removed"]["local"]) == 5
    assert storage.find_volume(cache, base_lock) is None
    assert _facts(hv)["orphans"] == []
    assert guest.find_domain(conn, hv.prefix + "dead") is None
    assert storage.instance_volumes(pool, dead_uuid) == []
    dhcp = libvirt_network.network_dhcp(net)[2]
    assert mac not in dhcp and stray_mac not in dhcp
    # the complete server is untouched
    dom = guest.find_domain(conn, kept["name"])
    assert dom is not None and instance_record.read_record(dom)["vm_state"] == states.ACTIVE
    assert kept["addresses"][hv.network][0]["OS-EXT-IPS-MAC:mac_addr"] in dhcp

    again = run_playbook(SERVER_PLAY, {"args": {"name": hv.prefix + "none", "state": "absent",
                                                "purge_orphans": True, "hypervisors": [hv.config()]}})
    assert again.rc == 0 and again.task("server")["changed"] is False


def test_run_killed_mid_build_is_completed_by_the_next(conn, local_hv, tiny_image):
    """SIGKILL the run as soon as its claim (the domain) exists; the next run waits out the dead
    run's lease, reaps the half-built server and builds it: one ACTIVE server, nothing orphaned."""
    hv = local_hv
    name = hv.prefix + "k"
    # timeout bounds the whole task: the rerun's must outlast the dead run's lease (states.LEASE_SECONDS)
    args = dict(catalog(tiny_image), name=name, image="tiny", flavor="m1.small", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}], timeout=120)
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_playbook(tmp, 0, args)
        deadline = time.monotonic() + 120
        seen = None
        while time.monotonic() < deadline and seen is None:
            dom = guest.find_domain(conn, name)
            record = instance_record.read_record(dom) if dom is not None else None
            if record is not None and record.get("task_state") is not None:
                seen = record
            else:
                time.sleep(0.02)
        kill_playbook(proc)
        assert seen is not None, "the build never defined its domain"
        dom = guest.find_domain(conn, name)
        left = instance_record.read_record(dom) if dom is not None else None
        assert left is not None and not states.is_complete(left), left
        assert _facts(hv)["orphans"] == []  # its lease still runs: in progress, not orphaned
        started = time.monotonic()
        proc = start_playbook(tmp, 1, args)
        result = server_result(proc)
    assert not result.get("failed"), result.get("msg")
    server = result["server"]
    assert server["status"] == "ACTIVE"
    assert server["id"] != left["uuid"]
    assert time.monotonic() - started < 20 + 15 + 60
    reaped = [n for n in result["notifications"] if n["event_type"] == "compute.instance.create.error"]
    assert reaped and "abandoned" in reaped[0]["payload"]["fault"]["message"]
    assert [d.name() for d in conn.listAllDomains() if d.name().startswith(hv.prefix)] == [name]
    assert _facts(hv)["orphans"] == []
    pool = hv.pool()
    pool.refresh(0)
    assert sorted(v.name().split(".")[0] for v in pool.listAllVolumes(0) if v.name()[:1] not in "._") \
        == [server["id"]] * len([v for v in pool.listAllVolumes(0) if v.name().startswith(server["id"])])
    dhcp = libvirt_network.network_dhcp(libvirt_network.find_network(conn, hv.network))[2]
    assert len(dhcp) == 1


def test_renewed_lock_is_not_broken(conn, local_hv):
    """A holder that renews (an image upload) keeps its lock however old it is."""
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    with locks.HostLock(pool, "race") as lock:
        _age(pool, ".race.lock", locks.LOCK_STALE_SECONDS + 5)
        lock.renew()
        with pytest.raises(connection.DriverError, match="timed out"):
            with locks.HostLock(pool, "race", timeout=1):
                pass


def test_half_uploaded_base_is_uploaded_again(conn, local_hv, tiny_image):
    """A base image an uploader left half-written (no .done marker) is never used as is."""
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    path, copied = imagecache.cache_image(conn, pool, tiny_image["root"], "qcow2")
    assert copied and imagecache.is_cached(conn, pool, os.path.basename(path))
    cache = storage.base_pool(conn, pool)
    storage.delete_volume(storage.find_volume(cache, os.path.basename(path) + imagecache.CACHED_SUFFIX))
    with open(path, "r+b") as handle:
        handle.truncate(1000)  # what a killed upload leaves
    assert not imagecache.is_cached(conn, pool, os.path.basename(path))
    again, copied = imagecache.cache_image(conn, pool, tiny_image["root"], "qcow2")
    assert copied and again == path
    assert os.path.getsize(path) == os.path.getsize(tiny_image["root"])


def test_volumes_listed_while_a_volume_is_built_in_the_pool(conn, local_hv):
    """libvirt refuses to refresh a pool while it builds a volume in it; the builds of one
    request make volumes in the same pool at once, and one build's listing (of its volumes,
    of orphans) must not fail because another is making a volume."""
    pool = storage.ensure_pool(conn, local_hv.pool_name, local_hv.pool_path)
    instance_uuid = str(uuid.uuid4())
    kept = storage.create_volume(pool, instance_uuid + ".disk", 1024 * 1024, "raw")
    size = 256 * 1024 * 1024
    source = storage.create_volume(pool, str(uuid.uuid4()) + ".disk", size, "raw")
    storage.upload_volume(conn, source, b"\1" * size)
    other = connection.connect("qemu:///system")
    clone_xml = ("<volume><name>%s.disk</name><capacity unit='bytes'>%d</capacity>"
                 "<target><format type='raw'/></target></volume>" % (uuid.uuid4(), size))
    clone = threading.Thread(target=lambda: other.storagePoolLookupByName(local_hv.pool_name).createXMLFrom(
        clone_xml, other.storageVolLookupByPath(source.path()), 0))
    clone.start()
    listed = None
    try:
        while clone.is_alive() and listed is None:
            try:
                pool.refresh(0)
            except connection.libvirt.libvirtError as exc:
                assert "asynchronous jobs" in exc.get_error_message()
                # the pool is busy building the clone: the driver lists all the same
                listed = ([v.name() for v in storage.instance_volumes(pool, instance_uuid)],
                          [o["name"] for o in orphans.find_orphans(conn, local_hv.pool_name)])
    finally:
        clone.join()
        other.close()
        for vol in pool.listAllVolumes(0):
            if vol.name() != storage.BASE_SUFFIX:
                storage.delete_volume(vol)
    assert listed is not None, "the clone ended before the pool was seen busy"
    assert listed[0] == [kept.name()]
    assert kept.name() in listed[1]  # a volume of no domain, reported
