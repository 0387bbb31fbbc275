"""benchmarks/scheduler_reference.py times a tree's own engine on given inputs, and
scheduler_report.py turns the two trees' figures into issue #12's targets row."""

import json
import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "benchmarks")
if not os.path.isfile(os.path.join(BENCHMARKS, "scheduler_reference.py")):
    pytest.skip("benchmarks/ is not in this tree", allow_module_level=True)
sys.path.insert(0, BENCHMARKS)
import scheduler_inputs  # noqa: E402  pylint: disable=wrong-import-position
import scheduler_report  # noqa: E402  pylint: disable=wrong-import-position


def test_a_tree_is_timed_with_its_own_engine(tmp_path):
    hosts = scheduler_inputs.hosts(30, 1, "default")
    request = scheduler_inputs.request(3, "default", hosts)
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"hosts": hosts, "request": request}))
    out = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "scheduler_reference.py"),
                          os.path.dirname(os.path.abspath(BENCHMARKS)), str(path), "--repetitions", "4",
                          "--engine-ms", "0"], capture_output=True, text=True, check=True)
    answer = json.loads(out.stdout)
    assert answer["placed"] == 3 and answer["failed"] is False
    assert len(answer["runs_s"]) == 4 and all(wall > 0 and cpu >= 0 for wall, cpu in answer["runs_s"])


def _row(hosts, instances, own, reference):
    """A row of scheduler_vs_nova.json with the fields targets() reads."""
    return {"scenario": "default", "hosts": hosts, "instances": instances, "placed": instances,
            "engine_ms_per_decision": own, "engine_request_ms": own * instances,
            "engine_request_cpu_ms": own * instances, "nova_ms_per_decision": 100.0, "ratio": 100.0 / own,
            "ratio_cpu": 100.0 / own, "check_mismatches": [], "check_decisions": 1, "placements_per_s": 1.0,
            "reference_commit": "abc1234", "own_process_ms_per_decision": own,
            "reference_ms_per_decision": reference, "ratio_to_reference": own / reference}


@pytest.mark.parametrize("own, verdict", [(1.4, "met"), (1.6, "**missed**")])
def test_the_reference_row_holds_only_when_every_size_is_within_one_and_a_half(own, verdict):
    rows = [_row(1000, 1, own, 1.0), _row(10000, 1000, 0.05, 0.04)]
    found = [row for row in scheduler_report.targets({"rows": rows}) if "abc1234" in row[0]]
    assert len(found) == 1
    assert "1,000 hosts, 1 instance: %.2f vs 1.00 ms per decision (%.2f ×)" % (own, own) in found[0][1]
    assert "10,000 hosts, 1,000 instances: 0.050 vs 0.040 ms per decision (1.25 ×)" in found[0][1]
    assert found[0][2] == verdict
