"""Names and groups across the whole bed under racing runs (issue 14, items 1 to 5), with real
ansible-playbook runs on the three nspawn hypervisors:

- runs creating the same name at once make one server, and every run ends ok reporting it;
- a rerun after a lost host came back with a half-built copy sees the live copy as the server;
- runs adding members to one affinity group from different first-choice hosts keep one host;
- min_count stays all or nothing when racing runs lose claims after scheduling;
- a delete survives a libvirtd restart on the host it deletes from.
The racing tests hold every host's claim lock (a lock volume, as a run holds it) until all the
runs have scheduled from the same facts and wait for their claims, so the race is there in
every round, not only when their timing happens to overlap."""

import contextlib
import tempfile
import time

from conftest import BED_NETWORK, catalog
from helpers import SERVER_PLAY, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

SAME_NAME_ROUNDS = 3
SAME_NAME_RACERS = 4
AFFINITY_ROUNDS = 2
MIN_COUNT_ROUNDS = 2
# Long enough for every run to start, gather the hosts and schedule (several ansible-playbook
# processes on two CPUs), short of the 30 s after which a lock counts as left by a dead run.
HOLD_SECONDS = 12
# Spread (1.0) or pack (-1.0) by every resource, so the two ways' first choices differ.
MULTIPLIERS = ("ram_weight_multiplier", "cpu_weight_multiplier", "disk_weight_multiplier")


def args_for(bed, tiny_image, name, **extra):
    args = dict(catalog(tiny_image), name=name, image="tiny", flavor="m1.tiny", hypervisors=bed.hypervisors(),
                nics=[{"net-name": BED_NETWORK["name"]}], timeout=120)
    args.update(extra)
    return args


@contextlib.contextmanager
def claims_held(bed):
    """Every host's claim lock, held as a run holds it (the `.claim.lock` volume)."""
    held = []
    try:
        for index in range(1, len(bed.hosts) + 1):
            conn = bed.conn(index)
            pool = storage.find_pool(conn, "nova_instances")
            held.append((conn, storage.create_volume(pool, ".claim.lock", 0, "raw")))
        yield
    finally:
        for conn, vol in held:
            storage.delete_volume(vol)
            conn.close()


def race(bed, args_list):
    """The runs at once, their claims held back until all have scheduled."""
    with tempfile.TemporaryDirectory() as tmp:
        with claims_held(bed):
            procs = [start_playbook(tmp, index, args) for index, args in enumerate(args_list)]
            time.sleep(HOLD_SECONDS)
        return [server_result(proc) for proc in procs]


def records_named(bed, prefix):
    """[(host name, record)] of every domain named prefix* on the bed."""
    found = []
    for index, host in enumerate(bed.hosts, 1):
        conn = bed.conn(index)
        try:
            for dom in conn.listAllDomains():
                try:
                    if dom.name().startswith(prefix):
                        found.append((host["name"], instance_record.read_record(dom)))
                except connection.libvirt.libvirtError:
                    pass  # undefined while we looked (a delete going on)
        finally:
            conn.close()
    return found


def test_runs_racing_for_one_name_make_one_server(bed, prefix, tiny_image):
    for round_no in range(SAME_NAME_ROUNDS):
        name = "%sn%d" % (prefix, round_no)
        results = race(bed, [args_for(bed, tiny_image, name)] * SAME_NAME_RACERS)
        for result in results:
            assert result.get("failed") is not True, result.get("msg")
            assert result["server"]["status"] == "ACTIVE", result["server"]
        copies = records_named(bed, name)
        assert len(copies) == 1, copies
        assert set(r["server"]["id"] for r in results) == set([copies[0][1]["uuid"]])
        assert sum(1 for r in results if r["changed"]) == 1, [r["changed"] for r in results]
        assert not any("placement" in r["server"] for r in results if not r["changed"])


def test_rerun_after_a_lost_host_returned_with_a_half_built_copy(bed, prefix, tiny_image):
    """The copy a host kept while the build moved on (same uuid, still building) is reaped at once;
    the live copy is the server. The kept copy is on a host that sorts after the live one's."""
    name = prefix + "back"
    args = args_for(bed, tiny_image, name, hypervisors=bed.hypervisors(h3={"enabled": False}))
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert made["server"]["status"] == "ACTIVE", made.get("msg")
    live_host = made["server"]["hypervisor_hostname"]
    assert live_host != bed.hosts[2]["name"]
    record = dict(made["server"], uuid=made["server"]["id"])
    conn = bed.conn(1 if live_host == bed.hosts[0]["name"] else 2)
    try:
        live = instance_record.read_record(guest.find_domain(conn, name))
    finally:
        conn.close()
    stale = dict(live, vm_state=states.BUILDING, task_state=states.SPAWNING, host=bed.hosts[2]["name"],
                 lease_until=time.time() + 600)
    conn = bed.conn(3)
    try:
        guest.define_domain(conn, {"name": name, "uuid": live["uuid"], "virt_type": "qemu", "vcpus": 1,
                                   "memory_mb": 64, "console_log": "/dev/null", "record": stale})
    finally:
        conn.close()
    assert len(records_named(bed, name)) == 2
    again = run_playbook(SERVER_PLAY, {"args": dict(args, hypervisors=bed.hypervisors())}).task("server")
    assert again.get("failed") is not True, again.get("msg")
    assert again["changed"] is False
    assert again["server"]["id"] == record["uuid"] and again["server"]["hypervisor_hostname"] == live_host
    assert [host for host, _r in records_named(bed, name)] == [live_host]


def test_racing_runs_keep_an_affinity_group_on_one_host(bed, prefix, tiny_image):
    """One run spreads (prefers the emptiest host), the other packs (prefers the fullest): their
    first choices differ; every member still ends on the first member's host."""
    ballast = run_playbook(SERVER_PLAY, {"args": args_for(
        bed, tiny_image, prefix + "ballast", flavor="m1.small",
        hypervisors=bed.hypervisors(h2={"enabled": False}, h3={"enabled": False}))}).task("server")
    assert ballast["server"]["hypervisor_hostname"] == bed.hosts[0]["name"], ballast.get("msg")
    for round_no in range(AFFINITY_ROUNDS):
        group = {"name": "%sa%d" % (prefix, round_no), "policy": "affinity"}
        runs = [args_for(bed, tiny_image, "%sa%d-%s" % (prefix, round_no, way), server_groups=[group],
                         scheduler_hints={"group": group["name"]},
                         scheduler=dict((option, sign) for option in MULTIPLIERS))
                for way, sign in (("spread", 1.0), ("pack", -1.0))]
        results = race(bed, runs)
        hosts = set()
        for host_name, record in records_named(bed, "%sa%d-" % (prefix, round_no)):
            assert record["server_group"] == group["name"]
            hosts.add(host_name)
        assert len(hosts) <= 1, (hosts, [r.get("msg") for r in results])
        for result in results:
            if result.get("failed"):
                assert "Affinity" in result["msg"], result["msg"]
            else:
                assert result["server"]["hypervisor_hostname"] in hosts


def test_min_count_stays_all_or_nothing_under_racing_runs(bed, prefix, tiny_image):
    """Room for one server per host; two runs want three each with min_count 3. Whatever claims
    each loses after scheduling, a run ends with its three servers or none of them."""
    for round_no in range(MIN_COUNT_ROUNDS):
        free = []
        for index in range(1, len(bed.hosts) + 1):
            conn = bed.conn(index)
            try:
                facts = libvirt_host.host_facts(conn, "nova_instances", "qemu")
            finally:
                conn.close()
            free.append(facts["memory_mb"] - facts["memory_mb_used"] - 512)
        flavor = {"name": "m1.third", "vcpus": 1, "ram": max(free) // 2 + 64, "disk": 1}
        assert flavor["ram"] <= min(free), free
        runs = []
        for index in range(2):
            data = args_for(bed, tiny_image, "%sm%d-%d" % (prefix, round_no, index), flavor="m1.third",
                            min_count=3, max_count=3)
            data["flavors"] = data["flavors"] + [flavor]
            runs.append(data)
        results = race(bed, runs)
        for index, result in enumerate(results):
            left = records_named(bed, "%sm%d-%d-" % (prefix, round_no, index))
            if result.get("failed"):
                assert left == [], (result["msg"], left)
            else:
                assert len(left) == 3 and all(r["vm_state"] == states.ACTIVE for _h, r in left), left
        bed.wipe("%sm%d-" % (prefix, round_no))


def test_delete_survives_a_libvirtd_restart(bed, prefix, tiny_image):
    """Six servers on one host; its libvirtd restarts while they are deleted: the run reconnects
    and finishes, every server reported deleted, nothing left in 'deleting'."""
    args = args_for(bed, tiny_image, prefix + "del", min_count=6, max_count=6,
                    hypervisors=bed.hypervisors(h2={"enabled": False}, h3={"enabled": False}))
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert made.get("failed") is not True, made.get("msg")
    victim = bed.hosts[0]
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_playbook(tmp, 0, dict(args, state="absent"))
        deadline = time.monotonic() + 120
        while len(records_named(bed, prefix + "del-")) == 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        bed.testbed.ssh(victim, ["systemctl", "restart", "libvirtd"])
        result = server_result(proc)
    assert result.get("failed") is not True, result.get("msg")
    assert len(result["servers"]) == 6 and all(s["status"] == "DELETED" for s in result["servers"])
    assert records_named(bed, prefix + "del") == []
    assert bed.leftovers(prefix + "del") == []
