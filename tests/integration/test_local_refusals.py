"""All-or-nothing multi-creates, quota and edge names, against the real local libvirtd.
(Bad input refused before anything is built: test_hostile_inputs.py.)"""

import pytest

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest


def base_args(hv, tiny_image, name):
    args = catalog(tiny_image)
    args.update(name=name, image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}])
    return args


SERVER = SERVER_PLAY


def test_min_count_is_all_or_nothing(conn, local_hv, tiny_image):
    hv = local_hv
    host_mb = conn.getInfo()[1]
    # A flavor of which exactly two fit in what the host has left after its reserve.
    used = sum(d.info()[1] // 1024 for d in conn.listAllDomains() if d.isActive())
    ram = (host_mb - 512 - used) // 2 - 8
    args = base_args(hv, tiny_image, hv.prefix + "batch")
    args["flavors"].append({"name": "m1.half", "vcpus": 1, "ram": ram, "disk": 1})
    args.update(flavor="m1.half", min_count=3, max_count=3)
    refused = run_playbook(SERVER, {"args": args}).task("server")
    assert refused["failed"] is True
    assert "placement eliminated" in refused["msg"] and "placed 2 of 3" in refused["msg"], refused["msg"]
    assert hv.leftovers() == []
    # min_count only bounds what quota may cut, as in Nova: with room for two, three asked fail
    args.update(min_count=1, max_count=3)
    refused = run_playbook(SERVER, {"args": args}).task("server")
    assert refused["failed"] is True and "placed 2 of 3" in refused["msg"], refused["msg"]
    assert hv.leftovers() == []

    args.update(min_count=1, max_count=3, flavor="m1.tiny")
    made = run_playbook(SERVER, {"args": args}).task("server")
    assert made.get("failed") is not True, (made.get("msg"), made.get("faults"))
    assert [s["name"] for s in made["servers"]] == [hv.prefix + "batch-%d" % i for i in (1, 2, 3)]
    assert all(s["status"] == "ACTIVE" for s in made["servers"])
    assert len(set(s["addresses"][hv.network][0]["addr"] for s in made["servers"])) == 3
    again = run_playbook(SERVER, {"args": args}).task("server")
    assert again["changed"] is False
    gone = run_playbook(SERVER, {"args": dict(args, state="absent")}).task("server")
    assert gone["changed"] is True and len(gone["servers"]) == 3
    assert hv.leftovers() == []


def test_quota_counts_instances_on_the_hypervisor(conn, local_hv, tiny_image):
    hv = local_hv
    args = base_args(hv, tiny_image, hv.prefix + "q1")
    args.update(project="team-a", quotas={"instances": 1, "cores": 4, "ram": 4096})
    first = run_playbook(SERVER, {"args": args}).task("server")
    assert first["server"]["status"] == "ACTIVE", first
    second = run_playbook(SERVER, {"args": dict(args, name=hv.prefix + "q2")}).task("server")
    assert second["failed"] is True
    assert second["msg"].startswith("quota:") and "instances" in second["msg"], second["msg"]
    assert guest.find_domain(conn, hv.prefix + "q2") is None
    other = run_playbook(SERVER, {"args": dict(args, name=hv.prefix + "q3", project="team-b")}).task("server")
    assert other["server"]["status"] == "ACTIVE", other
    for name in ("q1", "q3"):
        run_playbook(SERVER, {"args": dict(args, name=hv.prefix + name, state="absent")})
    assert hv.leftovers() == []


@pytest.mark.parametrize("name", ["web.example-1", "a" * 63])
def test_edge_names_are_accepted(conn, local_hv, tiny_image, name):
    hv = local_hv
    full = (hv.prefix + name)[:63]
    args = base_args(hv, tiny_image, full)
    made = run_playbook(SERVER, {"args": args}).task("server")
    assert made["server"]["name"] == full and made["server"]["status"] == "ACTIVE", made
    run_playbook(SERVER, {"args": dict(args, state="absent")})
    assert hv.leftovers() == []
