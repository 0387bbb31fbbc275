"""nova_server_action on the test bed's remote hypervisors (qemu+ssh), issue 16 item 7: the actions
and the console read through libvirt from the remote host; a rebuild booting the second image
variant; two runs racing on one server; a run SIGKILLed in the middle of a stop and of a rebuild,
then run again once its lease is over. Nothing is left on any host."""

import os
import time

from conftest import BED_NETWORK, catalog
from helpers import FACTS_PLAY, SERVER_PLAY, kill_playbook, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

ACTION_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: action
      novalite.compute.nova_server_action: "{{ args }}"
      ignore_errors: true
"""


def images(tiny_image):
    data = catalog(tiny_image)
    tiny = next(i for i in data["images"] if i["name"] == "tiny")
    data["images"].append(dict(tiny, name="tiny-v2",
                               file=os.path.join(os.path.dirname(tiny_image["root"]), "tiny-root-v2.qcow2")))
    return data


def create(bed, tiny_image, name):
    args = dict(images(tiny_image), name=name, image="tiny", flavor="m1.tiny", hypervisors=bed.hypervisors(),
                nics=[{"net-name": BED_NETWORK["name"]}], timeout=120)
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert made["server"]["status"] == "ACTIVE", made.get("msg")
    return args, made["server"]


def act(bed, tiny_image, server, action, **extra):
    args = dict(server=server, action=action, hypervisors=bed.hypervisors(), images=images(tiny_image)["images"],
                shutdown_timeout=30, timeout=120)
    args.update(extra)
    return run_playbook(ACTION_PLAY, {"args": args}).task("action")


def console_until(bed, tiny_image, name, text, boots=1, timeout=90):
    """The console (read through nova_server_action) once `text` shows after the last of `boots` boots."""
    deadline = time.monotonic() + timeout
    while True:
        out = act(bed, tiny_image, name, "console_output")["console_output"]
        done = out.count("NOVALITE-GUEST-BOOTED") >= boots and text in out.rsplit("NOVALITE-GUEST-BOOTED", 1)[-1]
        if done or time.monotonic() > deadline:
            return out
        time.sleep(2)


def host_index(bed, host):
    return [h["name"] for h in bed.hosts].index(host) + 1


def record_of(bed, host, name):
    conn = bed.conn(host_index(bed, host))
    try:
        return instance_record.read_record(conn.lookupByName(name))
    finally:
        conn.close()


def test_actions_and_console_on_a_remote_hypervisor(bed, prefix, tiny_image):
    name = prefix + "act"
    args, server = create(bed, tiny_image, name)
    out = console_until(bed, tiny_image, name, "NOVALITE-TICK 1")
    assert "NOVALITE-CONFIG-DRIVE uuid=%s" % server["id"] in out
    stopped = act(bed, tiny_image, name, "stop")
    assert stopped["changed"] is True and stopped["server"]["status"] == "SHUTOFF", stopped.get("msg")
    assert stopped["server"]["action"]["clean_shutdown"] is True
    assert act(bed, tiny_image, name, "stop")["changed"] is False
    assert act(bed, tiny_image, name, "start")["server"]["status"] == "ACTIVE"
    out = console_until(bed, tiny_image, name, "NOVALITE-TICK 1 uptime", boots=2)
    assert out.count("NOVALITE-GUEST-BOOTED") == 2 and "NOVALITE-ACPI-POWEROFF" in out
    suspended = act(bed, tiny_image, name, "suspend")
    assert suspended["server"]["status"] == "SUSPENDED", suspended.get("msg")
    assert act(bed, tiny_image, name, "resume")["server"]["status"] == "ACTIVE"
    rebuilt = act(bed, tiny_image, name, "rebuild", image="tiny-v2")
    assert rebuilt["changed"] is True, rebuilt.get("msg")
    assert (rebuilt["server"]["id"], rebuilt["server"]["hypervisor_hostname"], rebuilt["server"]["addresses"]) == (
        server["id"], server["hypervisor_hostname"], server["addresses"])
    out = console_until(bed, tiny_image, name, "NOVALITE-DISK vda tiny-v2", boots=3)
    assert "NOVALITE-DISK vda tiny-v2" in out and out.count("NOVALITE-GUEST-BOOTED") == 3
    assert run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")}).task("server")["changed"] is True
    assert bed.leftovers(prefix) == []


def test_two_runs_race_on_one_remote_server(bed, prefix, tiny_image, tmp_path):
    name = prefix + "race"
    args, server = create(bed, tiny_image, name)
    console_until(bed, tiny_image, name, "NOVALITE-TICK 1")
    notifications = str(tmp_path / "notifications.jsonl")
    action = dict(server=name, action="stop", hypervisors=bed.hypervisors(), shutdown_timeout=30, timeout=120,
                  notifications_file=notifications)
    runs = [start_playbook(str(tmp_path), i, action, playbook=ACTION_PLAY) for i in range(3)]
    results = [server_result(run, task="action") for run in runs]
    assert sorted(bool(r["changed"]) for r in results) == [False, False, True], [r.get("msg") for r in results]
    for result in results:
        assert not result.get("failed") or "task_state" in result["msg"], result["msg"]
    with open(notifications) as handle:
        assert handle.read().count('"compute.instance.power_off.start"') == 1
    assert record_of(bed, server["hypervisor_hostname"], name)["vm_state"] == states.STOPPED
    run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")})
    assert bed.leftovers(prefix) == []


def wait_task(bed, host, name, wanted, timeout=120):
    conn = bed.conn(host_index(bed, host))
    try:
        dom = conn.lookupByName(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                task = instance_record.read_record(dom).get("task_state")
            except Exception:  # pylint: disable=broad-except
                task = None  # redefined meanwhile
            if task in wanted:
                return task
            time.sleep(0.01)
    finally:
        conn.close()
    raise AssertionError("no task_state in %s" % (wanted,))


def test_killed_mid_stop_and_mid_rebuild_on_the_bed_then_rerun(bed, prefix, tiny_image, tmp_path):
    cases = [("stop", {}, ("powering-off",), "SHUTOFF"),
             ("rebuild", {"image": "tiny-v2"}, ("rebuild_block_device_mapping", "rebuild_spawning"), "ACTIVE")]
    made = []
    for index, (action, extra, during, _after) in enumerate(cases):
        name = "%skill%d" % (prefix, index)
        created, server = create(bed, tiny_image, name)
        console_until(bed, tiny_image, name, "NOVALITE-TICK 1")
        args = dict(extra, server=name, action=action, hypervisors=bed.hypervisors(),
                    images=images(tiny_image)["images"], shutdown_timeout=30, timeout=120)
        run = start_playbook(str(tmp_path), index, args, playbook=ACTION_PLAY)
        wait_task(bed, server["hypervisor_hostname"], name, during)
        kill_playbook(run)
        made.append((name, created, server))
    for (name, _args, server), (action, extra, _during, after) in zip(made, cases):
        record = record_of(bed, server["hypervisor_hostname"], name)
        assert record["task_state"] is not None
        deadline = time.time() + states.LEASE_SECONDS + 5
        while record["lease_until"] and record["lease_until"] > time.time():
            assert time.time() < deadline
            time.sleep(1)
            record = record_of(bed, server["hypervisor_hostname"], name)
        rerun = act(bed, tiny_image, name, action, **extra)
        assert not rerun.get("failed"), rerun.get("msg")
        assert rerun["server"]["status"] == after and rerun["server"]["task_state"] is None
    facts = run_playbook(FACTS_PLAY, {"args": bed.hypervisors()}).task("facts")["ansible_facts"]["nova_hosts"]
    assert not [o for host in facts.values() for o in host.get("orphans") or [] if prefix in str(o)], facts
    for name, args, _server in made:
        run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")})
    assert bed.leftovers(prefix) == []
