"""nova_server_action on the real local libvirtd with real tiny guests (issue 16): each action's
task_states, its result, its notifications and the console's account of what happened; the
idempotent reruns; check mode; the refusals, before anything changes. Real ansible-playbook runs."""

import json
import os
import re
import subprocess
import time

from conftest import catalog
from helpers import PYTHON, SERVER_PLAY, ansible_env, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

ACTION_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: action
      novalite.compute.nova_server_action: "{{ args }}"
      ignore_errors: true
"""


class Server:
    """One server on the test's own pool and network, and nova_server_action against it."""

    def __init__(self, conn, hv, tiny_image, tmp, suffix="s"):
        self.conn, self.hv, self.tiny = conn, hv, tiny_image
        self.name = hv.prefix + suffix
        self.notifications = os.path.join(str(tmp), "notifications-%s.jsonl" % suffix)
        self.args = catalog(tiny_image)
        self.args.update(name=self.name, image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                         nics=[{"net-name": hv.network}])

    def create(self):
        made = run_playbook(SERVER_PLAY, {"args": self.args}).task("server")
        assert made["server"]["status"] == "ACTIVE", made.get("msg")
        self.uuid = made["server"]["id"]
        return made

    def act(self, action, check=False, **extra):
        args = dict(server=self.name, action=action, hypervisors=[self.hv.config()],
                    notifications_file=self.notifications, shutdown_timeout=20, timeout=120)
        args.update(extra)
        return run_playbook(ACTION_PLAY, {"args": args}, check=check).task("action")

    def dom(self):
        return self.conn.lookupByName(self.name)

    def console(self):
        with open(os.path.join(self.hv.pool_path, self.uuid + ".console.log"), "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def wait_console(self, pattern, since=0, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.console()[since:]
            if re.search(pattern, text):
                return text
            time.sleep(0.3)
        raise AssertionError("no %r on the console after offset %d:\n%s" % (pattern, since, self.console()[-2000:]))

    def events(self):
        with open(self.notifications) as handle:
            return [json.loads(line)["event_type"] for line in handle]

    def delete(self):
        run_playbook(SERVER_PLAY, {"args": dict(self.args, state="absent", override_lock=True)})


def ticks(text):
    return [int(n) for n in re.findall(r"NOVALITE-TICK (\d+)", text)]


def test_stop_start_reboot_with_states_notifications_console_and_idempotence(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        server.wait_console("NOVALITE-TICK 1")
        # check mode says what would happen, and changes nothing
        would = server.act("stop", check=True)
        assert would["changed"] is True and would["server"]["action"] == {"name": "stop", "changed": True}
        assert server.dom().isActive() == 1 and not os.path.exists(server.notifications)

        stopped = server.act("stop")
        assert stopped["changed"] is True, stopped.get("msg")
        assert (stopped["server"]["status"], stopped["server"]["vm_state"], stopped["server"]["task_state"],
                stopped["server"]["power_state"]) == ("SHUTOFF", "stopped", None, 4)
        # the guest shut down by itself on the ACPI power button, before the plug
        assert stopped["server"]["action"]["clean_shutdown"] is True
        assert "NOVALITE-ACPI-POWEROFF" in server.console()
        assert server.dom().isActive() == 0
        assert [e["event_type"] for e in stopped["notifications"]] == [
            "compute.instance.power_off.start", "compute.instance.power_off.end"]
        assert stopped["notifications"][0]["payload"]["state_description"] == "powering-off"
        assert server.events() == ["compute.instance.power_off.start", "compute.instance.power_off.end"]
        # idempotent: stopped already
        again = server.act("stop")
        assert again["changed"] is False and again["notifications"] == [] and again["server"]["status"] == "SHUTOFF"
        # nova_server and nova_server_info see it SHUTOFF too
        info = run_playbook(INFO_PLAY, {"args": {"name": server.name, "hypervisors": [local_hv.config()]}}).task("info")
        assert info["servers"][0]["status"] == "SHUTOFF"
        assert inventory_status(local_hv, tmp_path, server.name) == "SHUTOFF"

        mark = len(server.console())
        started = server.act("start")
        assert started["changed"] is True and started["server"]["status"] == "ACTIVE", started.get("msg")
        assert [e["event_type"] for e in started["notifications"]] == [
            "compute.instance.power_on.start", "compute.instance.power_on.end"]
        assert started["notifications"][0]["payload"]["state_description"] == "powering-on"
        server.wait_console("NOVALITE-GUEST-BOOTED", since=mark)
        assert server.act("start")["changed"] is False
        assert inventory_status(local_hv, tmp_path, server.name) == "ACTIVE"

        # a soft reboot: the ACPI shutdown, then a second boot
        server.wait_console("NOVALITE-TICK 1", since=mark)
        mark = len(server.console())
        rebooted = server.act("reboot")
        assert rebooted["changed"] is True, rebooted.get("msg")
        assert rebooted["server"]["action"]["reboot_type"] == "soft"
        assert rebooted["server"]["status"] == "ACTIVE"
        assert [e["event_type"] for e in rebooted["notifications"]] == [
            "compute.instance.reboot.start", "compute.instance.reboot.end"]
        text = server.wait_console("NOVALITE-GUEST-BOOTED", since=mark)
        assert "NOVALITE-ACPI-POWEROFF" in text
        # a hard reboot: no shutdown asked of the guest, a boot again
        server.wait_console("NOVALITE-TICK 1", since=mark)
        mark = len(server.console())
        hard = server.act("reboot", reboot_type="hard")
        assert hard["changed"] is True and hard["server"]["action"]["reboot_type"] == "hard", hard.get("msg")
        text = server.wait_console("NOVALITE-GUEST-BOOTED", since=mark)
        assert "NOVALITE-ACPI-POWEROFF" not in text
        assert server.console().count("NOVALITE-GUEST-BOOTED") == 4  # built, started, two reboots
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def inventory_status(hv, tmp_path, name):
    """The server's nova_status in the nova inventory plugin's ansible-inventory --list."""
    source = tmp_path / "nova.yml"
    source.write_text(json.dumps({"plugin": "novalite.compute.nova", "storage_pool": hv.pool_name,
                                  "hypervisors": [{"name": "local", "uri": "qemu:///system"}]}))
    proc = subprocess.run([os.path.join(os.path.dirname(PYTHON), "ansible-inventory"), "-i", str(source), "--list"],
                          capture_output=True, text=True, env=ansible_env(), check=True)
    data = json.loads(proc.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d))
    return data["_meta"]["hostvars"][name]["nova_status"]


INFO_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: info
      novalite.compute.nova_server_info: "{{ args }}"
"""


def test_soft_reboot_falls_back_to_hard_when_the_guest_does_not_shut_down(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        # pressed before acpid runs (the guest's first second), and no longer given time: hard
        mark = len(server.console())
        rebooted = server.act("reboot", shutdown_timeout=0)
        assert rebooted["changed"] is True and rebooted["server"]["action"]["reboot_type"] == "hard", rebooted
        server.wait_console("NOVALITE-GUEST-BOOTED", since=mark)
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_pause_unpause_suspend_resume_keep_the_guest_counting(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        server.wait_console("NOVALITE-TICK 2")
        paused = server.act("pause")
        assert paused["changed"] is True and (paused["server"]["status"], paused["server"]["power_state"]) == (
            "PAUSED", 3), paused.get("msg")
        assert [e["event_type"] for e in paused["notifications"]] == [
            "compute.instance.pause.start", "compute.instance.pause.end"]
        assert paused["notifications"][0]["payload"]["state_description"] == "pausing"
        assert server.act("pause")["changed"] is False
        before = ticks(server.console())
        time.sleep(4)
        assert ticks(server.console()) == before  # paused: not counting
        unpaused = server.act("unpause")
        assert unpaused["changed"] is True and unpaused["server"]["status"] == "ACTIVE"
        server.wait_console("NOVALITE-TICK %d " % (before[-1] + 1))
        assert server.act("unpause")["changed"] is False

        suspended = server.act("suspend")
        assert suspended["changed"] is True, suspended.get("msg")
        assert (suspended["server"]["status"], suspended["server"]["vm_state"]) == ("SUSPENDED", "suspended")
        assert server.dom().isActive() == 0 and server.dom().hasManagedSaveImage(0) == 1
        assert [e["event_type"] for e in suspended["notifications"]] == [
            "compute.instance.suspend.start", "compute.instance.suspend.end"]
        assert server.act("suspend")["changed"] is False
        info = run_playbook(INFO_PLAY, {"args": {"name": server.name, "hypervisors": [local_hv.config()]}}).task("info")
        assert info["servers"][0]["status"] == "SUSPENDED"
        before = ticks(server.console())
        resumed = server.act("resume")
        assert resumed["changed"] is True and resumed["server"]["status"] == "ACTIVE", resumed.get("msg")
        assert resumed["server"]["task_state"] is None
        assert [e["event_type"] for e in resumed["notifications"]] == [
            "compute.instance.resume.start", "compute.instance.resume.end"]
        server.wait_console("NOVALITE-TICK %d " % (before[-1] + 1))
        # it went on: one boot only, the counter never started again
        counted = ticks(server.console())
        assert server.console().count("NOVALITE-GUEST-BOOTED") == 1
        assert counted == list(range(1, len(counted) + 1))
        assert server.act("resume")["changed"] is False
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_refusals_change_nothing(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        assert server.act("stop", shutdown_timeout=0)["changed"] is True
        refused = server.act("pause")
        assert refused.get("failed") is True
        assert refused["msg"] == "Cannot 'pause' instance %s while it is in vm_state stopped" % server.name
        soft = server.act("reboot")
        assert soft["msg"] == "Cannot 'reboot' instance %s while it is in vm_state stopped" % server.name
        assert server.act("suspend")["msg"] == "Cannot 'suspend' instance %s while it is in vm_state stopped" % server.name

        locked = server.act("lock")
        assert locked["changed"] is True and locked["server"]["locked"] is True
        assert [e["event_type"] for e in locked["notifications"]] == ["compute.instance.lock"]
        assert server.act("lock")["changed"] is False
        for action in ("start", "reboot", "stop"):
            refused = server.act(action, reboot_type="hard")
            if action == "stop":  # stopped already: nothing to refuse
                assert refused["changed"] is False and not refused.get("failed")
                continue
            assert refused.get("failed") is True and refused["msg"].startswith(
                "Instance %s is locked" % server.name), refused["msg"]
        assert server.dom().isActive() == 0
        # delete of a locked server is refused too, naming the way out
        deleted = run_playbook(SERVER_PLAY, {"args": dict(server.args, state="absent")}).task("server")
        assert deleted.get("failed") is True and "is locked" in deleted["msg"]
        assert server.dom().isActive() == 0
        # and so is a change of its metadata (Nova's update_instance_metadata checks the lock)
        tagged = run_playbook(SERVER_PLAY, {"args": dict(server.args, meta={"role": "x"})}).task("server")
        assert tagged.get("failed") is True and "is locked" in tagged["msg"], tagged.get("msg")
        assert "role" not in (instance_record.read_record(server.dom()).get("metadata") or {})
        same = run_playbook(SERVER_PLAY, {"args": server.args}).task("server")       # nothing to change: ok
        assert same.get("failed") is not True and same["changed"] is False, same.get("msg")
        # the caller's override passes
        forced = server.act("start", override_lock=True)
        assert forced["changed"] is True and forced["server"]["status"] == "ACTIVE", forced.get("msg")
        unlocked = server.act("unlock")
        assert unlocked["changed"] is True and unlocked["server"]["locked"] is False
        assert server.act("unlock")["changed"] is False
        # an admin's lock (taken with the override) is removed only with it
        server.act("lock", override_lock=True)
        assert "locked by admin" in server.act("unlock")["msg"]
        assert server.act("unlock", override_lock=True)["changed"] is True

        # bad input names the field, before anything is read
        assert "shutdown_timeout" in server.act("stop", shutdown_timeout=-1)["msg"]
        assert "length" in server.act("console_output", length=-5)["msg"]
        missing = server.act("stop", server=[server.name, local_hv.prefix + "nope"])
        assert missing.get("failed") is True and local_hv.prefix + "nope" in missing["msg"]
        assert server.dom().isActive() == 1  # the one that exists was not stopped either
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_console_output_through_the_module_and_server_info(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        server.wait_console("NOVALITE-TICK 1")
        out = server.act("console_output", length=3)
        assert out["changed"] is False and not out.get("failed"), out.get("msg")
        lines = out["console_output"].splitlines()
        assert len(lines) == 3 and lines == server.console().splitlines()[-3:][:3] or lines[-1].startswith(
            "NOVALITE-TICK")
        whole = server.act("console_output")["console_output"]
        assert "NOVALITE-GUEST-BOOTED" in whole and "NOVALITE-CONFIG-DRIVE uuid=%s" % server.uuid in whole
        by_uuid = server.act("console_output", server=server.uuid, length=1)
        assert by_uuid["server"]["name"] == server.name and len(by_uuid["console_output"].splitlines()) == 1
        info = run_playbook(INFO_PLAY, {"args": {"name": server.name, "hypervisors": [local_hv.config()],
                                                 "console_output": True, "console_length": 2}}).task("info")
        assert len(info["servers"][0]["console_output"].splitlines()) == 2, info
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_many_servers_one_task(conn, local_hv, tiny_image, tmp_path):
    one = Server(conn, local_hv, tiny_image, tmp_path, "a")
    two = Server(conn, local_hv, tiny_image, tmp_path, "b")
    try:
        one.create()
        two.create()
        assert one.act("pause")["changed"] is True
        both = one.act("pause", server=[one.name, two.uuid])
        assert both["changed"] is True and [s["action"]["changed"] for s in both["servers"]] == [False, True]
        assert [s["status"] for s in both["servers"]] == ["PAUSED", "PAUSED"]
        # stop is not allowed while paused, as in Nova
        assert one.act("stop")["msg"] == "Cannot 'stop' instance %s while it is in vm_state paused" % one.name
        # one refusal stops all: neither is touched
        assert one.act("unpause")["changed"] is True
        assert one.act("stop", shutdown_timeout=0)["changed"] is True
        mixed = one.act("unpause", server=[two.name, one.name])
        assert mixed.get("failed") is True and "vm_state stopped" in mixed["msg"]
        assert two.dom().state()[0] == 3  # still paused
    finally:
        one.delete()
        two.delete()
    assert local_hv.leftovers() == []


def qemu_io(path, command):
    return subprocess.run(["qemu-io", "-f", "qcow2", "-c", command, path], capture_output=True, text=True,
                          check=False)


def test_rebuild_on_a_second_image_keeps_the_server_and_boots_it(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    images_dir = os.path.dirname(tiny_image["root"])
    tiny = next(i for i in server.args["images"] if i["name"] == "tiny")
    server.args["images"] += [dict(tiny, name="tiny-v2", file=os.path.join(images_dir, "tiny-root-v2.qcow2")),
                              dict(tiny, name="tiny-arm", properties={"architecture": "aarch64"})]
    server.args.update(user_data="#first", metadata={"role": "web"}, flavor="m1.small")
    try:
        made = server.create()["server"]
        text = server.wait_console("NOVALITE-TICK 1")
        assert "NOVALITE-DISK vda tiny\n" in text.replace("\r", "") and "NOVALITE-USER-DATA #first" in text
        rebuild = dict(images=server.args["images"])
        # a refusal names the filter and changes nothing
        refused = server.act("rebuild", image="tiny-arm", **rebuild)
        assert refused.get("failed") is True and "ImagePropertiesFilter" in refused["msg"], refused["msg"]
        assert "aarch64" in refused["msg"] and server.console().count("NOVALITE-GUEST-BOOTED") == 1
        assert "image: 'nope' is not in the images catalog" in server.act("rebuild", image="nope", **rebuild)["msg"]
        assert "only applies with action=rebuild" in server.act("stop", image="tiny-v2", **rebuild)["msg"]
        would = server.act("rebuild", check=True, image="tiny-v2", **rebuild)
        assert would["changed"] is True and server.console().count("NOVALITE-GUEST-BOOTED") == 1

        mark = len(server.console())
        done = server.act("rebuild", image="tiny-v2", **rebuild)
        assert done["changed"] is True, done.get("msg")
        after = done["server"]
        assert (after["id"], after["name"], after["addresses"], after["flavor"]) == (
            made["id"], made["name"], made["addresses"], made["flavor"])
        assert (after["image"]["name"], after["status"], after["task_state"]) == ("tiny-v2", "ACTIVE", None)
        assert after["metadata"] == {"role": "web"}
        assert [e["event_type"] for e in done["notifications"]] == [
            "compute.instance.rebuild.start", "compute.instance.rebuild.end"]
        assert done["notifications"][0]["payload"]["state_description"] == "rebuilding"
        text = server.wait_console("NOVALITE-TICK 1 ", since=mark)
        assert "NOVALITE-DISK vda tiny-v2" in text and "NOVALITE-GUEST-BOOTED" in text
        # the config drive again: the same server, the user data it had
        assert "NOVALITE-CONFIG-DRIVE uuid=%s" % made["id"] in text and "NOVALITE-USER-DATA #first" in text
        assert "NOVALITE-DHCP ip=%s" % made["addresses"][local_hv.network][0]["addr"] in text

        # stopped, the ephemeral disk marked; rebuilt with new user data and metadata, preserving it
        assert server.act("stop", shutdown_timeout=0)["changed"] is True
        eph = os.path.join(local_hv.pool_path, made["id"] + ".disk.eph0")
        assert qemu_io(eph, "write -P 0x5a 0 4k").returncode == 0
        kept = server.act("rebuild", image="tiny", user_data="#second", metadata={"role": "db"},
                          preserve_ephemeral=True, **rebuild)
        assert kept["changed"] is True, kept.get("msg")
        assert (kept["server"]["status"], kept["server"]["image"]["name"], kept["server"]["metadata"]) == (
            "SHUTOFF", "tiny", {"role": "db"})
        assert server.dom().isActive() == 0
        assert "pattern verification failed" not in qemu_io(eph, "read -P 0x5a 0 4k").stdout.lower()
        mark = len(server.console())
        assert server.act("start")["changed"] is True
        text = server.wait_console("NOVALITE-TICK 1 ", since=mark)
        assert "NOVALITE-USER-DATA #second" in text and "NOVALITE-DISK vda tiny\n" in text.replace("\r", "")
        # nova_server sees the new user data and image as the server's: no drift for them
        again = run_playbook(SERVER_PLAY, {"args": dict(server.args, user_data="#second", metadata={"role": "db"},
                                                        image="tiny")}).task("server")
        assert again["changed"] is False and again["server"]["drift"] == [], again["server"]["drift"]
        # without preserve_ephemeral, the ephemeral disk is made anew
        assert server.act("stop", shutdown_timeout=0)["changed"] is True
        assert qemu_io(eph, "write -P 0x5a 0 4k").returncode == 0
        assert server.act("rebuild", **rebuild)["changed"] is True
        assert "pattern verification failed" in qemu_io(eph, "read -P 0x5a 0 4k").stdout.lower()
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def test_rescue_boots_the_rescue_image_with_the_root_disk_then_unrescue(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    images_dir = os.path.dirname(tiny_image["root"])
    tiny = next(i for i in server.args["images"] if i["name"] == "tiny")
    server.args["images"].append(dict(tiny, name="tiny-rescue", file=os.path.join(images_dir, "tiny-root-rescue.qcow2")))
    images = dict(images=server.args["images"])
    try:
        made = server.create()["server"]
        server.wait_console("NOVALITE-TICK 1")
        assert server.act("unrescue")["changed"] is False  # active already: where unrescue leads
        mark = len(server.console())
        rescued = server.act("rescue", image="tiny-rescue", **images)
        assert rescued["changed"] is True, rescued.get("msg")
        assert (rescued["server"]["status"], rescued["server"]["vm_state"], rescued["server"]["task_state"]) == (
            "RESCUE", "rescued", None)
        assert [e["event_type"] for e in rescued["notifications"]] == [
            "compute.instance.rescue.start", "compute.instance.rescue.end"]
        assert rescued["notifications"][0]["payload"]["state_description"] == "rescuing"
        text = server.wait_console("NOVALITE-TICK 1 ", since=mark)
        # the rescue image boots from vda; the server's own root disk is there, as vdb
        assert "NOVALITE-DISK vda tiny-rescue" in text and "NOVALITE-DISK vdb tiny\n" in text.replace("\r", "")
        assert "NOVALITE-CONFIG-DRIVE uuid=%s" % made["id"] in text
        assert server.act("rescue", image="tiny-rescue", **images)["changed"] is False
        # what a rescued server refuses, as in Nova
        assert "while it is in vm_state rescued" in server.act("pause")["msg"]
        assert "while it is in vm_state rescued" in server.act("reboot", reboot_type="hard")["msg"]
        info = run_playbook(INFO_PLAY, {"args": {"name": server.name, "hypervisors": [local_hv.config()]}}).task("info")
        assert info["servers"][0]["status"] == "RESCUE"
        # its persistent definition is still the server's own
        assert "disk.rescue" not in server.dom().XMLDesc(2)  # VIR_DOMAIN_XML_INACTIVE

        mark = len(server.console())
        back = server.act("unrescue")
        assert back["changed"] is True and back["server"]["status"] == "ACTIVE", back.get("msg")
        assert [e["event_type"] for e in back["notifications"]] == [
            "compute.instance.unrescue.start", "compute.instance.unrescue.end"]
        text = server.wait_console("NOVALITE-TICK 1 ", since=mark)
        assert "NOVALITE-DISK vda tiny\n" in text.replace("\r", "") and "tiny-rescue" not in text
        assert not os.path.exists(os.path.join(local_hv.pool_path, made["id"] + ".disk.rescue"))
        assert server.act("unrescue")["changed"] is False
        # the default rescue image is the server's own; stop ends a rescue
        assert server.act("rescue", **images)["changed"] is True
        stopped = server.act("stop", shutdown_timeout=5)
        assert stopped["server"]["status"] == "SHUTOFF", stopped.get("msg")
        assert not os.path.exists(os.path.join(local_hv.pool_path, made["id"] + ".disk.rescue"))
        assert "disk.rescue" not in server.dom().XMLDesc(0)
    finally:
        server.delete()
    assert local_hv.leftovers() == []
