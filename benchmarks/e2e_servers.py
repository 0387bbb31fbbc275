"""Part `e2e` (issue #5, part 2): servers from `ansible-playbook` start to all ACTIVE, on the
test bed, against the raw baseline doing the same work by hand (raw_baseline.py).

Figures, each measured several times (collection and raw runs interleaved, so both see
the same machine), every server removed between runs:

- Ansible's own start-up: `ansible-playbook` of one `ansible.builtin.ping` task on localhost
  (the floor under a one-task playbook), an empty play, and `ansible localhost -m ping`;
- one server: `ansible-playbook benchmarks/boot.yml` (the nova_server task of
  playbooks/boot_servers.yml alone) with one server: from the process's start to the server's
  launched_at (saved ACTIVE), and to the process's exit; against raw_baseline.py booting one
  server on the host the collection chose, wall clock of its process;
- 30 servers in one task (min_count = max_count = 30) across the three hosts, against
  raw_baseline.py booting 10 per host, host after host.

    e2e_servers.py [--runs 5] [--runs30 3]
"""

import argparse
import collections
import datetime
import json
import os
import sys

import common

PLAYBOOK = os.path.join(common.HERE, "boot.yml")  # boot_servers.yml's nova_server task alone
TASK = "Boot each requested server"
TARGET_ONE = 2.87  # a third of Nova's published median Rally boot_server time (8.6 s at concurrency 4)


def server_vars(name, count=1):
    data = common.catalog()
    server = {"name": name, "image": "tiny", "flavor": "m1.tiny", "nics": [{"net-name": "private"}]}
    if count > 1:
        server.update(min_count=count, max_count=count)
    data["nova_servers"] = [server]
    return data


def launched(server):
    """A server's launched_at (the moment its record was saved ACTIVE) as epoch seconds."""
    stamp = datetime.datetime.strptime(server["launched_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def boot(name, count):
    """One ansible-playbook run; (wall seconds of the process, seconds from its start until
    the last server was ACTIVE, [hosts], faults of rescheduled builds)."""
    wall, data, proc = common.playbook(PLAYBOOK, server_vars(name, count))
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (PLAYBOOK, common.failures(data) or proc.stderr[-2000:]))
    result = common.task_results(data, TASK)["results"][0]
    statuses = collections.Counter(s["status"] for s in result["servers"])
    if statuses != {"ACTIVE": count}:
        raise RuntimeError("expected %d ACTIVE servers, got %s" % (count, dict(statuses)))
    if result.get("faults"):
        common.log("faults (rescheduled builds): %s" % result["faults"])
    to_active = max(launched(s) for s in result["servers"]) - proc.started_at
    return wall, to_active, [s["hypervisor_hostname"] for s in result["servers"]], result.get("faults") or []


def raw(prefix, per_host):
    """raw_baseline.py as its own process; (wall seconds, its report)."""
    hosts = dict((h["name"], h) for h in common.bed_hosts())
    spec = {"prefix": prefix, "pool": common.POOL, "network": common.BED_NETWORK["name"],
            "kernel": os.path.join(common.IMAGES, "tiny-vmlinuz"),
            "initrd": os.path.join(common.IMAGES, "tiny-initrd.img"),
            "root": os.path.join(common.IMAGES, "tiny-root.qcow2"),
            "hosts": [{"name": name, "uri": hosts[name]["uri"], "count": count} for name, count in per_host]}
    path = os.path.join(common.OUT, "raw-spec.json")
    with open(path, "w") as handle:
        json.dump(spec, handle)
    wall, proc = common.timed([common.PYTHON, os.path.join(common.HERE, "raw_baseline.py"), path])
    if proc.returncode != 0:
        raise RuntimeError("raw_baseline.py failed: %s" % proc.stderr[-2000:])
    return wall, json.loads(proc.stdout)


def clean(prefix):
    common.wipe(prefix)
    left = common.leftovers(prefix)
    if left:
        raise RuntimeError("left behind after %s: %s" % (prefix, left))


def startup(runs):
    inventory = common.inventory_path()
    plays = {}
    for name, tasks in (("ping", "    - ansible.builtin.ping:\n"), ("empty", "")):
        path = os.path.join(common.OUT, "startup-%s.yml" % name)
        with open(path, "w") as handle:
            handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n%s" % (tasks or "    []\n"))
        plays[name] = path
    figures = {"playbook_ping": [], "playbook_empty": [], "adhoc_ping": []}
    for _run in range(runs):
        for name in ("ping", "empty"):
            wall, _data, proc = common.playbook(plays[name], inventory=inventory)
            if proc.returncode != 0:
                raise RuntimeError("startup play %s failed: %s" % (name, proc.stderr[-1000:]))
            figures["playbook_" + name].append(wall)
        wall, proc = common.timed([os.path.join(common.BIN, "ansible"), "-i", inventory, "localhost", "-m", "ping"])
        if proc.returncode != 0:
            raise RuntimeError("ansible localhost -m ping failed: %s" % proc.stderr[-1000:])
        figures["adhoc_ping"].append(wall)
    return dict((k, common.summary(v)) for k, v in figures.items())


def one_server(runs):
    ansible, active, baseline, hosts, raw_reports, loads, all_faults = [], [], [], [], [], [], []
    for run in range(runs):
        prefix = "e2e1r%d-" % run
        loads.append(common.settle(30))
        wall, to_active, where, faults = boot(prefix + "s", 1)
        ansible.append(wall)
        active.append(to_active)
        all_faults += faults
        hosts.append(where[0])
        clean(prefix)
        common.settle(30)
        wall, report = raw(prefix + "raw-", [(where[0], 1)])
        baseline.append(wall)
        raw_reports.append(report)
        clean(prefix)
        common.log("one server, run %d: ansible-playbook %.2f s (ACTIVE at %.2f s), raw %.2f s (%s)"
                   % (run + 1, ansible[-1], active[-1], wall, where[0]))
    return {"ansible": common.summary(ansible), "active": common.summary(active),
            "raw": common.summary(baseline), "hosts": hosts,
            "raw_reports": raw_reports, "load_before": loads, "faults": all_faults}


def thirty(runs, count=30):
    ansible, active, baseline, spread, raw_reports, loads, all_faults = [], [], [], [], [], [], []
    names = [h["name"] for h in common.bed_hosts()]
    for run in range(runs):
        prefix = "e2e30r%d-" % run
        common.reset_failed_builds()
        loads.append(common.settle(60))
        wall, to_active, where, faults = boot(prefix + "s", count)
        ansible.append(wall)
        active.append(to_active)
        all_faults += faults
        per_host = collections.Counter(where)
        spread.append(dict(per_host))
        clean(prefix)
        common.settle(60)
        # the same number of servers on each host as the collection placed, host after host
        wall, report = raw(prefix + "raw-", [(name, per_host.get(name, 0)) for name in names])
        baseline.append(wall)
        raw_reports.append({"phases": report["phases"],
                            "start_seconds": [round(s["start"], 3) for s in report["servers"]]})
        clean(prefix)
        common.log("%d servers, run %d: ansible-playbook %.2f s, raw sequential %.2f s (%s)"
                   % (count, run + 1, ansible[-1], wall, dict(per_host)))
    return {"count": count, "ansible": common.summary(ansible), "active": common.summary(active),
            "raw": common.summary(baseline),
            "per_host": spread, "raw_reports": raw_reports, "load_before": loads, "faults": all_faults}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each one-server figure")
    parser.add_argument("--runs30", type=int, default=3, help="runs of each 30-server figure")
    args = parser.parse_args(argv)
    data = {"started_at": common.now(), "load_start": common.loadavg()}
    common.reset_failed_builds()
    try:
        data["startup"] = startup(args.runs)
        data["one"] = one_server(args.runs)
        data["thirty"] = thirty(args.runs30)
    finally:
        common.wipe("e2e")
    data["load_end"] = common.loadavg()
    common.write_result("e2e", data, "e2e_servers")


# ------------------------------------------------------------------------ the section
def targets(data):
    """[target, measured, verdict] rows of issue #5 for this part."""
    one, th = data["one"], data["thirty"]
    startup_s = data["startup"]["playbook_ping"]["median"]
    one_a, one_r = one["ansible"]["median"], one["raw"]["median"]
    one_active = one["active"]["median"]
    limit = 1.5 * one_r + startup_s
    th_a, th_r = th["ansible"]["median"], th["raw"]["median"]
    return [
        ["one server, `ansible-playbook` start to ACTIVE < 2.87 s (a third of Nova's Rally `boot_server` "
         "median, 8.6 s)", "%.2f s to ACTIVE (%.0f%% of 8.6 s); %.2f s to the process's exit"
         % (one_active, 100 * one_active / 8.6, one_a),
         "met" if one_active < TARGET_ONE else "**missed**"],
        ["one server ≤ 1.5 × raw baseline + Ansible start-up = 1.5 × %.2f + %.2f = %.2f s"
         % (one_r, startup_s, limit), "%.2f s (raw × %.2f)" % (one_a, one_a / one_r),
         "met" if one_a <= limit else "**missed**"],
        ["%d servers across 3 hosts faster than the raw sequential baseline" % th["count"],
         "%.2f s vs %.2f s (× %.2f)" % (th_a, th_r, th_a / th_r), "met" if th_a < th_r else "**missed**"],
    ]


def render(data):
    st, one, th = data["startup"], data["one"], data["thirty"]
    f = common.fmt
    lines = [
        "## End to end: servers from `ansible-playbook` start to ACTIVE (part 2)",
        "",
        "`benchmarks/e2e_servers.py`: `ansible-playbook -i build/benchmarks/inventory.ini "
        "benchmarks/boot.yml` (the `nova_server` task of `playbooks/boot_servers.yml` alone, so the process "
        "ends as the servers become ACTIVE; `nova_server` on localhost, the three bed hosts as the "
        "`nova_compute` group); every server is checked ACTIVE in its results. Two figures per run: "
        "from the process's start to the moment the last server was saved ACTIVE (its `launched_at`, "
        "written by the module on this machine's clock: what Rally's `boot_server` times, the API call "
        "until the server is ACTIVE), and to the process's exit (Ansible's handling of the result "
        "and its exit on top). The raw baseline is `benchmarks/raw_baseline.py` as its own process: "
        "per server a qcow2 overlay on the cached base, define, start, wait RUNNING, host after host "
        "(one libvirt call each; no scheduler, claim, DHCP reservation, config drive or metadata). "
        "Collection and raw runs alternate; every server is removed between runs.",
        "",
        "| figure | median (min–max, n) |",
        "|---|---|",
        "| Ansible start-up: `ansible-playbook`, one `ping` task on localhost | %s |" % f(st["playbook_ping"]),
        "| Ansible start-up: `ansible-playbook`, empty play | %s |" % f(st["playbook_empty"]),
        "| Ansible start-up: `ansible localhost -m ping` | %s |" % f(st["adhoc_ping"]),
        "| **one server**, `ansible-playbook` start to ACTIVE (the server's `launched_at`) | %s |"
        % f(one["active"]),
        "| one server, `ansible-playbook` start to its exit | %s |" % f(one["ansible"]),
        "| one server, raw baseline (process start to RUNNING) | %s |" % f(one["raw"]),
        "| **%d servers in one task**, `ansible-playbook` start to all ACTIVE (the last `launched_at`) | %s |"
        % (th["count"], f(th["active"])),
        "| %d servers in one task, `ansible-playbook` start to its exit | %s |" % (th["count"], f(th["ansible"])),
        "| %d servers, raw sequential baseline | %s |" % (th["count"], f(th["raw"])),
        "",
        "Placement of the %d servers per run: %s. Builds rescheduled after a failure: %d (one server), "
        "%d (%d servers)." % (th["count"], "; ".join(
            ", ".join("%s %d" % kv for kv in sorted(p.items())) for p in th["per_host"]),
            len(one.get("faults", [])), len(th.get("faults", [])), th["count"]),
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    lines += ["| %s | %s | %s |" % tuple(row) for row in targets(data)]
    lines.append("")
    raw_start = [r["phases"] for r in one["raw_reports"]]
    connect = [v for p in raw_start for k, v in p.items() if k.startswith("connect ") and isinstance(v, float)]
    starts = [s["start"] for r in one["raw_reports"] for s in r["servers"]]
    if connect and starts:
        lines += [
            "What bounds them: the raw one-server figure is Python with libvirt-python starting "
            "(%.2f s), the SSH transport to the host (libvirt connect, median %.2f s) and QEMU starting the "
            "domain (`virDomainCreate`, median %.2f s): libvirt and QEMU. Ansible's start-up is the floor of "
            "any playbook. The 30-server figures are bound by the two CPUs: each TCG guest burns about 5 CPU-s "
            "booting, so guests started early slow the start of the later ones (in the raw run the last "
            "`virDomainCreate` takes %.1f s against %.2f s for the first). The collection builds the three "
            "hosts' servers in parallel and starts every domain paused, resuming them all once the last one "
            "has started, so no guest boots while the others start; once they all run, their boots starve "
            "everything else, Ansible's handling of the result included (the time between the module's end "
            "and the playbook's). See the profile section for where the one-server seconds go."
            % (sorted(p["import"] for p in raw_start)[len(raw_start) // 2],
               sorted(connect)[len(connect) // 2], sorted(starts)[len(starts) // 2],
               th["raw_reports"][0]["start_seconds"][-1], th["raw_reports"][0]["start_seconds"][0]),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
