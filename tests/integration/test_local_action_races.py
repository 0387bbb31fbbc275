"""Two runs on one server, and runs killed in the middle of an action, on the real local libvirtd
(issue 16, item 7): of two runs racing, one acts and the other is refused (Nova's
expected_task_state); a run killed with SIGKILL mid-action leaves the server with its task_state
(shown, and refused to others while the lease lives), and the next run, once the lease is over,
recovers it and acts; nothing is orphaned."""

import os
import signal
import threading
import time

from conftest import catalog
from helpers import FACTS_PLAY, SERVER_PLAY, kill_playbook, run_playbook, server_result, start_playbook
from test_local_server_actions import ACTION_PLAY, INFO_PLAY, Server

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.compute import states  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.compute.api import ComputeAPI  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import scheduler_config  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record  # noqa: E402


def engine(hv_config):
    config = dict((key, option.get("default")) for key, option in hypervisor_options().items())
    config.update(hv_config)
    api = ComputeAPI(check_catalogs([], [], [config]), scheduler_config({}), timeout=60)
    api.gather_host_states()
    return api


def test_two_threads_begin_a_task_on_one_server_one_wins(conn, local_hv, tiny_image, tmp_path):
    """The guard itself: both threads read task_state None, both try to begin their task at once."""
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        for attempt in range(5):
            outcomes = []
            barrier = threading.Barrier(2)

            def begin(task):
                try:
                    begin_task(task)
                except Exception as exc:  # pylint: disable=broad-except
                    outcomes.append(("error", repr(exc)))

            def begin_task(task):
                api = engine(local_hv.config())
                hv = api.hypervisors["local"]
                record = [r for r in hv.facts["instances"] if r["name"] == server.name][0]
                assert record["task_state"] is None
                barrier.wait()
                try:
                    ComputeManager(api, hv).begin_task(record, task)
                    outcomes.append(("began", task))
                except ia.UnexpectedTaskState as exc:
                    outcomes.append(("refused", str(exc)))

            threads = [threading.Thread(target=begin, args=(task,)) for task in ("pausing", "suspending")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcome[0] for outcome in outcomes) == ["began", "refused"], outcomes
            won = [task for kind, task in outcomes if kind == "began"][0]
            refusal = [text for kind, text in outcomes if kind == "refused"][0]
            assert "Expected: {'task_state': [None]}. Actual: {'task_state': '%s'}" % won in refusal
            record = instance_record.read_record(server.dom())
            assert record["task_state"] == won
            record["task_state"] = None
            instance_record.save_record(server.dom(), record)
    finally:
        server.delete()
    assert local_hv.leftovers() == []


def task_state(server):
    record = instance_record.read_record(server.dom())
    return record.get("task_state"), record.get("lease_until")


def wait_task(server, wanted, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            task, _lease = task_state(server)
        except Exception:  # pylint: disable=broad-except
            task = None  # redefined in between
        if task in wanted:
            return task
        time.sleep(0.01)
    raise AssertionError("no task_state in %s on %s" % (wanted, server.name))


def test_a_run_during_a_task_is_refused_and_racing_runs_act_once(conn, local_hv, tiny_image, tmp_path):
    server = Server(conn, local_hv, tiny_image, tmp_path)
    try:
        server.create()
        server.wait_console("NOVALITE-TICK 1")
        args = dict(server=server.name, hypervisors=[local_hv.config()], notifications_file=server.notifications,
                    shutdown_timeout=30, timeout=120)
        # a soft reboot under way (the guest shutting down): another run's start is refused
        first = start_playbook(str(tmp_path), 1, dict(args, action="reboot"), playbook=ACTION_PLAY)
        wait_task(server, ("rebooting", "reboot_pending", "reboot_started"))
        # the first run held in its task (a tiny guest's soft reboot can end before another
        # ansible-playbook has started; its lease stays live while it is held)
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            second = server.act("stop")
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        assert second.get("failed") is True and "while it is in task_state reboot" in second["msg"], second["msg"]
        assert "another run is acting on it" in second["msg"]
        done = server_result(first, task="action")
        assert done["changed"] is True and done["server"]["status"] == "ACTIVE", done.get("msg")
        server.wait_console("NOVALITE-TICK 1 ", since=server.console().rindex("NOVALITE-GUEST-BOOTED"))

        # two stops started together: one stops it, the other is refused or finds it stopped
        runs = [start_playbook(str(tmp_path), 10 + i, dict(args, action="stop"), playbook=ACTION_PLAY)
                for i in range(2)]
        results = [server_result(run, task="action") for run in runs]
        assert sorted(bool(r["changed"]) for r in results) == [False, True], results
        other = [r for r in results if not r["changed"]][0]
        assert not other.get("failed") or "task_state" in other["msg"], other["msg"]
        assert server.events().count("compute.instance.power_off.start") == 1
        assert server.dom().isActive() == 0
    finally:
        server.delete()
    assert local_hv.leftovers() == []


KILLED = [  # action, extra arguments, the task_states to kill it in, what the rerun leaves
    ("stop", {"shutdown_timeout": 30}, ("powering-off",), "SHUTOFF"),
    ("reboot", {"shutdown_timeout": 30}, ("reboot_started",), "ACTIVE"),
    ("suspend", {}, ("suspending",), "SUSPENDED"),
    ("rebuild", {}, ("rebuild_block_device_mapping", "rebuild_spawning"), "ACTIVE"),
]


KILLED_TOO = [  # the same, for actions that start from another state (prepared first)
    ("start", {}, ("powering-on",), "ACTIVE", ("stop", {"shutdown_timeout": 0})),
    ("resume", {}, ("resuming",), "ACTIVE", ("suspend", {})),  # read from the restoring guest too
    ("rescue", {}, ("rescuing",), "RESCUE", None),
    ("unrescue", {}, ("unrescuing",), "ACTIVE", ("rescue", {})),
]


def test_killed_in_the_middle_of_start_resume_rescue_unrescue_then_rerun(conn, local_hv, tiny_image, tmp_path):
    servers = [Server(conn, local_hv, tiny_image, tmp_path, "q%d" % i) for i in range(len(KILLED_TOO))]
    try:
        for server in servers:
            server.create()
        for server in servers:
            server.wait_console("NOVALITE-TICK 1")
        images = catalog(tiny_image)["images"]
        for server, case in zip(servers, KILLED_TOO):
            if case[4]:
                prepared = server.act(case[4][0], images=images, **case[4][1])
                assert prepared["changed"] is True, prepared.get("msg")
        kill_and_rerun(local_hv, tmp_path, servers, [case[:4] for case in KILLED_TOO], images)
        assert servers[2].act("unrescue")["server"]["status"] == "ACTIVE"
    finally:
        for server in servers:
            server.delete()
    assert local_hv.leftovers() == []
    assert not [name for name in os.listdir(local_hv.pool_path) if name.endswith(".disk.rescue")]


def test_killed_in_the_middle_of_each_action_then_rerun(conn, local_hv, tiny_image, tmp_path):
    servers = [Server(conn, local_hv, tiny_image, tmp_path, "k%d" % i) for i in range(len(KILLED))]
    try:
        for server in servers:
            server.create()
        for server in servers:
            server.wait_console("NOVALITE-TICK 1")
        images = catalog(tiny_image)["images"]
        kill_and_rerun(local_hv, tmp_path, servers, KILLED, images)
        # the suspended one resumes; the stopped one starts: each can be acted on again
        assert servers[0].act("start")["server"]["status"] == "ACTIVE"
        assert servers[2].act("resume")["server"]["status"] == "ACTIVE"
    finally:
        for server in servers:
            server.delete()
    assert local_hv.leftovers() == []


def kill_and_rerun(local_hv, tmp_path, servers, cases, images):
    """Each server's action started and SIGKILLed in one of its task_states; then, the lease over,
    the same action run again: it recovers the server and ends where the action leads."""
    for index, (server, (action, extra, during, _after)) in enumerate(zip(servers, cases)):
        args = dict(extra, server=server.name, action=action, hypervisors=[local_hv.config()], images=images,
                    timeout=120)
        run = start_playbook(str(tmp_path), 20 + index, args, playbook=ACTION_PLAY)
        seen = wait_task(server, during)
        kill_playbook(run)
        server.killed_in = seen
    # the user sees each server with the task it was killed in; other runs are refused meanwhile
    info = run_playbook(INFO_PLAY, {"args": {"hypervisors": [local_hv.config()]}}).task("info")
    shown = dict((s["name"], s["task_state"]) for s in info["servers"])
    for server in servers:
        assert shown[server.name] is not None, (server.name, shown)
    refused = servers[0].act("start")
    assert refused.get("failed") is True and "another run is acting on it" in refused["msg"]
    # once the lease is over (states.LEASE_SECONDS at most after the kill), the rerun recovers and acts
    deadline = time.time() + states.LEASE_SECONDS + 5
    for server in servers:
        while task_state(server)[1] and task_state(server)[1] > time.time():
            assert time.time() < deadline
            time.sleep(1)
    # past its lease the server with a task cut off is still a server: nova_server does not reap it
    # as an abandoned build (nor build it anew), nova_host_facts lists no orphan
    present = run_playbook(SERVER_PLAY, {"args": servers[0].args}).task("server")
    assert present["changed"] is False and present["server"]["id"] == servers[0].uuid, present.get("msg")
    # (a run killed the moment it saved its task may still have held the instance's lock: a stale
    # lock, which the next run that takes it breaks)
    assert [o for o in orphans(local_hv) if o["type"] != "lock"] == []
    for server, (action, extra, _during, after) in zip(servers, cases):
        rerun = server.act(action, images=images, **dict(extra, shutdown_timeout=10))
        assert not rerun.get("failed"), (server.name, server.killed_in, rerun.get("msg"))
        assert rerun["server"]["status"] == after and rerun["server"]["task_state"] is None, rerun["server"]
        assert any("recovered" in w for w in rerun.get("warnings", [])), (server.name, rerun.get("warnings"))
    assert orphans(local_hv) == []


def orphans(local_hv):
    facts = run_playbook(FACTS_PLAY, {"args": [local_hv.config()]}).task("facts")["ansible_facts"]["nova_hosts"]
    return facts["local"]["orphans"]


def test_a_pause_or_unpause_cut_off_is_recovered_from_the_domain(conn, local_hv, tiny_image, tmp_path):
    """pause and unpause take milliseconds (no kill lands inside them): the record a run killed there
    leaves is written as it would be (task_state set, lease over), then the actions run again."""
    server = Server(conn, local_hv, tiny_image, tmp_path)

    def cut_off(task):
        record = instance_record.read_record(server.dom())
        record.update(task_state=task, lease_until=time.time() - 1)
        instance_record.save_record(server.dom(), record)

    try:
        server.create()
        server.dom().suspend()  # the pause had happened, its run died before saving vm_state paused
        cut_off("pausing")
        shown = run_playbook(INFO_PLAY, {"args": {"name": server.name, "hypervisors": [local_hv.config()]}})
        assert shown.task("info")["servers"][0]["task_state"] == "pausing"
        again = server.act("pause")
        assert again["changed"] is False and again["server"]["status"] == "PAUSED", again.get("msg")
        assert any("recovered as paused" in w for w in again.get("warnings", [])), again.get("warnings")
        cut_off("unpausing")  # killed before the guest was resumed
        resumed = server.act("unpause")
        assert resumed["changed"] is True and resumed["server"]["status"] == "ACTIVE", resumed.get("msg")
        assert server.dom().state()[0] == 1
    finally:
        server.delete()
    assert local_hv.leftovers() == []
