"""Evacuation (issue 17, item 5), on the bed's three nspawn hosts with real guests: a host cut off
from the network is down; its server is rebuilt on another host from its image with the same
UUID, name, MAC and address, read from the replica the next host keeps of its record; the guest
boots there and takes the same DHCP address; when the host answers again, the next task destroys
its stale copy. Also: refused while the host answers; check mode changes nothing; a rerun is ok."""

import subprocess
import tempfile

from conftest import BED_NETWORK
from helpers import kill_when, run_playbook, start_playbook
from test_bed_faults import _wait_ssh
from test_bed_moves import ACTION_PLAY, SERVER_PLAY, boot, console, data, dhcp_ip, domain_on, index_of, wait_console
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import replica
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

USER_DATA = "#!/bin/sh\necho evacuated-user-data\n"


def evacuate_args(bed, tiny_image, source, **args):
    full = data(bed, tiny_image, "unused", action="evacuate", source_host=source, connect_timeout=5, **args)
    for key in ("name", "image", "nics", "wait_for", "flavor", "flavors"):
        full.pop(key, None)
    full["images"] = data(bed, tiny_image, "unused")["images"]
    return full


def evacuate(bed, tiny_image, source, check=False, **args):
    return run_playbook(ACTION_PLAY, {"args": evacuate_args(bed, tiny_image, source, **args)},
                        check=check).task("action")


def killed_mid_build(bed, tiny_image, source, name, hosts):
    """An evacuation killed (-9) once its build on the destination has begun: the host it was on."""
    def building_on():
        for host in hosts:
            record = domain_on(bed, host, name) or {}
            if record.get("vm_state") == "building" and record.get("task_state") in (
                    "block_device_mapping", "spawning", "networking"):
                return host
        return None
    with tempfile.TemporaryDirectory() as tmp:
        seen = kill_when(start_playbook(tmp, 1, evacuate_args(bed, tiny_image, source, timeout=240),
                                        playbook=ACTION_PLAY), building_on)
    assert seen, "the evacuation never began its build"
    return seen


def replicas_on(bed, host_name):
    conn = bed.conn(index_of(bed, host_name))
    try:
        return replica.read_all(conn, storage.find_pool(conn, "nova_instances"))
    finally:
        conn.close()


def config_drive_user_data(bed, host_name, uuid):
    conn = bed.conn(index_of(bed, host_name))
    try:
        vol = storage.find_volume(storage.find_pool(conn, "nova_instances"), uuid + ".disk.config")
        return configdrive.read_user_data(storage.download_volume(conn, vol))
    finally:
        conn.close()


def test_evacuate_a_host_that_is_down(bed, tiny_image, prefix):
    name = prefix + "e"
    h1, h2, h3 = (h["name"] for h in bed.hosts)
    full = {"ram_allocation_ratio": 0.01}
    first = boot(bed, tiny_image, name, hypervisors=bed.hypervisors(h2=full, h3=full), userdata=USER_DATA,
                 config_drive=True, meta={"role": "web"})["server"]
    assert first["hypervisor_hostname"] == h1
    uuid = first["id"]
    ip = first["addresses"][BED_NETWORK["name"]][0]["addr"]
    mac = first["addresses"][BED_NETWORK["name"]][0]["OS-EXT-IPS-MAC:mac_addr"]

    # the replica of its record is on the next host by name, with its user data
    kept = [d for d in replicas_on(bed, h2) if d["record"]["uuid"] == uuid]
    assert len(kept) == 1 and kept[0]["record"]["host"] == h1 and kept[0]["user_data"] == USER_DATA, kept
    assert domain_on(bed, h1, name)["replica_host"] == h2

    refused = evacuate(bed, tiny_image, h1, server=[name])
    assert refused.get("failed") is True and "Compute service of %s is still in use" % h1 in refused["msg"], refused

    veth = bed.hosts[0]["veth"]
    subprocess.run(["ip", "link", "set", veth, "down"], check=True)
    try:
        planned = evacuate(bed, tiny_image, h1, check=True)
        assert planned.get("failed") is not True, planned.get("msg")
        assert planned["changed"] is True and planned["server"]["action"]["destination"] in (h2, h3), planned
        assert domain_on(bed, h2, name) is None and domain_on(bed, h3, name) is None   # check mode made nothing

        # killed mid-build, then run again: the dead run's copy reaped once its lease ends, built once more
        killed_on = killed_mid_build(bed, tiny_image, h1, name, (h2, h3))
        assert domain_on(bed, killed_on, name)["vm_state"] == "building"
        done = evacuate(bed, tiny_image, h1, timeout=240)
        assert done.get("failed") is not True, done.get("msg")
        assert [h for h in (h2, h3) if domain_on(bed, h, name)] == [done["server"]["hypervisor_hostname"]]
        server = done["server"]
        dest = server["hypervisor_hostname"]
        assert done["changed"] is True and dest in (h2, h3) and server["id"] == uuid and server["name"] == name
        assert server["addresses"][BED_NETWORK["name"]][0]["addr"] == ip
        assert server["migration"]["migration_type"] == "evacuation" and server["migration"]["status"] == "done"
        assert [n["event_type"] for n in done["notifications"]][-2:] == [
            "compute.instance.rebuild.start", "compute.instance.rebuild.end"], done["notifications"]
        record = domain_on(bed, dest, name)
        assert record["active"] and record["vm_state"] == "active" and record["uuid"] == uuid
        assert record["ports"][0]["mac"] == mac and record["ports"][0]["ip"] == ip
        assert record["metadata"] == {"role": "web"} and record["request_spec"]["flavor"]["name"] == "m1.tiny"
        assert config_drive_user_data(bed, dest, uuid) == USER_DATA
        booted = wait_console(bed, dest, uuid, "NOVALITE-DHCP ip=")
        assert dhcp_ip(booted) == ip, booted[-2000:]
        # its replica follows it: on the host after its new one, none left on the old buddy unless that is it
        buddy = h3 if dest == h2 else h2     # the next host by name that answers (h1 does not)
        assert [d["record"]["host"] for d in replicas_on(bed, buddy) if d["record"]["uuid"] == uuid] == [dest]

        again = evacuate(bed, tiny_image, h1, server=[name])
        assert again.get("failed") is not True and again["changed"] is False, again
        assert again["server"]["hypervisor_hostname"] == dest
    finally:
        subprocess.run(["ip", "link", "set", veth, "up"], check=True)
    _wait_ssh(bed, bed.hosts[0])

    # h1 answers again: the next task that reaches it destroys its stale copy (never started)
    rerun = run_playbook(SERVER_PLAY, {"args": data(bed, tiny_image, name, userdata=USER_DATA, config_drive=True,
                                                    meta={"role": "web"})}).task("server")
    assert rerun.get("failed") is not True and rerun["changed"] is False, rerun.get("msg")
    assert rerun["server"]["hypervisor_hostname"] == dest and rerun["server"]["id"] == uuid
    assert domain_on(bed, h1, name) is None
    assert [e for e in bed.leftovers(name) if e.startswith(h1 + ":")] == []
    assert domain_on(bed, dest, name)["migration"]["status"] == "completed"
    assert "NOVALITE-GUEST-BOOTED" in console(bed, dest, uuid)

    # deleted: nothing of it anywhere, its replica gone too
    gone = run_playbook(SERVER_PLAY, {"args": data(bed, tiny_image, name, state="absent")}).task("server")
    assert gone.get("failed") is not True, gone.get("msg")
    assert bed.leftovers(name) == []
    assert [d for h in (h1, h2, h3) for d in replicas_on(bed, h) if d["record"]["uuid"] == uuid] == []
