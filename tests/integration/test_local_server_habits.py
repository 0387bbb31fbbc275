"""openstack.cloud.server's habits (issue 15, item 4) and drift (item 5), through ansible-playbook
on the real local libvirtd: a server made with `network:`, `meta` and `user_data`, found by
nova_server_info and deleted by its UUID; a rerun that asks for another flavor, key pair and
user data is ok with the drift reported and a warning, in check mode too; with on_drift: fail it
fails naming the fields and changes nothing (not even the metadata asked for)."""

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

INFO_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: info
      novalite.compute.nova_server_info: "{{ args }}"
"""


def server(args, check=False):
    return run_playbook(SERVER_PLAY, {"args": args}, check=check).task("server")


def test_network_meta_user_data_and_delete_by_uuid(conn, local_hv, tiny_image):
    hv = local_hv
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "habits", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                network=hv.network, meta={"role": "web"}, user_data="#!/bin/sh\necho habits\n")
    try:
        made = server(args)
        assert made.get("failed") is not True, made.get("msg")
        assert made["changed"] is True
        assert list(made["server"]["addresses"]) == [hv.network]
        assert made["server"]["metadata"] == {"role": "web"} and made["server"]["drift"] == []
        uuid = made["server"]["id"]
        record = instance_record.read_record(conn.lookupByName(hv.prefix + "habits"))
        assert record["user_data_digest"].startswith("pbkdf2-sha256$") and "habits" not in record["user_data_digest"]

        # network and nics together are refused, naming network, before anything is made.
        both = server(dict(args, name=hv.prefix + "both", nics=[hv.network]))
        assert both["failed"] is True and both["msg"].startswith("network:"), both["msg"]
        # A UUID no server has is not a name a server is created with.
        ghost = server(dict(args, name="0b6f0f1e-0000-4000-8000-000000000000"))
        assert ghost["failed"] is True and ghost["msg"].startswith("name:"), ghost["msg"]

        # The UUID stands for the name: nova_server_info and nova_server (present: the same server).
        shown = run_playbook(INFO_PLAY, {"args": {"name": uuid, "hypervisors": [hv.config()]}}).task("info")
        assert [s["name"] for s in shown["servers"]] == [hv.prefix + "habits"]
        again = server(dict(args, name=uuid))
        assert again["changed"] is False and again["server"]["id"] == uuid and again["server"]["drift"] == []

        planned = server(dict(args, name=uuid, state="absent"), check=True)
        assert planned["changed"] is True and [s["id"] for s in planned["servers"]] == [uuid]
        gone = server(dict(args, name=uuid, state="absent"))
        assert gone["changed"] is True and [s["status"] for s in gone["servers"]] == ["DELETED"]
        assert hv.prefix + "habits" not in [dom.name() for dom in conn.listAllDomains()]
        assert server(dict(args, name=uuid, state="absent"))["changed"] is False
    finally:
        server(dict(args, state="absent"))
    assert hv.leftovers() == []


def test_drift_is_reported_warned_or_failed_and_nothing_changes(conn, local_hv, tiny_image):
    hv = local_hv
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "drift", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[hv.network], key_name="ops", userdata="first", metadata={"role": "web"})
    try:
        made = server(args)
        assert made.get("failed") is not True, made.get("msg")
        before = conn.lookupByName(hv.prefix + "drift").XMLDesc(0)
        other = dict(args, flavor="m1.small", userdata="second")
        del other["key_name"]
        fields = ["flavor", "key_name", "user_data"]

        for check in (True, False):
            rerun = server(other, check=check)
            assert rerun.get("failed") is not True, rerun.get("msg")
            assert rerun["changed"] is False, check
            assert [item["field"] for item in rerun["server"]["drift"]] == fields, rerun["server"]["drift"]
            assert rerun["server"]["drift"][0] == {"field": "flavor", "requested": "m1.small", "actual": "m1.tiny"}
            assert rerun["server"]["flavor"]["name"] == "m1.tiny"
            assert "second" not in repr(rerun["server"]["drift"]) and "first" not in repr(rerun)
            assert any("differs from the request in flavor (requested 'm1.small', actual 'm1.tiny')" in warning
                       for warning in rerun.get("warnings", [])), rerun.get("warnings")

        # on_drift: fail - failed naming the fields; nothing changed, not even the metadata asked for.
        for check in (True, False):
            refused = server(dict(other, on_drift="fail", metadata={"role": "db"}), check=check)
            assert refused["failed"] is True and refused["changed"] is False, refused
            assert refused["msg"].startswith("on_drift: server %sdrift differs from the request in flavor"
                                             % hv.prefix), refused["msg"]
            for field in fields:
                assert field in refused["msg"]
            assert [item["field"] for item in refused["drift"][hv.prefix + "drift"]] == fields
        dom = conn.lookupByName(hv.prefix + "drift")
        assert instance_record.read_record(dom)["metadata"] == {"role": "web"}
        assert dom.XMLDesc(0) == before

        # The same request as the build: no drift, no warning.
        same = server(args)
        assert same["changed"] is False and same["server"]["drift"] == []
        assert not [warning for warning in same.get("warnings", []) if "differs" in warning], same["warnings"]
    finally:
        server(dict(args, state="absent"))
    assert hv.leftovers() == []
