"""Faults on the real test bed: the run SIGKILLed at points of the flow and run again, libvirtd
restarted during a build, a host whose network (and so its SSH) stops answering, a full instance
pool, an image that cannot boot. Each ends consistent (every server ACTIVE or cleanly failed,
nothing orphaned on any host) with a message that says what happened."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BED_NETWORK, catalog
from helpers import FACTS_PLAY, SERVER_PLAY, kill_playbook, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

# timeout bounds the whole task (issue 15, item 7): a rerun must outlast a killed run's lease
# (60 s), and a run that reschedules after a lost host needs room for its alternate.
TIMEOUT = 120


@pytest.fixture(scope="module")
def big_image(tiny_image):
    """The tiny root disk as a 384 MB raw image: its upload to a host's cache takes seconds."""
    with tempfile.TemporaryDirectory(prefix="novalite-big-") as tmp:
        path = os.path.join(tmp, "big.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", tiny_image["root"], path], check=True)
        with open(path, "r+b") as handle:
            handle.truncate(384 * 1024 * 1024)
        yield path


def unique_copy(path, tmp, tag):
    """A copy of `path` with other bytes (so another sha256: no host has it cached), same size."""
    copy = os.path.join(tmp, "%s-%s" % (tag, os.path.basename(path)))
    shutil.copyfile(path, copy)
    with open(copy, "r+b") as handle:
        handle.seek(300 * 1024 * 1024)
        handle.write(tag.encode())
    return copy


def server_args(bed, tiny_image, name, big=None, **extra):
    data = catalog(tiny_image)
    if big:
        data["images"].append(dict(data["images"][2], name="big", file=big, disk_format="raw"))
    args = dict(data, name=name, image="big" if big else "tiny", flavor="m1.tiny", hypervisors=bed.hypervisors(),
                nics=[{"net-name": BED_NETWORK["name"]}], timeout=TIMEOUT)
    args.update(extra)
    return args


def orphans(bed):
    run = run_playbook(FACTS_PLAY, {"args": bed.hypervisors()})
    assert run.rc == 0, run.failures()
    hosts = run.task("facts")["ansible_facts"]["nova_hosts"]
    return dict((name, facts.get("orphans")) for name, facts in hosts.items())


def no_orphans(bed):
    return dict((host["name"], []) for host in bed.hosts)


def failed_builds(bed):
    found = {}
    for index, host in enumerate(bed.hosts, 1):
        conn = bed.conn(index)
        try:
            found[host["name"]] = libvirt_host.host_record(conn).get("failed_builds", 0)
        finally:
            conn.close()
    return found


def purge_orphans(bed, prefix):
    purge = run_playbook(SERVER_PLAY, {"args": {"name": prefix + "none", "state": "absent",
                                                "purge_orphans": True, "hypervisors": bed.hypervisors()}})
    assert purge.rc == 0, purge.failures()


def lock_volumes(bed):
    """{host name: sorted names of the lock volumes (and break markers) in its pools}."""
    found = {}
    for index, host in enumerate(bed.hosts, 1):
        conn = bed.conn(index)
        try:
            names = []
            for pool_name in ("nova_instances", "nova_instances" + storage.BASE_SUFFIX):
                pool = storage.find_pool(conn, pool_name)
                if pool is not None and pool.isActive():
                    storage.refresh_pool(pool)
                    names += [v.name() for v in pool.listAllVolumes(0) if ".lock" in v.name()]
            found[host["name"]] = sorted(names)
        finally:
            conn.close()
    return found


def watch(bed, name, predicate, timeout=120):
    """(host index, record) once a domain `name` on some host has a record satisfying predicate."""
    conns = [bed.conn(index) for index in range(1, len(bed.hosts) + 1)]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, conn in enumerate(conns, 1):
                dom = guest.find_domain(conn, name)
                try:
                    record = instance_record.read_record(dom) if dom is not None else None
                except connection.libvirt.libvirtError:
                    record = None  # undefined while we looked
                if record is not None and predicate(record):
                    return index, record
            time.sleep(0.02)
        return None, None
    finally:
        for conn in conns:
            conn.close()


def domains_named(bed, name):
    return [host for host, names in bed.domains(name).items() if name in names]


def half_written_bases(bed, index):
    """Base images in host `index`'s cache without their .done marker."""
    conn = bed.conn(index)
    try:
        cache = storage.find_pool(conn, "nova_instances" + storage.BASE_SUFFIX)
        cache.refresh(0)
        names = set(v.name() for v in cache.listAllVolumes(0))
        return sorted(n for n in names if not n.startswith(".") and not n.endswith(imagecache.CACHED_SUFFIX)
                      and n + imagecache.CACHED_SUFFIX not in names)
    finally:
        conn.close()


# ------------------------------------------------------------------------------ SIGKILL
KILL_POINTS = {
    "scheduling": None,  # create.start notified: the claim is being taken
    "claimed": lambda r: not states.is_complete(r),
    "block_device_mapping": lambda r: r.get("task_state") == states.BLOCK_DEVICE_MAPPING,
    "active": states.is_complete,
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_run_killed_then_run_again_converges(bed, prefix, tiny_image, big_image, point):
    name = prefix + "k"
    big = big_image if point == "block_device_mapping" else None
    with tempfile.TemporaryDirectory() as tmp:
        notes = os.path.join(tmp, "notifications.jsonl")
        args = server_args(bed, tiny_image, name, big=big, notifications_file=notes)
        if big:  # an image no host has cached yet: its upload is the step we kill
            args["images"][-1]["file"] = unique_copy(big_image, tmp, prefix)
        proc = start_playbook(tmp, 0, args)
        if KILL_POINTS[point] is None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (
                    os.path.exists(notes) and "compute.instance.create.start" in open(notes).read()):
                time.sleep(0.01)
            seen = os.path.exists(notes)
        else:
            _index, seen = watch(bed, name, KILL_POINTS[point])
        kill_playbook(proc)
        killed_at = time.time()
        assert seen, "the run never reached %s" % point
        again = server_result(start_playbook(tmp, 1, dict(args, notifications_file=None)))
    assert not again.get("failed"), again.get("msg")
    server = again["server"]
    assert server["status"] == "ACTIVE"
    assert domains_named(bed, name) == [server["hypervisor_hostname"]]
    if point == "active":
        assert again["changed"] is False  # it was complete: nothing to do
    left = lock_volumes(bed)
    if any(left.values()):
        # the killed run died holding these (a rerun that built elsewhere never needed them):
        # once stale they are reported as orphans, and purged
        time.sleep(max(0.0, killed_at + locks.LOCK_STALE_SECONDS + 1 - time.time()))
        found = orphans(bed)
        reported = dict((host, sorted(o["name"] for o in found[host] if o["type"] == "lock")) for host in found)
        assert reported == left, found
        assert all(o["type"] in ("lock", "base") for host in found for o in found[host]), found
        purge_orphans(bed, prefix)
    assert orphans(bed) == no_orphans(bed)
    for index in range(1, len(bed.hosts) + 1):
        assert half_written_bases(bed, index) == []


# ---------------------------------------------------------------------- libvirtd restart
def start_build_until_upload(bed, tiny_image, big_image, tmp, name, prefix):
    """A run building `name` from an uncached big image, returned (process, host index) once
    its build is uploading that image (block_device_mapping)."""
    args = server_args(bed, tiny_image, name, big=unique_copy(big_image, tmp, prefix))
    proc = start_playbook(tmp, 0, args)
    index, seen = watch(bed, name, lambda r: r.get("task_state") == states.BLOCK_DEVICE_MAPPING)
    assert seen, "the build never reached block_device_mapping"
    return proc, index


def test_libvirtd_restarted_during_a_build(bed, prefix, tiny_image, big_image):
    name = prefix + "r"
    with tempfile.TemporaryDirectory() as tmp:
        proc, index = start_build_until_upload(bed, tiny_image, big_image, tmp, name, prefix)
        victim = bed.hosts[index - 1]
        bed.testbed.ssh(victim, ["systemctl", "restart", "libvirtd"])
        result = server_result(proc)
    # the build on the restarted host failed, was cleaned up there and went to an alternate
    assert not result.get("failed"), result.get("msg")
    assert result["server"]["status"] == "ACTIVE"
    assert result["server"]["hypervisor_hostname"] != victim["name"]
    faults = [f for f in result["faults"] if f["host"] == victim["name"]]
    assert faults, result["faults"]
    assert "could not be removed" not in faults[0]["message"], faults[0]["message"]
    assert domains_named(bed, name) == [result["server"]["hypervisor_hostname"]]
    assert orphans(bed) == no_orphans(bed)
    assert half_written_bases(bed, index) == []


# ------------------------------------------------------------------- SSH stops answering
def test_host_whose_network_stops_answering(bed, prefix, tiny_image, big_image):
    """The host's link goes down mid-build: its connection dies on keepalive, the server is
    built elsewhere; what stays on the lost host is reported as an orphan once it is back and
    the lease has run out, and purged."""
    name = prefix + "s"
    with tempfile.TemporaryDirectory() as tmp:
        proc, index = start_build_until_upload(bed, tiny_image, big_image, tmp, name, prefix)
        victim = bed.hosts[index - 1]
        subprocess.run(["ip", "link", "set", victim["veth"], "down"], check=True)
        try:
            result = server_result(proc)
        finally:
            subprocess.run(["ip", "link", "set", victim["veth"], "up"], check=True)
    assert not result.get("failed"), result.get("msg")
    server = result["server"]
    assert server["status"] == "ACTIVE" and server["hypervisor_hostname"] != victim["name"]
    fault = [f for f in result["faults"] if f["host"] == victim["name"]][0]
    assert "could not be removed" in fault["message"] and "orphan" in fault["message"], fault["message"]

    # the half-built domain on the lost host: in progress until its lease ends, then an orphan
    _wait_ssh(bed, victim)
    time.sleep(states.LEASE_SECONDS + 16)
    found = orphans(bed)
    assert [o["name"] for o in found[victim["name"]] if o["type"] == "domain"] == [name], found
    purge_orphans(bed, prefix)
    assert orphans(bed) == no_orphans(bed)
    assert domains_named(bed, name) == [server["hypervisor_hostname"]]


def _wait_ssh(bed, host, timeout=60):
    deadline = time.monotonic() + timeout
    while bed.testbed.ssh(host, ["true"], check=False).returncode != 0:
        assert time.monotonic() < deadline, "%s did not come back" % host["name"]
        time.sleep(1)


# --------------------------------------------------------------------------- full pool
@pytest.fixture
def full_pool(bed):
    """On h1, an instance pool on a 4 MB tmpfs mounted inside the host: too small for any image."""
    host = bed.hosts[0]
    with open(host["pidfile"]) as handle:
        nspawn = handle.read().strip()
    init = subprocess.run(["pgrep", "-P", nspawn], capture_output=True, text=True, check=True).stdout.split()[0]
    path = "/var/lib/novalite/fullpool"
    enter = ["nsenter", "-t", init, "-m", "--"]
    subprocess.run(enter + ["mkdir", "-p", path], check=True)
    subprocess.run(enter + ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", path], check=True)
    conn = bed.conn(1)
    try:
        storage.ensure_pool(conn, "nova_full", path)
        yield "nova_full"
    finally:
        for pool_name in ("nova_full" + storage.BASE_SUFFIX, "nova_full"):
            pool = storage.find_pool(conn, pool_name)
            if pool is not None:
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
        conn.close()
        subprocess.run(enter + ["umount", path], check=True)
        subprocess.run(enter + ["rmdir", path], check=True)


def test_full_instance_pool(bed, prefix, tiny_image, full_pool):
    name = prefix + "f"
    hypervisors = bed.hypervisors(h1={"storage_pool": full_pool, "storage_path": "/var/lib/novalite/fullpool"})
    data = catalog(tiny_image)
    data["flavors"].append({"name": "m1.zero", "vcpus": 1, "ram": 128, "disk": 0})
    args = dict(data, name=name, image="tiny", flavor="m1.zero", hypervisors=hypervisors,
                nics=[{"net-name": BED_NETWORK["name"]}], timeout=TIMEOUT,
                scheduler=dict((option + "_weight_multiplier", 0.0) for option in (
                    "ram", "cpu", "disk", "num_instances", "build_failure")))
    run = run_playbook(SERVER_PLAY, {"args": args})
    assert run.rc == 0, run.failures()
    result = run.task("server")
    h1 = bed.hosts[0]["name"]
    assert result["server"]["status"] == "ACTIVE" and result["server"]["hypervisor_hostname"] != h1
    fault = [f for f in result["faults"] if f["host"] == h1][0]
    assert "No space left on device" in fault["message"] or "space" in fault["message"].lower(), fault
    conn = bed.conn(1)
    try:
        pool = storage.find_pool(conn, full_pool)
        pool.refresh(0)
        assert [v.name() for v in pool.listAllVolumes(0) if not v.name().startswith(".")
                and v.name() != storage.BASE_SUFFIX] == []
        cache = storage.find_pool(conn, full_pool + storage.BASE_SUFFIX)
        cache.refresh(0)
        names = set(v.name() for v in cache.listAllVolumes(0))
        assert [n for n in names if not n.startswith(".") and not n.endswith(imagecache.CACHED_SUFFIX)
                and n + imagecache.CACHED_SUFFIX not in names] == []  # no half-written base
    finally:
        conn.close()
    assert domains_named(bed, name) == [result["server"]["hypervisor_hostname"]]


# ---------------------------------------------------------------- an image that cannot boot
def test_image_that_cannot_boot(bed, prefix, tiny_image):
    """A kernel image that is not a kernel: QEMU refuses to start on every host tried; the server
    ends in ERROR with each attempt's fault, and no host keeps anything of it."""
    name = prefix + "b"
    with tempfile.TemporaryDirectory() as tmp:
        bogus = os.path.join(tmp, "bogus-vmlinuz")
        with open(bogus, "wb") as handle:
            handle.write(os.urandom(256 * 1024))
        data = catalog(tiny_image)
        data["images"].append({"name": "bogus-kernel", "file": bogus, "disk_format": "aki"})
        data["images"].append(dict(data["images"][2], name="broken", kernel_id="bogus-kernel"))
        args = dict(data, name=name, image="broken", flavor="m1.tiny", hypervisors=bed.hypervisors(),
                    nics=[{"net-name": BED_NETWORK["name"]}], timeout=TIMEOUT)
        run = run_playbook(SERVER_PLAY, {"args": args})
    result = run.task("server")
    assert result.get("failed"), result
    assert "1 of 1 servers failed to build" in result["msg"] and "cannot start domain" in result["msg"], result["msg"]
    assert len(result["faults"]) == 3
    assert sorted(f["host"] for f in result["faults"]) == sorted(h["name"] for h in bed.hosts)
    assert result["servers"][0]["status"] == "ERROR"
    assert [n["event_type"] for n in result["notifications"]].count("compute.instance.create.error") >= 1
    assert bed.domains(name) == dict((h["name"], []) for h in bed.hosts)
    assert orphans(bed) == no_orphans(bed)


# ------------------------------------------------------------------- stress over the bed
ROUNDS = 2
RACERS = 5


def test_racing_runs_over_the_bed_never_overcommit(bed, prefix, tiny_image):
    """Room for one server per host, five runs at once, twice over: three win, one per host.
    The room is one and a half servers: libvirt's memory total on this machine moves in
    256 MB steps while the suite runs (the VM hot-plugs memory), so it must not be tight."""
    flavor = {"name": "m1.race", "vcpus": 1, "ram": 1024, "disk": 1}
    for round_no in range(ROUNDS):
        per_host = {}
        for index in range(1, len(bed.hosts) + 1):
            conn = bed.conn(index)
            try:
                facts = libvirt_host.host_facts(conn, "nova_instances", "qemu")
            finally:
                conn.close()
            free = facts["memory_mb"] - facts["memory_mb_used"]
            per_host["h%d" % index] = {"reserved_host_memory_mb": free - flavor["ram"] * 3 // 2}
        data = catalog(tiny_image)
        data["flavors"].append(flavor)
        with tempfile.TemporaryDirectory() as tmp:
            procs = [start_playbook(tmp, i, dict(data, name="%sr%d-%d" % (prefix, round_no, i), image="tiny",
                                                 flavor="m1.race", hypervisors=bed.hypervisors(**per_host),
                                                 nics=[{"net-name": BED_NETWORK["name"]}], timeout=120))
                     for i in range(RACERS)]
            results = [server_result(proc) for proc in procs]
        winners = [r["server"] for r in results if not r.get("failed")]
        losers = [r for r in results if r.get("failed")]
        assert len(winners) == len(bed.hosts), [r.get("msg") for r in results]
        assert sorted(w["hypervisor_hostname"] for w in winners) == sorted(h["name"] for h in bed.hosts)
        for loser in losers:
            assert "placement" in loser["msg"], loser["msg"]
        placed = bed.domains(prefix + "r%d-" % round_no)
        assert sorted(sum(placed.values(), [])) == sorted(w["name"] for w in winners)
        assert all(len(names) == 1 for names in placed.values()), placed
    assert orphans(bed) == no_orphans(bed)


def test_racing_runs_over_the_bed_keep_anti_affinity(bed, prefix, tiny_image):
    """Five runs add a member each to one anti-affinity group over three hosts, twice over:
    never two members on one host."""
    for round_no in range(ROUNDS):
        group = {"name": "%sg%d" % (prefix, round_no), "policy": "anti-affinity"}
        data = catalog(tiny_image)
        with tempfile.TemporaryDirectory() as tmp:
            procs = [start_playbook(tmp, i, dict(data, name="%sg%d-%d" % (prefix, round_no, i), image="tiny",
                                                 flavor="m1.tiny", hypervisors=bed.hypervisors(),
                                                 server_groups=[group], scheduler_hints={"group": group["name"]},
                                                 nics=[{"net-name": BED_NETWORK["name"]}], timeout=120))
                     for i in range(RACERS)]
            results = [server_result(proc) for proc in procs]
        winners = [r["server"] for r in results if not r.get("failed")]
        hosts = [w["hypervisor_hostname"] for w in winners]
        assert len(hosts) == len(set(hosts)), hosts
        assert len(winners) == len(bed.hosts), [r.get("msg") for r in results]
        for loser in [r for r in results if r.get("failed")]:
            assert "AntiAffinity" in loser["msg"], loser["msg"]
        members = {}
        for index in range(1, len(bed.hosts) + 1):
            conn = bed.conn(index)
            try:
                members[index] = [d.name() for d in conn.listAllDomains()
                                  if (instance_record.read_record(d) or {}).get("server_group") == group["name"]]
            finally:
                conn.close()
        assert all(len(names) <= 1 for names in members.values()), members
        # a member refused at the claim by the group's policy is not a failed build of that host
        assert failed_builds(bed) == dict((host["name"], 0) for host in bed.hosts)
    assert orphans(bed) == no_orphans(bed)
