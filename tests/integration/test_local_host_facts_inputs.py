"""nova_host_facts checks its input as nova_server does (issue 14, item 12), through
ansible-playbook on the real local libvirtd: a negative connect_timeout, an empty or duplicated
hypervisor list and one machine named twice are refused naming the field; the facts show each
server in nova_server's shape."""

from conftest import catalog
from helpers import PREPARE_PLAY, SERVER_PLAY, run_playbook

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      novalite.compute.nova_host_facts: "{{ args }}"
      ignore_errors: true
"""


def facts(args):
    return run_playbook(PLAY, {"args": args}).task("facts")


def test_host_facts_refuse_what_nova_server_refuses(local_hv):
    hv = local_hv
    for args, field in (
            ({"hypervisors": [hv.config()], "connect_timeout": -5}, "connect_timeout:"),
            ({"hypervisors": []}, "hypervisors:"),
            ({"hypervisors": [hv.config(), hv.config()]}, "hypervisors[1].name:"),
            ({"hypervisors": [hv.config(), hv.config(name="again")]}, "hypervisors[1].uri:")):
        result = facts(args)
        assert result["failed"] is True and result["msg"].startswith(field), (args, result["msg"])


def test_host_facts_show_servers_as_nova_server_does(conn, local_hv, tiny_image):
    hv = local_hv
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "shape", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}])
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")["server"]
    host = facts({"hypervisors": [hv.config()]})["ansible_facts"]["nova_hosts"]["local"]
    shown = [s for s in host["servers"] if s["id"] == made["id"]][0]
    for key in ("name", "status", "vm_state", "power_state", "hypervisor_hostname", "flavor", "addresses"):
        assert shown[key] == made[key], key
    run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")})
    assert hv.leftovers() == []


def test_a_missing_or_inactive_pool_is_a_warning_naming_hypervisor_and_pool(conn, local_hv):
    """Issue 14, item 12: nova_host_facts took a missing pool silently."""
    hv = local_hv
    missing = facts({"hypervisors": [hv.config(storage_pool=hv.pool_name + "_none")]})
    assert missing["ansible_facts"]["nova_hosts"]["local"]["storage_pool_defined"] is False
    assert any("hypervisor local: instance storage pool %s_none does not exist" % hv.pool_name in w
               for w in missing.get("warnings", [])), missing.get("warnings")
    single = facts({"uri": "qemu:///system", "storage_pool": hv.pool_name + "_none"})
    assert any("(qemu:///system): instance storage pool %s_none does not exist" % hv.pool_name in w
               for w in single.get("warnings", [])), single.get("warnings")
    # defined but stopped: made by nova_compute_node, then destroyed
    run_playbook(PREPARE_PLAY, {"pool": hv.pool_name, "path": hv.pool_path})
    hv.pool().destroy()
    try:
        stopped = facts({"hypervisors": [hv.config()]})
    finally:  # the fixture's teardown empties an active pool
        hv.pool().create()
    host = stopped["ansible_facts"]["nova_hosts"]["local"]
    assert host["storage_pool_defined"] is True and host["storage_pool_active"] is False
    assert any("hypervisor local: instance storage pool %s is not active" % hv.pool_name in w
               for w in stopped.get("warnings", [])), stopped.get("warnings")
    ready = facts({"hypervisors": [hv.config()]})
    assert not [w for w in ready.get("warnings", []) if "storage pool" in w], ready.get("warnings")
