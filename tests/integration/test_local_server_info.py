"""nova_server_info through ansible-playbook on the real local libvirtd: every server, or those
matching name, id, hypervisor, status, metadata and server group, shaped as nova_server returns
them; a hypervisor that does not answer is named in hypervisors_down, not as `unreachable`."""

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook

INFO_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: info
      novalite.compute.nova_server_info: "{{ args }}"
"""


def info(hv, **filters):
    return run_playbook(INFO_PLAY, {"args": dict(filters, hypervisors=[hv.config()])}).task("info")


def test_list_and_show_servers(conn, local_hv, tiny_image):
    hv = local_hv
    args = catalog(tiny_image)
    args.update(image="tiny", flavor="m1.tiny", hypervisors=[hv.config()], nics=[{"net-name": hv.network}],
                server_groups=[{"name": hv.prefix + "grp", "policy": "soft-affinity"}])
    web = run_playbook(SERVER_PLAY, {"args": dict(args, name=hv.prefix + "web", meta={"role": "web"},
                                                  scheduler_hints={"group": hv.prefix + "grp"})}).task("server")
    db = run_playbook(SERVER_PLAY, {"args": dict(args, name=hv.prefix + "db", meta={"role": "db"})}).task("server")
    assert web["server"]["status"] == db["server"]["status"] == "ACTIVE"

    mine = [s for s in info(hv)["servers"] if s["name"].startswith(hv.prefix)]
    assert [s["name"] for s in mine] == [hv.prefix + "db", hv.prefix + "web"]
    shown = mine[1]
    for key in ("id", "status", "vm_state", "task_state", "power_state", "hypervisor_hostname", "flavor",
                "image", "addresses", "metadata", "server_group", "availability_zone", "created_at",
                "launched_at", "updated_at", "fault"):
        assert key in shown, key
    assert shown["id"] == web["server"]["id"] and shown["addresses"] == web["server"]["addresses"]

    assert [s["name"] for s in info(hv, name=hv.prefix + "db")["servers"]] == [hv.prefix + "db"]
    assert [s["name"] for s in info(hv, id=web["server"]["id"])["servers"]] == [hv.prefix + "web"]
    assert [s["name"] for s in info(hv, metadata={"role": "web"})["servers"]
            if s["name"].startswith(hv.prefix)] == [hv.prefix + "web"]
    assert [s["name"] for s in info(hv, server_group=hv.prefix + "grp")["servers"]] == [hv.prefix + "web"]
    assert info(hv, hypervisor="elsewhere")["servers"] == []
    conn.lookupByName(hv.prefix + "db").destroy()
    assert [s["name"] for s in info(hv, status="shutoff")["servers"]
            if s["name"].startswith(hv.prefix)] == [hv.prefix + "db"]

    silent = run_playbook(INFO_PLAY, {"args": {"hypervisors": [hv.config(), {
        "name": "silent", "uri": "qemu+ssh://root@127.0.0.1:9/system"}], "connect_timeout": 5}})
    result = silent.task("info")
    assert "silent" in result["hypervisors_down"] and "unreachable" not in result
    assert silent.stats["localhost"]["unreachable"] == 0
    for name in ("web", "db"):
        run_playbook(SERVER_PLAY, {"args": dict(args, name=hv.prefix + name, state="absent")})
    assert hv.leftovers() == []
