"""nova_network through ansible-playbook on the real libvirtd (issue 14, item 12; issue 15,
item 9): a NAT and a routed network really defined with libvirt's forward mode, and an existing
network asked for with other figures reported as it is, with its drift (a warning, or a failure
with on_drift=fail, changing nothing). The networks are removed at the end, also on failure;
no traffic goes anywhere (no guest is started on them)."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import free_octet
from helpers import run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: network
      novalite.compute.nova_network: "{{ args }}"
      ignore_errors: true
"""


def network(args):
    return run_playbook(PLAY, {"args": args}).task("network")


@pytest.fixture
def names(conn):
    """Network names (nlt-TAG, which the session's sweep also removes) and their removal."""
    made = []

    def name():
        made.append("nlt-" + uuid.uuid4().hex[:10])
        return made[-1]
    yield name
    for net_name in made:
        net = libvirt_network.find_network(conn, net_name)
        if net is not None:
            if net.isActive():
                net.destroy()
            net.undefine()


def forward_of(conn, name):
    root = ET.fromstring(conn.networkLookupByName(name).XMLDesc(0))
    forward = root.find("forward")
    return None if forward is None else forward.get("mode")


@pytest.mark.parametrize("mode", ["nat", "route"])
def test_a_forwarding_network_is_defined_with_libvirts_forward_mode(conn, names, mode):
    name = names()
    cidr = "10.213.%d.0/24" % free_octet(conn)
    made = network({"name": name, "cidr": cidr, "forward_mode": mode, "bridge": "nlt" + name[4:12]})
    assert made["changed"] is True, made
    assert forward_of(conn, name) == mode
    assert conn.networkLookupByName(name).isActive()
    assert made["network"]["forward_mode"] == mode and made["network"]["cidr"] == cidr
    assert made["network"]["bridge"] == "nlt" + name[4:12] and made["drift"] == []
    again = network({"name": name, "cidr": cidr, "forward_mode": mode})
    assert again["changed"] is False and again["drift"] == [], again
    gone = network({"name": name, "state": "absent"})
    assert gone["changed"] is True and libvirt_network.find_network(conn, name) is None


def test_an_isolated_network_is_the_default(conn, names):
    name = names()
    made = network({"name": name, "cidr": "10.213.%d.0/24" % free_octet(conn)})
    assert made["changed"] is True and forward_of(conn, name) is None
    assert made["network"]["forward_mode"] == "isolated"


def test_an_existing_network_asked_otherwise_is_reported_as_it_is_with_its_drift(conn, names):
    name = names()
    cidr = "10.213.%d.0/24" % free_octet(conn)
    assert network({"name": name, "cidr": cidr})["changed"] is True
    other = "10.213.%d.0/24" % free_octet(conn)
    before = conn.networkLookupByName(name).XMLDesc(0)
    warned = network({"name": name, "cidr": other})
    assert warned["changed"] is False and "failed" not in warned, warned
    assert warned["network"]["cidr"] == cidr, warned["network"]     # the real one, not the requested
    assert warned["network"]["dhcp_start"] == cidr.replace(".0/24", ".2")
    assert warned["drift"] == [{"field": "cidr", "requested": other, "actual": cidr}]
    assert any("network %s" % name in w and "cidr: requested %s, actual %s" % (other, cidr) in w
               for w in warned.get("warnings", [])), warned.get("warnings")
    failed = network({"name": name, "cidr": cidr, "forward_mode": "nat", "on_drift": "fail"})
    assert failed["failed"] is True and failed["msg"].startswith("network %s on qemu:///system exists" % name)
    assert failed["drift"] == [{"field": "forward_mode", "requested": "nat", "actual": "isolated"}]
    assert conn.networkLookupByName(name).XMLDesc(0) == before     # nothing changed
