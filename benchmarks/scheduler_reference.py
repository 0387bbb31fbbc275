# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling engine of another tree of this collection (an earlier commit's, from
`git archive`), timed on given inputs as scheduler_vs_nova.py times this one's: two
warm-up runs, then runs each after gc.collect(), at least --repetitions of them and
until they add up to --engine-ms. It imports that tree's own
benchmarks/scheduler_engine_side.py, which knows its engine's API.

    python scheduler_reference.py ROOT INPUT.json [--repetitions 3] [--engine-ms 50]

INPUT.json: {"hosts": [host dicts], "request": request dict} (scheduler_inputs.py).
Prints {"runs_s": [[wall, cpu], ...], "placed": n, "failed": bool} as JSON.
Timing only: an earlier engine may choose other hosts (issue #13 changed its arithmetic).
"""

from __future__ import absolute_import, division, print_function

import argparse
import gc
import importlib.util
import json
import os
import sys
import time


def load_engine_side(root):
    path = os.path.join(root, "benchmarks", "scheduler_engine_side.py")
    if not os.path.exists(path):
        raise SystemExit("%s: no benchmarks/scheduler_engine_side.py in that tree" % root)
    os.environ["NOVALITE_ENGINE_ROOT"] = os.path.abspath(root)    # trees that read it import root's engine
    sys.path.insert(0, os.path.join(root, "benchmarks"))
    spec = importlib.util.spec_from_file_location("reference_engine_side", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed_runs(call, repetitions, min_seconds=0.0):
    """[(wall, cpu)] seconds of call(), and its last result: two warm-up calls (not
    recorded), then repetitions calls, or more until they add up to min_seconds (a median
    of a few runs of a millisecond is at the mercy of a short spell of load), each after
    gc.collect() (it starts without garbage left by the previous one)."""
    for dummy in range(2):
        call()
    result = None
    runs = []
    while len(runs) < repetitions or sum(run[0] for run in runs) < min_seconds:
        gc.collect()
        start, start_cpu = time.perf_counter(), time.thread_time()
        result = call()
        runs.append((time.perf_counter() - start, time.thread_time() - start_cpu))
    return runs, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("root")
    parser.add_argument("input")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--engine-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    engine = load_engine_side(args.root)
    with open(args.input) as handle:
        data = json.load(handle)
    hosts = engine.build_hosts(data["hosts"])
    spec = engine.build_spec(data["request"])
    config = engine.config()

    def select():
        try:
            return engine.select(hosts, spec, config)
        except Exception as exc:  # pylint: disable=broad-except
            if type(exc).__name__ != "NoValidHost":
                raise
            return exc
    runs, result = timed_runs(select, args.repetitions, args.engine_ms / 1e3)
    failed = isinstance(result, Exception)
    placed = getattr(result, "placed", 0) if failed else len(result.selections)
    json.dump({"runs_s": runs, "placed": placed, "failed": failed}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
