"""Record when each step of the create flow ran, in a module process or in ansible-playbook's.

    trace_module.py AnsiballZ_ping.py           (a module process)
    trace_module.py --playbook ansible-playbook ARGS...

In the first form, profile_one.py makes this the `ansible_python_interpreter` of localhost
(through a small wrapper script), so ansible-playbook runs `python trace_module.py
AnsiballZ_x.py` exactly as it would run the module: the timeline has the process's exec time,
when the module's own code started, and the start and end (wall clock, per thread) of the steps
named in STEPS; it goes to $NOVALITE_BENCH_TRACE_DIR/trace-<pid>.json when the process exits.

In the second form it runs ansible-playbook itself, for nova_server's action, which runs the
module's main() in its worker process: the profile hook goes on in the worker that loads
plugin_utils/module_action.py (the mark "import"), and the trace is written when
_run_in_process returns (a worker ends without running exit handlers). Nothing of Ansible or the collection changes; the
hook costs a little Python time per call once on.
"""

import atexit
import json
import os
import runpy
import sys
import threading
import time

TRACER_START = time.time()

STEPS = {
    "modules/nova_server.py": {"main", "run"}, "modules/nova_host_facts.py": {"main", "run"},
    "plugin_utils/module_action.py": {"_run_in_process"},
    "compute/api.py": {"create", "delete", "gather_host_states", "_provision_instances", "_schedule"},
    "compute/instance_list.py": {"find_copies", "settle", "check_names_free"},
    "compute/hypervisor.py": {"gather", "refresh_facts", "gather_all", "network_conn"},
    "compute/conductor.py": {"build_instances", "build_and_run_instance"},
    "compute/manager.py": {"build_and_run_instance", "_build_resources", "_block_device_mapping", "_spawn", "_save",
                           "change_instance_metadata", "_allocate_network", "_wait_network"},
    "compute/claims.py": {"check_claim"},
    "compute/images.py": {"prepare_request_images"},
    "compute/resource_tracker.py": {"capacity", "record_build"},
    "compute/utils.py": {"wait", "arrive"},
    "libvirt/connection.py": {"connect"},
    "libvirt/host.py": {"host_facts", "update_host_record"},
    "libvirt/network.py": {"reserve_fixed_ip"},
    "libvirt/imagecache.py": {"cache_image"},
    "libvirt/storage.py": {"create_volume", "upload_volume", "ensure_pool"},
    "libvirt/guest.py": {"define_domain", "start_domain", "resume_domain", "wait_for_state", "find_domain"},
    "libvirt/instance_record.py": {"save_record"},
    "libvirt/locks.py": {"__enter__", "__exit__"},
    "virt/configdrive.py": {"build"},
}
EVENTS = []
_open = {}


def _process_start():
    """The process's start time (epoch seconds, to 10 ms): its start in clock ticks since
    boot (/proc/self/stat) against the time since boot now (/proc/uptime)."""
    try:
        with open("/proc/self/stat") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return time.time() - (uptime - ticks / float(os.sysconf("SC_CLK_TCK")))
    except (OSError, ValueError):
        return None


def _profile(frame, event, _arg):
    if event not in ("call", "return"):
        return
    code = frame.f_code
    base = "/".join(code.co_filename.rsplit("/", 2)[-2:])
    names = STEPS.get(base)
    if not names or code.co_name not in names:
        return
    key = id(frame)
    if event == "call":
        label = code.co_name
        if code.co_name in ("__enter__", "__exit__"):
            lock = frame.f_locals.get("self")
            label = "lock %s %s" % (getattr(lock, "name", "?"), code.co_name.strip("_"))
        _open[key] = (label, base, time.time())
    else:
        started = _open.pop(key, None)
        if started is not None:
            EVENTS.append({"thread": threading.current_thread().name, "step": started[0], "file": started[1],
                           "start": started[2], "end": time.time()})
            if started[0] == "_run_in_process":
                _dump()


def _dump():
    folder = os.environ.get("NOVALITE_BENCH_TRACE_DIR")
    if not folder:
        return
    data = {"pid": os.getpid(), "wrapper": os.environ.get("NOVALITE_BENCH_WRAPPER"), "argv": sys.argv,
            "exec_start": _process_start(), "tracer_start": TRACER_START,
            "exit": time.time(), "marks": MARKS, "events": EVENTS}
    with open(os.path.join(folder, "trace-%d.json" % os.getpid()), "w") as handle:
        json.dump(data, handle)


MARKS = {}


def _audit(event, args):
    """Turn the profile hook on when the module's own code starts to run (its `exec`),
    so Python's start-up, AnsiballZ and Ansible's module_utils imports run at full speed."""
    if event == "exec" and "module" not in MARKS and args \
            and "/plugins/modules/" in getattr(args[0], "co_filename", ""):
        MARKS["module"] = time.time()
        threading.setprofile(_profile)
        sys.setprofile(_profile)


def _audit_playbook(event, args):
    """In ansible-playbook: turn the profile hook on in the worker that loads the collection's
    module action (when the import system opens its file: importlib raises no `import` event)."""
    if event == "open" and "import" not in MARKS and args and "/plugin_utils/" in str(args[0]) \
            and os.path.basename(str(args[0])).startswith("module_action."):
        MARKS["import"] = time.time()
        threading.setprofile(_profile)
        sys.setprofile(_profile)


def main():
    if sys.argv[1:2] == ["--playbook"]:
        sys.argv = sys.argv[2:]
        sys.addaudithook(_audit_playbook)
    else:
        atexit.register(_dump)
        sys.argv = sys.argv[1:]
        sys.addaudithook(_audit)
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
