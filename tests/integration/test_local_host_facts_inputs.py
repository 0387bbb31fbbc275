"""nova_host_facts checks its input as nova_server does (issue 14, item 12), through
ansible-playbook on the real local libvirtd: a negative connect_timeout, an empty or duplicated
hypervisor list and one machine named twice are refused naming the field; the facts show each
server in nova_server's shape."""

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook

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
