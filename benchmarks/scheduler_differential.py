# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine against Nova on seeded cases: every instance's host, or NoValidHost.

    python benchmarks/scheduler_differential.py [--cases 300] [--first-seed 1] [--show 10]

The engine's outcome of every case (scheduler_cases.py) is computed here, in
this process (select_destinations of plugins/module_utils/scheduler/manager.py);
Nova's in one subprocess for all cases, benchmarks/.venv-nova/bin/python
nova_harness.py --cases (Nova 34 from PyPI, placement emulated from
placement's rules; see its docstring for what is compared and how ties are
told apart). Exits 1 if any case disagrees, listing the first ones.
tests/nova/test_nova_differential.py runs the same. NOVALITE_ENGINE_ROOT=DIR
checks the engine of another copy of the collection.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import placement_emulation  # noqa: E402  pylint: disable=wrong-import-position
import scheduler_cases  # noqa: E402  pylint: disable=wrong-import-position

NOVA_PYTHON = os.path.join(HERE, ".venv-nova", "bin", "python")
DEFAULT_CASES = 300


def engine_outcomes(cases):
    import scheduler_engine_side as engine  # pylint: disable=import-outside-toplevel
    for case in cases:
        case["engine"] = engine.outcome(case)
    return cases


def nova_results(cases, timeout=600):
    """Nova's verdict on every case (one subprocess): the harness's results, by case."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"cases": cases}, handle)
        path = handle.name
    try:
        out = subprocess.run([NOVA_PYTHON, os.path.join(HERE, "nova_harness.py"), "--cases", path],
                             capture_output=True, text=True, check=False, timeout=timeout)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError("nova_harness.py --cases failed:\n" + out.stderr[-4000:])
    return json.loads(out.stdout)


def run(count=DEFAULT_CASES, first_seed=1, extra=()):
    """(cases, Nova's answer): cases are scheduler_cases' plus extra, each with its engine outcome."""
    cases = list(extra) + scheduler_cases.cases(count, first_seed)
    engine_outcomes(cases)
    return cases, nova_results(cases)


def _not_whole_gb(case):
    """Hosts whose disk figures Nova's resource tracker truncates (reserved disk or an
    existing instance's swap not a whole GB), which the engine's facts round up."""
    names = []
    for host in case["hosts"]:
        if host["reserved_host_disk_mb"] % 1024 or any(i["flavor"].get("swap", 0) % 1024
                                                       for i in host["instances"]):
            names.append(host["name"])
    return names


def likely_causes(case, result):
    """Best-effort labels of a disagreement, from the case's figures (not the engine's code)."""
    d = result["disagreement"]
    causes = []
    if d["nova"] == "NoValidHost" and str(d["engine"]).startswith("placed "):
        causes.append("all-or-nothing: the engine placed part of the request, Nova raises NoValidHost")
    elif d["nova"] == "NoValidHost":
        causes.append("placement: the engine placed an instance where placement has no room")
    elif d["engine"] == "NoValidHost":
        causes.append("the engine raised NoValidHost where Nova places every instance")
    elif d.get("engine") is None:
        causes.append("the engine found no host (NoValidHost at this instance) where Nova claims one")
    elif d.get("engine_host_claimable") is False or d.get("engine_host_in_nova_list") is False:
        causes.append("placement: the engine chose a host Nova does not list or placement cannot claim")
    else:
        causes.append("weighing: the engine's host weighs less under Nova's weighing")
        if d.get("unclaimable_above") or d.get("instance"):
            causes.append("hosts filled during the request (Nova still weighs them)")
        if case["request"]["flavor"].get("swap") and d.get("instance"):
            causes.append("the flavor has swap (Nova's consumption leaves free disk alone for it)")
        if _not_whole_gb(case):
            causes.append("disk figures: reserved disk or existing swap not whole GB on %d host(s) (Nova's "
                          "resource tracker keeps local_gb_used in whole GB, truncated: free_disk_mb differs)"
                          % len(_not_whole_gb(case)))
    return causes


def host_summary(case, name):
    """A host's raw figures and placement's view of them, for a report."""
    for host in case["hosts"]:
        if host["name"] == name:
            inventories = placement_emulation.host_inventories(host)
            used = {}
            for instance in host["instances"]:
                for rc, amount in placement_emulation.flavor_resources(instance["flavor"]).items():
                    used[rc] = used.get(rc, 0) + amount
            return "%s: %s" % (name, ", ".join(
                "%s used %d of capacity %g (total %d, reserved %d, ratio %g)"
                % (rc, used.get(rc, 0), placement_emulation.capacity(inv), inv["total"], inv["reserved"],
                   inv["allocation_ratio"]) for rc, inv in sorted(inventories.items())) or "no inventory")
    return None


def disagreements(cases, answer):
    """[(case, result)] of the cases that disagree (or where Nova's side failed)."""
    return [(case, result) for case, result in zip(cases, answer["results"])
            if result["disagreement"] or result["error"]]


def describe(case, result):
    """One disagreement, readable: seed, Nova's choice, the engine's, the figures."""
    if result["error"]:
        return "seed %s: Nova's side failed: %s" % (case["seed"], result["error"])
    d = result["disagreement"]
    req = case["request"]
    lines = ["seed %s (%d hosts, %d instances, flavor %s%s%s): instance %s: Nova %s (weight %s), engine %s "
             "(Nova's weight %s)" % (
                 case["seed"], len(case["hosts"]), req["num_instances"],
                 dict((k, v) for k, v in req["flavor"].items() if k != "name"),
                 ", group %s" % req["group"]["policy"] if req["group"] else "",
                 ", zone %s" % req["availability_zone"] if req["availability_zone"] else "",
                 d["instance"], d["nova"], d.get("nova_weight"), d["engine"], d.get("engine_weight"))]
    engine_hosts = case["engine"]["hosts"] or "NoValidHost"
    lines.append("    Nova's hosts before: %s; engine's: %s" % (result["nova_hosts"], engine_hosts))
    for name in (d["nova"], d["engine"]):
        summary = host_summary(case, name) if isinstance(name, str) else None
        if summary:
            lines.append("    " + summary)
    lines.append("    likely: " + "; ".join(likely_causes(case, result)))
    return "\n".join(lines)


def report(cases, answer, show=10):
    bad = disagreements(cases, answer)
    agree = [r for r in answer["results"] if not r["disagreement"] and not r["error"]]
    placed = sum(1 for r in agree if r["failed_at"] is None)
    lines = ["%d cases, %d disagree; of the %d that agree (Nova %s), %d place every instance, %d NoValidHost; "
             "%d per-instance choices compared" % (
                 len(cases), len(bad), len(agree), answer["nova_version"], placed, len(agree) - placed,
                 sum(len(r["nova_hosts"]) for r in agree))]
    lines.extend(describe(case, result) for case, result in bad[:show])
    if len(bad) > show:
        lines.append("... and %d more" % (len(bad) - show))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=10)
    parser.add_argument("--json", help="write the cases and Nova's answer here")
    args = parser.parse_args(argv)
    if not os.path.exists(NOVA_PYTHON):
        parser.error("%s is missing: run benchmarks/setup-nova-venv.sh first" % NOVA_PYTHON)
    cases, answer = run(args.cases, args.first_seed)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cases": cases, "answer": answer}, handle)
    print(report(cases, answer, args.show))
    return 1 if disagreements(cases, answer) else 0


if __name__ == "__main__":
    sys.exit(main())
