"""Concurrent runs racing for the last room on a host: claims taken on the hypervisor itself
must never let two of them both win. Several ansible-playbook processes at once, many rounds."""

import tempfile

from conftest import catalog, remove_servers
from helpers import server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

ROUNDS = 3
RACERS = 4


def used_mb(conn):
    return sum(d.info()[1] // 1024 for d in conn.listAllDomains() if d.isActive() or instance_record.read_record(d))


def test_racing_runs_never_overcommit_ram(conn, local_hv, tiny_image):
    hv = local_hv
    flavor = {"name": "m1.race", "vcpus": 1, "ram": 160, "disk": 1}
    for round_no in range(ROUNDS):
        # leave room for exactly two servers of this flavor above what is used now
        total = conn.getInfo()[1]
        reserved = total - used_mb(conn) - 2 * flavor["ram"] - 40
        config = hv.config(reserved_host_memory_mb=reserved)
        data = catalog(tiny_image)
        data["flavors"].append(flavor)
        with tempfile.TemporaryDirectory() as tmp:
            procs = []
            for index in range(RACERS):
                args = dict(data, name="%sr%d-%d" % (hv.prefix, round_no, index), image="tiny", flavor="m1.race",
                            hypervisors=[config], nics=[{"net-name": hv.network}], timeout=120)
                procs.append(start_playbook(tmp, index, args))
            results = [server_result(proc) for proc in procs]
        winners = [r for r in results if not r.get("failed")]
        losers = [r for r in results if r.get("failed")]
        assert len(winners) == 2, [r.get("msg") for r in results]
        assert all(r["server"]["status"] == "ACTIVE" for r in winners)
        for loser in losers:
            assert "placement" in loser["msg"], loser["msg"]
        mine = [d for d in conn.listAllDomains() if d.name().startswith(hv.prefix)]
        assert sorted(d.name() for d in mine) == sorted(r["server"]["name"] for r in winners)
        live = set(d.UUIDString() for d in conn.listAllDomains())
        pool = hv.pool()
        pool.refresh(0)
        orphans = [v.name() for v in pool.listAllVolumes(0)
                   if v.name()[:1] not in "._" and v.name().split(".")[0] not in live]
        assert orphans == []
        remove_servers(conn, hv.prefix, hv.pool_name, hv.network)
    assert hv.leftovers() == []


def test_racing_runs_never_break_anti_affinity(conn, local_hv, tiny_image):
    hv = local_hv
    data = catalog(tiny_image)
    group = {"name": hv.prefix + "g", "policy": "anti-affinity"}
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for index in range(3):
            args = dict(data, name="%sg%d" % (hv.prefix, index), image="tiny", flavor="m1.tiny",
                        hypervisors=[hv.config()], server_groups=[group], scheduler_hints={"group": group["name"]},
                        timeout=120)
            procs.append(start_playbook(tmp, index, args))
        results = [server_result(proc) for proc in procs]
    winners = [r for r in results if not r.get("failed")]
    assert len(winners) == 1, [r.get("msg") for r in results]
    members = [d for d in conn.listAllDomains()
               if (instance_record.read_record(d) or {}).get("server_group") == group["name"]]
    assert len(members) == 1
