"""Part `profile`: where the seconds of the one-server path go, from `ansible-playbook` start
to ACTIVE.

The same one-server `ansible-playbook ... benchmarks/boot.yml` run as part `e2e`, run under
trace_module.py --playbook: nova_server's action does the module's work in its worker process,
and the trace has when the worker imported that work, and the start and end of each step of
the create flow, per thread. A one-`ping`-task playbook, its module run under trace_module.py
through localhost's interpreter (a wrapper), gives Ansible's own part for a module process,
for comparison. The phases below are cut from those timestamps (medians over the runs).

    profile_one.py [--runs 5]
"""

import argparse
import glob
import json
import os
import re
import shlex
import sys
import time

import common
from e2e_servers import PLAYBOOK, server_vars


def traced_inventory():
    """The bench inventory with localhost's interpreter a wrapper: trace_module.py runs the
    module, then the wrapper writes when that process ended (end-<wrapper pid> in the trace
    folder; the trace holds the wrapper's pid)."""
    wrapper = os.path.join(common.OUT, "traced-python")
    with open(wrapper, "w") as handle:
        handle.write("#!/bin/sh\nNOVALITE_BENCH_WRAPPER=$$ %s %s \"$@\"\nrc=$?\n"
                     "date +%%s.%%N > \"$NOVALITE_BENCH_TRACE_DIR/end-$$\"\nexit $rc\n"
                     % (common.PYTHON, os.path.join(common.HERE, "trace_module.py")))
    os.chmod(wrapper, 0o755)
    with open(common.inventory_path()) as handle:
        text = handle.read()
    path = os.path.join(common.OUT, "inventory-traced.ini")
    with open(path, "w") as handle:
        handle.write(text.replace("ansible_python_interpreter=%s" % common.PYTHON,
                                  "ansible_python_interpreter=%s" % wrapper))
    return path


def traced_run(playbook, variables, inventory, prefix=()):
    """(t0, t_end, trace) of one traced ansible-playbook run (prefix: trace ansible-playbook's
    own process; else the module process, through the inventory's interpreter)."""
    folder = os.path.join(common.OUT, "traces")
    os.makedirs(folder, exist_ok=True)
    for old in glob.glob(os.path.join(folder, "trace-*.json")) + glob.glob(os.path.join(folder, "end-*")):
        os.unlink(old)
    start = time.time()
    _wall, data, proc = common.playbook(playbook, variables, inventory=inventory,
                                        extra_env={"NOVALITE_BENCH_TRACE_DIR": folder}, prefix=prefix)
    end = time.time()
    if proc.returncode != 0:
        raise RuntimeError("traced run failed: %s" % (common.failures(data) or proc.stderr[-1000:]))
    traces = [json.load(open(p)) for p in glob.glob(os.path.join(folder, "trace-*.json"))]
    if len(traces) != 1:
        raise RuntimeError("%d traces written, one expected" % len(traces))
    trace = traces[0]
    if not prefix:
        with open(os.path.join(folder, "end-%s" % trace["wrapper"])) as handle:
            trace["process_end"] = float(handle.read())
    return start, end, trace


def first(events, step, thread=None):
    for event in sorted(events, key=lambda e: e["start"]):
        if event["step"] == step and (thread is None or event["thread"] == thread):
            return event
    return None


def total(events, step, thread=None):
    return sum(e["end"] - e["start"] for e in events if e["step"] == step and (thread is None or e["thread"] == thread))


def phases(start, end, trace):
    """Consecutive phases of one one-server run, in seconds."""
    ev = trace["events"]
    action = first(ev, "_run_in_process")
    work = first(ev, "run")
    create = first(ev, "create")
    gather = first(ev, "gather_host_states")
    build = first(ev, "build_instances")
    manager = first(ev, "build_and_run_instance")
    thread = manager["thread"]
    claim_in = first(ev, "lock .claim.lock enter", thread)
    claim_out = first(ev, "lock .claim.lock exit", thread)
    bdm = first(ev, "_block_device_mapping", thread)
    start_dom = first(ev, "start_domain", thread)
    wait = first(ev, "wait_for_state", thread)
    connects = [e["end"] - e["start"] for e in ev if e["step"] == "connect"]
    result = [
        ("Ansible: start-up, inventory, play, the worker, until it loads the collection's action",
         trace["marks"]["import"] - start),
        ("action: hypervisors from the inventory, until it runs the module", action["start"] - trace["marks"]["import"]),
        ("module in process: imports (module_utils, libvirt, pycdlib), AnsibleModule's checks",
         work["start"] - action["start"]),
        ("work: catalogs, request validation, image checksums", create["start"] - work["start"]),
        ("connect to the 3 hosts (libvirt over SSH, in parallel; slowest)", max(connects)),
        ("host facts (after the connections)", gather["end"] - gather["start"] - max(connects)),
        ("names free, quota, request spec, scheduling", build["start"] - gather["end"]),
        ("claim: lock, live usage re-read, domain defined", claim_out["end"] - claim_in["start"]),
    ]
    reserve = first(ev, "reserve_fixed_ip")
    if reserve is not None and reserve["thread"] != thread:
        result.append(("networking + block devices (the DHCP reservation goes on in a thread)",
                       bdm["end"] - claim_out["end"]))
    else:
        result += [("networking: MAC, DHCP reservation (virNetworkUpdate)", bdm["start"] - claim_out["end"]),
                   ("block devices: overlay, config drive, console log", bdm["end"] - bdm["start"])]
    result += [
        ("spawn: kernel/initrd cache checks, domain XML, define", start_dom["start"] - bdm["end"]),
        ("spawn: QEMU starts the domain (virDomainCreate)", start_dom["end"] - start_dom["start"]),
        ("spawn: DHCP reservation awaited, resume, RUNNING, record saved ACTIVE", manager["end"] - start_dom["end"]),
        ("module in process: result (AnsibleModule masks no_log values, prints JSON; the action parses it); "
         "the libvirt connections close",
         action["end"] - build["end"]),
        ("Ansible: result, callback, stats, the worker's and the process's exit", end - action["end"]),
    ]
    side = first(ev, "network_conn")
    details = {"dhcp reservation (virNetworkUpdate under the network lock)": reserve and reserve["end"] - reserve["start"],
               "second connection for it": side and side["end"] - side["start"],
               "reservation done before QEMU had started the domain by": reserve and start_dom["end"] - reserve["end"],
               "wait_for_state": (wait["end"] - wait["start"]) if wait else 0.0,
               "save_record calls": sum(1 for e in ev if e["step"] == "save_record"),
               "config drive build": total(ev, "build", thread),
               "cache_image": total(ev, "cache_image", thread)}
    return result, details, end - start


LIBVIRT_LOG = "/var/log/libvirt/novalite-profile.log"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d\.\d+)\+0000: \d+: \w+ : (\w+):\d+ : (.*)$")


def libvirt_start_breakdown(prefix):
    """One more (untraced) one-server run with libvirtd's debug log of the domain start on
    every bed host: what virDomainCreate spends on the guest CPU check (libvirt reads the CPU's
    properties over QMP, one qom-get each) against the rest. Returns a dict, or None."""
    bed = common.testbed()
    hosts = common.bed_hosts()
    previous = {}
    for host in hosts:
        out = bed.ssh(host, ["virt-admin", "daemon-log-outputs"], check=False).stdout
        previous[host["name"]] = out.split(":", 1)[1].strip() if ":" in out else ""
        bed.ssh(host, ["rm", "-f", LIBVIRT_LOG])
        bed.ssh(host, ["virt-admin", "daemon-log-filters", shlex.quote("1:qemu.qemu_process 1:qemu.qemu_monitor 4:*")])
        bed.ssh(host, ["virt-admin", "daemon-log-outputs", shlex.quote("1:file:" + LIBVIRT_LOG)])
    try:
        common.playbook(PLAYBOOK, server_vars(prefix + "s"))
    finally:
        for host in hosts:
            bed.ssh(host, ["virt-admin", "daemon-log-filters", shlex.quote("")], check=False)
            bed.ssh(host, ["virt-admin", "daemon-log-outputs", shlex.quote(previous[host["name"]] or "3:stderr")],
                    check=False)
        common.wipe(prefix)
    for host in hosts:
        text = bed.ssh(host, ["cat", LIBVIRT_LOG], check=False).stdout
        bed.ssh(host, ["rm", "-f", LIBVIRT_LOG], check=False)
        found = parse_start_log(text)
        if found:
            return dict(found, host=host["name"])
    return None


def parse_start_log(text):
    """The first domain start in a libvirtd debug log: seconds to the guest CPU check, in it
    (and its qom-get count), and from it to the launch's last step."""
    marks, qom_gets = {}, 0
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        when = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
        func, message = match.group(4), match.group(5)
        if func == "qemuProcessStart":
            marks.setdefault("start", when)
        elif message.startswith("Verifying and updating provided guest CPU"):
            marks.setdefault("cpu", when)
        elif message.startswith("Detecting IOThread PIDs"):
            marks.setdefault("cpu_done", when)
        elif func == "qemuProcessLaunch" and "cpu_done" in marks and "end" not in marks:
            marks["last"] = when
            if message.startswith("Writing domain status") or message.startswith("Setting handling"):
                marks["end"] = when
        if "cpu" in marks and "cpu_done" not in marks and func == "qemuMonitorIOWrite" \
                and '"execute":"qom-get"' in message:
            qom_gets += 1
    if not all(k in marks for k in ("start", "cpu", "cpu_done")):
        return None
    return {"cpu_check": marks["cpu_done"] - marks["cpu"], "qom_gets": qom_gets,
            "start_to_cpu": marks["cpu"] - marks["start"],
            "after_cpu": marks.get("end", marks.get("last", marks["cpu_done"])) - marks["cpu_done"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    inventory = traced_inventory()
    ping_play = os.path.join(common.OUT, "startup-ping.yml")
    with open(ping_play, "w") as handle:
        handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    runs, pings = [], []
    common.reset_failed_builds()
    data = {"started_at": common.now(), "load_start": common.loadavg()}
    try:
        for run in range(args.runs):
            prefix = "prof%d-" % run
            common.settle(30)
            start, end, trace = traced_run(PLAYBOOK, server_vars(prefix + "s"), None,
                                           prefix=(common.PYTHON, os.path.join(common.HERE, "trace_module.py"),
                                                   "--playbook"))
            cut, details, wall = phases(start, end, trace)
            runs.append({"phases": cut, "details": details, "wall": wall, "trace": trace})
            common.wipe(prefix)
            start, end, trace = traced_run(ping_play, None, inventory)
            pings.append({"before_module": trace["exec_start"] - start, "module": trace["exit"] - trace["exec_start"],
                          "finalization": trace["process_end"] - trace["exit"],
                          "after_module": end - trace["process_end"], "wall": end - start})
            common.log("profile run %d: %.2f s traced" % (run + 1, wall))
        common.settle(30)
        data["libvirt_start"] = libvirt_start_breakdown("proflog-")
        common.log("virDomainCreate under libvirt's log: %s" % data["libvirt_start"])
    finally:
        common.wipe("prof")
    names = [name for name, _v in runs[0]["phases"]]
    data["phases"] = [(name, common.summary([dict(r["phases"]).get(name, 0.0) for r in runs])) for name in names]
    data["wall"] = common.summary([r["wall"] for r in runs])
    data["ping"] = dict((k, common.summary([p[k] for p in pings])) for k in pings[0])
    data["runs"] = runs
    data["load_end"] = common.loadavg()
    common.write_result("profile", data, "profile_one")


def render(data):
    lines = [
        "## Profile: where the one-server seconds go",
        "",
        "`benchmarks/profile_one.py`: the one-server run of part 2 under `benchmarks/trace_module.py "
        "--playbook` (timestamps of the create flow's steps, per thread, in the worker where "
        "nova_server's action does the module's work; the trace hook adds a little Python time, so the "
        "total is a bit above part 2's). Medians over the runs; the phases follow each other and add up "
        "to the total.",
        "",
        "| phase | median s (min–max) | bound by |",
        "|---|---|---|",
    ]
    bounds = {
        "Ansible: start": "Ansible",
        "action: imports": "our code, libvirt-python, pycdlib (import time, compiled)",
        "action: arguments": "Ansible's validator",
        "work: catalogs": "our code",
        "connect": "libvirt's SSH transport (sshd login, key exchange)",
        "host facts": "libvirt calls, our code",
        "names free": "our code",
        "claim": "libvirt calls, our code",
        "networking + block": "libvirt (dnsmasq update) overlapped with our code",
        "networking:": "libvirt: virNetworkUpdate re-writes dnsmasq's hosts and signals it",
        "block devices": "libvirt (qemu-img for the overlay), our code (ISO)",
        "spawn: DHCP": "libvirt",
        "spawn: kernel": "libvirt calls",
        "spawn: QEMU": "QEMU and libvirt",
        "action: result": "our code, libvirt (a close call to each host over SSH)",
        "Ansible: result": "Ansible",
    }
    for name, fig in data["phases"]:
        bound = next((v for k, v in bounds.items() if name.startswith(k)), "")
        lines.append("| %s | %.3f (%.3f–%.3f) | %s |" % (name, fig["median"], fig["min"], fig["max"], bound))
    ping = data["ping"]
    lines.append("| **total, traced** | **%.3f** (%.3f–%.3f) | |"
                 % (data["wall"]["median"], data["wall"]["min"], data["wall"]["max"]))
    details = {}
    for run in data["runs"]:
        for key, value in run["details"].items():
            if value is not None:
                details.setdefault(key, []).append(value)
    lines += ["", "Inside those phases (medians): " + "; ".join(
        "%s %s" % (key, ("%.3f s" % sorted(v)[len(v) // 2]) if isinstance(v[0], float) else sorted(v)[len(v) // 2])
        for key, v in details.items()) + "."]
    start = data.get("libvirt_start")
    if start:
        lines += ["", "Inside `virDomainCreate` (one more run with libvirtd's debug log of the domain start on the bed "
                  "hosts; logging slows libvirt a little): %.3f s from the start of the job to the guest CPU check, "
                  "**%.3f s in the guest CPU check** (libvirt asks QEMU for the started CPU's properties one "
                  "QMP `qom-get` at a time: %d of them), %.3f s after it. The check runs for every x86 domain "
                  "whatever its `<cpu>` element (tried: none, `qemu64` with `check='none'`, `maximum`); "
                  "it is libvirt's, not ours."
                  % (start["start_to_cpu"], start["cpu_check"], start["qom_gets"], start["after_cpu"])]
    lines += [
        "",
        "For comparison, a one-`ping`-task playbook, its module traced in the module process: %.3f s until "
        "that process starts, %.3f s in it to its exit_json, %.3f s to the process's end, %.3f s after it "
        "(%.3f s in all). nova_server's module runs that way too where its action cannot do the work in its "
        "own process (another connection, become, a task environment, another interpreter)."
        % (ping["before_module"]["median"], ping["module"]["median"], ping["finalization"]["median"],
           ping["after_module"]["median"], ping["wall"]["median"]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
