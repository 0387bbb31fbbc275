# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduling engine vs Nova: ms per scheduling decision, same inputs, same choices.

    python benchmarks/scheduler_vs_nova.py [--hosts 100,1000,10000] [--instances 1,100,1000]
                                           [--rounds 3] [--repetitions 3] [--engine-ms 50] [--quick]

For each number of hosts and of instances per request: seeded inputs
(scheduler_inputs.py); then --rounds rounds of --repetitions runs (more if
they take under --engine-ms in all) of the collection's
select_destinations followed by one run of Nova 34's own filter
and weigher loop (nova_harness.py, run by benchmarks/.venv-nova/bin/python, made
by setup-nova-venv.sh) over the first N instances of the same request,
N = min(instances, --nova-budget / hosts), placement emulated from placement's
rules (placement_emulation.py). Medians are reported. On the first Nova run
every decision is checked: the host the engine chose must be the host Nova
claimed, or one placement could claim too that weighs the same under Nova's
weighing (within 1e-9).

A request may end in NoValidHost (the realistic scenario at 100 hosts x 100
instances does): then both sides must raise it at the same instance, the
choices before it are checked as above (the engine's, untimed, from the
request of the instances it placed), and a decision is each instance placed
plus the one that found no host.

With --reference COMMIT (default fd212d4, the engine issue #12 bounds: within 1.5x of
it), the sizes of --reference-cases are also timed with that commit's engine and with
this tree's, each in a fresh process of its own (scheduler_reference.py) on the same
inputs, the two alternating once per round: the ratio of the two is measured through
the same state of the machine, which absolute times of different days are not.

Writes benchmarks/results/scheduler_vs_nova.json; scheduler_report.py turns it
into the engine-vs-Nova section of BENCHMARKS.md.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import scheduler_engine_side as engine  # noqa: E402  pylint: disable=wrong-import-position
import scheduler_inputs as inputs  # noqa: E402  pylint: disable=wrong-import-position
from scheduler_reference import timed_runs  # noqa: E402  pylint: disable=wrong-import-position

NOVA_PYTHON = os.path.join(HERE, ".venv-nova", "bin", "python")
RESULTS = os.path.join(HERE, "results", "scheduler_vs_nova.json")
# Beyond the size matrix (default scenario): server groups, and a host that
# takes most instances while moving every weigher's maximum at each placement.
# Realistic (scheduler_inputs.py): a flavor extra spec matched by aggregate
# metadata, an anti-affinity group with members, image properties; one
# instance at each size, 100 at 1,000 hosts, and 100 at 100 hosts, where fewer
# than 100 hosts are in the aggregate without a member: NoValidHost on both sides.
EXTRA_CASES = [(1000, 100, "anti-affinity"), (1000, 100, "soft-anti-affinity"), (10000, 1000, "big-host"),
               (100, 1, "realistic"), (1000, 1, "realistic"), (10000, 1, "realistic"), (1000, 100, "realistic"),
               (100, 100, "realistic")]
QUICK_EXTRA = "1000:20:anti-affinity,1000:20:soft-anti-affinity,2000:50:big-host,1000:1:realistic,100:100:realistic"
# Nova's filters beside its default enabled_filters, per scenario (the engine enables them by default).
NOVA_EXTRA_FILTERS = {"realistic": ["AggregateInstanceExtraSpecsFilter"]}


def load_average():
    with open("/proc/loadavg") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def machine():
    def run(*command):
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""
    lscpu = dict(line.split(":", 1) for line in run("lscpu").splitlines() if ":" in line)
    memory = ""
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = "%.1f GiB" % (int(line.split()[1]) / 1024.0 / 1024.0)
    os_name = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    return {
        "cpu": lscpu.get("Model name", "").strip(),
        "hypervisor": lscpu.get("Hypervisor vendor", "").strip(),
        "nproc": run("nproc"),
        "memory": memory,
        "os": os_name,
        "kernel": platform.release(),
        "engine_python": platform.python_version(),
    }


def select_or_fail(hosts, spec, config):
    """select_destinations' result, or its NoValidHost (a request may end so)."""
    try:
        return engine.select(hosts, spec, config)
    except engine.scheduler_mod.NoValidHost as exc:
        return exc


def time_engine(hosts, spec, repetitions, min_seconds=0.0):
    """[(wall, cpu)] seconds of select_destinations, and its result (or the
    NoValidHost it raised), as scheduler_reference.timed_runs takes them."""
    config = engine.config()
    return timed_runs(lambda: select_or_fail(hosts, spec, config), repetitions, min_seconds)


def engine_outcome(hosts, request, result):
    """(hosts chosen, failed_at): the selections' hosts and None, or on
    NoValidHost the hosts chosen before the instance that failed (the request
    of those instances again, untimed) and that instance's index."""
    if not isinstance(result, Exception):
        return [s.host for s in result.selections], None
    before = engine.choices_before_failure(hosts, request, result.placed, engine.config())
    if before is None:
        raise RuntimeError("the engine raised NoValidHost after %d instances, and again on those %d alone"
                           % (result.placed, result.placed))
    return before, result.placed


def run_nova(host_dicts, request, decisions, repetitions, engine_choices, engine_failed_at=None, extra_filters=()):
    data = {"hosts": host_dicts, "request": request, "decisions": decisions, "repetitions": repetitions,
            "engine_choices": engine_choices, "engine_failed_at": engine_failed_at,
            "extra_filters": list(extra_filters)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(data, handle)
        path = handle.name
    try:
        out = subprocess.run([NOVA_PYTHON, os.path.join(HERE, "nova_harness.py"), path],
                             capture_output=True, text=True, check=False)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError("nova_harness.py failed:\n" + out.stderr[-4000:])
    return json.loads(out.stdout)


def reference_tree(commit):
    """A directory holding `git archive` of commit (this checkout's history), or None for ''."""
    if not commit:
        return None
    archive = subprocess.run(["git", "-C", os.path.dirname(HERE), "archive", "--format=tar", commit],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit("--reference %s: git archive failed: %s" % (commit, archive.stderr.decode().strip()[-500:]))
    folder = tempfile.mkdtemp(prefix="novalite-reference-")
    subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
    return folder


def run_tree(root, host_dicts, request, repetitions, engine_ms):
    """scheduler_reference.py's answer for the engine of the tree root on these inputs."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"hosts": host_dicts, "request": request}, handle)
        path = handle.name
    try:
        out = subprocess.run([sys.executable, os.path.join(HERE, "scheduler_reference.py"), root, path,
                              "--repetitions", str(repetitions), "--engine-ms", str(engine_ms)],
                             capture_output=True, text=True, check=False)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError("scheduler_reference.py %s failed:\n%s" % (root, out.stderr[-4000:]))
    return json.loads(out.stdout)


def outcome_mismatch(failed_at, decisions, check):
    """[mismatch] if, within the decisions Nova took, one side raised NoValidHost
    and the other did not, or at another instance (per-instance mismatches
    before that are the harness's)."""
    nova_failed = check.get("failed_at")
    engine_failed = failed_at if failed_at is not None and failed_at < decisions else None
    if nova_failed == engine_failed or check["mismatches"]:
        return []
    return [{"decision": nova_failed if engine_failed is None else engine_failed,
             "nova": "NoValidHost" if nova_failed is not None else "a host",
             "engine": "NoValidHost" if engine_failed is not None else "a host",
             "nova_failed_at": nova_failed, "engine_failed_at": failed_at}]


def median(values):
    return statistics.median(values) if values else None


def measure(host_count, instance_counts, args, log, scenario="default"):
    host_dicts = inputs.hosts(host_count, args.seed, scenario)
    hosts = engine.build_hosts(host_dicts)
    rows = []
    for instances in instance_counts:
        request = inputs.request(instances, scenario, host_dicts)
        spec = engine.build_spec(request)
        # Rounds of engine runs then one Nova run (a few if its decisions are few), so both sides are measured
        # through the same spells of load from the machine's other users.
        runs, nova_runs, nova = [], [], None
        chosen, failed_at = [], None
        compared = args.reference_root and scenario == "default" and (host_count, instances) in args.reference_sizes
        own_runs, reference_runs = [], []
        for round_index in range(args.rounds):
            round_runs, result = time_engine(hosts, spec, args.repetitions, args.engine_ms / 1e3)
            runs.extend(round_runs)
            if round_index == 0:
                chosen, failed_at = engine_outcome(hosts, request, result)
            placed = len(chosen)
            # Decisions taken: one per instance placed, and the one that found no host.
            made = placed + (failed_at is not None)
            decisions = min(made, max(1, args.nova_budget // host_count))
            if round_index == 0:
                log("%6d hosts %5d instances %s: engine %.3f ms/decision (%d placed%s); Nova on %d decision(s)..."
                    % (host_count, instances, scenario, median([r[0] for r in runs]) * 1e3 / made, placed,
                       ", NoValidHost at instance %d" % (failed_at + 1) if failed_at is not None else "", decisions))
            # Few decisions (one-instance requests): up to --repetitions Nova runs within the budget,
            # so its median does not rest on one decision per round.
            nova_repetitions = max(1, min(args.repetitions, args.nova_budget // (host_count * decisions)))
            answer = run_nova(host_dicts, request, decisions, nova_repetitions, chosen[:decisions], failed_at,
                              NOVA_EXTRA_FILTERS.get(scenario, ()))
            nova = nova or answer       # the check is the first round's
            nova_runs.extend(answer["runs"])
            if compared:
                for root, into in ((engine.REPO, own_runs), (args.reference_root, reference_runs)):
                    answer = run_tree(root, host_dicts, request, args.repetitions, args.engine_ms)
                    into.append((answer["runs_s"], answer["placed"] + answer["failed"]))
        wall = median([r[0] for r in runs])
        cpu = median([r[1] for r in runs])
        per_run_wall = [sum(d[0] for d in run) / len(run) for run in nova_runs]
        per_run_cpu = [sum(d[1] for d in run) / len(run) for run in nova_runs]
        row = {
            "scenario": scenario,
            "hosts": host_count,
            "instances": instances,
            "placed": placed,
            "novalidhost_at": failed_at,
            "decisions": made,
            "engine_runs_s": runs,
            "engine_request_ms": wall * 1e3,
            "engine_request_cpu_ms": cpu * 1e3,
            "engine_ms_per_decision": wall * 1e3 / made,
            "engine_cpu_ms_per_decision": cpu * 1e3 / made,
            "nova_decisions": decisions,
            "nova_novalidhost_at": nova["check"].get("failed_at"),
            "nova_runs_ms_per_decision": [x * 1e3 for x in per_run_wall],
            "nova_ms_per_decision": median(per_run_wall) * 1e3,
            "nova_cpu_ms_per_decision": median(per_run_cpu) * 1e3,
            "nova_first_decision_ms": median([run[0][0] for run in nova_runs]) * 1e3,
            "check_decisions": len(nova["check"]["choices"]),
            "check_mismatches": nova["check"]["mismatches"] + outcome_mismatch(failed_at, decisions, nova["check"]),
            "nova_version": nova["nova_version"],
            "nova_python": nova["python"],
            "nova_filters": nova["enabled_filters"],
            "flavor_extra_specs": request["flavor"].get("extra_specs") or {},
            "group_policy": (request["group"] or {}).get("policy"),
            "group_members": len((request["group"] or {}).get("members") or ()),
            "image_properties": request["image"]["properties"],
            "nova_weighers": nova["weighers"],
        }
        if compared:
            # ms per decision of each tree, each in a process of its own (median of its runs).
            row["reference_commit"] = args.reference
            for key, tree_runs in (("own_process", own_runs), ("reference", reference_runs)):
                per_decision = [run[0] * 1e3 / made_there for round_runs, made_there in tree_runs
                                for run in round_runs]
                row[key + "_ms_per_decision"] = median(per_decision)
                row[key + "_runs_ms_per_decision"] = per_decision
            row["ratio_to_reference"] = row["own_process_ms_per_decision"] / row["reference_ms_per_decision"]
        row["ratio"] = row["nova_ms_per_decision"] / row["engine_ms_per_decision"]
        row["ratio_cpu"] = row["nova_cpu_ms_per_decision"] / row["engine_cpu_ms_per_decision"]
        row["placements_per_s"] = placed / wall
        row["extra_specs_hosts"] = sum(1 for h in host_dicts for a in h["aggregates"]
                                       if a["name"] == inputs.REALISTIC_AGGREGATE["name"])
        log("        Nova %.2f ms/decision, ratio %.0fx; check: %d decisions, %d mismatches"
            % (row["nova_ms_per_decision"], row["ratio"], row["check_decisions"], len(row["check_mismatches"])))
        if compared:
            log("        in processes of their own: this tree %.3f ms/decision, %s %.3f ms (%.2fx)"
                % (row["own_process_ms_per_decision"], args.reference, row["reference_ms_per_decision"],
                   row["ratio_to_reference"]))
        rows.append(row)
    return rows


def command_line(given):
    """The command as the report shows it: run.sh's (with its NOVALITE_BENCH_SCHEDULER_ARGS), or this script's."""
    if not given:
        return "benchmarks/run.sh scheduler"
    if os.environ.get("NOVALITE_BENCH_SCHEDULER_ARGS", "").split() == list(given):
        return 'NOVALITE_BENCH_SCHEDULER_ARGS="%s" benchmarks/run.sh scheduler' % " ".join(given)
    return "benchmarks/scheduler_vs_nova.py " + " ".join(given)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--hosts", default="100,1000,10000")
    parser.add_argument("--instances", default="1,100,1000")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per size, each: --repetitions engine runs then one Nova run, or up to "
                        "--repetitions within --nova-budget (medians)")
    parser.add_argument("--repetitions", type=int, default=3, help="engine runs per round (at least)")
    parser.add_argument("--engine-ms", type=float, default=50.0,
                        help="engine runs per round: more than --repetitions until they take this many ms")
    parser.add_argument("--nova-budget", type=int, default=100000,
                        help="Nova decisions per size: at most this / hosts (at least 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extra", default=",".join("%d:%d:%s" % case for case in EXTRA_CASES),
                        help="more cases HOSTS:INSTANCES:SCENARIO, comma-separated (scenarios: %s); '' for none"
                        % ", ".join(inputs.SCENARIOS[1:]))
    parser.add_argument("--reference", default="fd212d4",
                        help="a commit whose engine is timed beside this tree's at --reference-cases ('' for none)")
    parser.add_argument("--reference-cases", default="1000:1,10000:1000",
                        help="HOSTS:INSTANCES of the default scenario, comma-separated")
    parser.add_argument("--quick", action="store_true", help="1 run each, Nova budget 10000 (a smoke test)")
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repetitions, args.rounds, args.nova_budget, args.engine_ms = 1, 1, 10000, 0.0
        args.extra = QUICK_EXTRA
    if not os.path.exists(NOVA_PYTHON):
        parser.error("%s is missing: run benchmarks/setup-nova-venv.sh first" % NOVA_PYTHON)
    args.reference_sizes = sorted(set(tuple(int(x) for x in case.split(":"))
                                      for case in args.reference_cases.split(",") if case))
    args.reference_root = reference_tree(args.reference)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started = time.time()
    load_before = load_average()
    rows = []
    try:
        for host_count in [int(x) for x in args.hosts.split(",")]:
            rows.extend(measure(host_count, [int(x) for x in args.instances.split(",")], args, log))
        for case in [c for c in args.extra.split(",") if c]:
            host_count, instances, scenario = case.split(":")
            if scenario not in inputs.SCENARIOS:
                parser.error("--extra: unknown scenario %r" % scenario)
            rows.extend(measure(int(host_count), [int(instances)], args, log, scenario))
    finally:
        if args.reference_root:
            shutil.rmtree(args.reference_root)      # also when a size fails
    report = {
        "command": command_line(sys.argv[1:] if argv is None else argv),
        "arguments": vars(args),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "duration_s": time.time() - started,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "machine": machine(),
        "rows": rows,
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(report, handle, indent=1)
    log("wrote %s" % args.output)
    mismatches = sum(len(row["check_mismatches"]) for row in rows)
    if mismatches:
        log("CHECK FAILED: %d decision(s) where the engine's host weighs less under Nova's weighing, or where "
            "only one side raised NoValidHost" % mismatches)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
