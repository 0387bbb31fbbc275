"""A resize on the server's own host (allow_resize_to_same_host, issue 17 item 2), on the real local
libvirtd, the only hypervisor: powered off, its root disk kept aside and grown, started with the new
flavor from its own disk (a label written into its overlay before shows at boot); revert puts back the
old disk and flavor; confirm drops what was kept; a flavor adding a swap disk is refused there; a
run killed mid-resize is rolled back by the next one."""

import subprocess
import tempfile
import uuid as uuidlib

from helpers import SERVER_PLAY, kill_when, run_playbook, start_playbook
from test_local_server_actions import ACTION_PLAY, Server
from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

GROW = {"name": "m1.grow", "vcpus": 1, "ram": 256, "disk": 2}
WITH_SWAP = {"name": "m1.swap", "vcpus": 1, "ram": 256, "disk": 2, "swap": 64}


def label(server):
    """NOVALITE-LABEL:<unique> in the first sector of the root overlay (powered off for the write)."""
    text = "own" + uuidlib.uuid4().hex[:8]
    dom = server.dom()
    dom.destroy()
    path = "%s/%s.disk" % (server.hv.pool_path, server.uuid)
    with tempfile.NamedTemporaryFile() as sector:
        sector.write(("NOVALITE-LABEL:%s\n" % text).encode().ljust(512, b"\0"))
        sector.flush()
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -s %s 0 512" % sector.name, path],
                       check=True, capture_output=True)
    mark = len(server.console())
    dom.create()
    server.wait_console("NOVALITE-DISK vda %s" % text, since=mark)
    return text


def root_gb(server):
    pool = storage.find_pool(server.conn, server.hv.pool_name)
    return int(storage.find_volume(pool, server.uuid + ".disk").info()[1]) // units.Gi


def kept(server):
    pool = storage.find_pool(server.conn, server.hv.pool_name)
    pool.refresh(0)
    return sorted(v.name() for v in pool.listAllVolumes(0) if v.name().endswith(".resize"))


def test_resize_on_the_same_host_then_revert_and_confirm(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    server.args["flavors"] = server.args["flavors"] + [GROW, WITH_SWAP]
    flavors = server.args["flavors"]
    try:
        server.create()
        own = label(server)
        refused = server.act("resize", flavor="m1.grow", flavors=flavors)     # no other host, same host not allowed
        assert refused.get("failed") is True and "ignore_hosts" in refused["msg"], refused.get("msg")
        swap = server.act("resize", flavor="m1.swap", flavors=flavors, allow_resize_to_same_host=True)
        assert swap.get("failed") is True and "adds a swap disk" in swap["msg"], swap.get("msg")
        planned = server.act("resize", flavor="m1.grow", flavors=flavors, allow_resize_to_same_host=True, check=True)
        assert planned["changed"] is True and server.dom().maxMemory() == 192 * 1024 and kept(server) == []

        mark = len(server.console())
        resized = server.act("resize", flavor="m1.grow", flavors=flavors, allow_resize_to_same_host=True)
        assert resized.get("failed") is not True, resized.get("msg")
        view = resized["server"]
        assert (view["status"], view["hypervisor_hostname"], view["flavor"]["name"]) == (
            "VERIFY_RESIZE", "local", "m1.grow")
        assert view["migration"]["source_compute"] == view["migration"]["dest_compute"] == "local"
        assert server.dom().maxMemory() == 256 * 1024 and root_gb(server) == 2
        assert kept(server) == [server.uuid + ".disk.resize"]
        server.wait_console("NOVALITE-DISK vda %s" % own, since=mark)
        record = instance_record.read_record(server.dom())
        assert record["vm_state"] == "resized" and record["request_spec"]["flavor"]["name"] == "m1.grow"

        mark = len(server.console())
        reverted = server.act("revert_resize")
        assert reverted.get("failed") is not True, reverted.get("msg")
        assert reverted["server"]["status"] == "ACTIVE" and reverted["server"]["flavor"]["name"] == "m1.tiny"
        assert server.dom().maxMemory() == 192 * 1024 and root_gb(server) == 1 and kept(server) == []
        server.wait_console("NOVALITE-DISK vda %s" % own, since=mark)
        assert reverted["server"]["migration"]["status"] == "reverted"

        confirmed = server.act("resize", flavor="m1.grow", flavors=flavors, allow_resize_to_same_host=True,
                               auto_confirm=True)
        assert confirmed.get("failed") is not True, confirmed.get("msg")
        assert confirmed["server"]["status"] == "ACTIVE" and confirmed["server"]["migration"]["status"] == "confirmed"
        assert root_gb(server) == 2 and kept(server) == []
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_same_host_resize_killed_then_rolled_back(conn, local_hv, tiny_image, tmp_path):
    """kill -9 once the disks are kept and grown (resize_migrated or later, before the domain is
    defined again): the next run (the lease over) puts the old disk and flavor back."""
    server = Server(conn, local_hv, tiny_image, tmp_path, suffix="k")
    server.args["flavors"] = server.args["flavors"] + [GROW]
    try:
        server.create()
        args = dict(server=server.name, action="resize", flavor="m1.grow", flavors=server.args["flavors"],
                    allow_resize_to_same_host=True, hypervisors=[local_hv.config()], timeout=240)
        with tempfile.TemporaryDirectory() as tmp:
            seen = kill_when(start_playbook(tmp, 1, args, playbook=ACTION_PLAY), lambda: (
                instance_record.read_record(server.dom()) or {}).get("task_state") in (
                    "resize_migrating", "resize_migrated"))
        assert seen, "the resize never reached resize_migrating"
        rerun = run_playbook(SERVER_PLAY, {"args": dict(server.args, timeout=240)}).task("server")
        assert rerun.get("failed") is not True, rerun.get("msg")
        record = instance_record.read_record(server.dom())
        assert record["flavor"]["name"] == "m1.tiny" and record["vm_state"] == "active", record
        assert record["migration"]["status"] == "error" and record["task_state"] in (None, "")
        assert server.dom().isActive() and server.dom().maxMemory() == 192 * 1024
        assert root_gb(server) == 1 and kept(server) == []
    finally:
        server.delete()
    assert local_hv.leftovers() == []
