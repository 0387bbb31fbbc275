"""benchmarks/report.py: a run of some parts keeps the other parts' sections, targets rows and
stamps from the previous BENCHMARKS.md (pure text, no bed, no results directory)."""

import json
import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "benchmarks")
if not os.path.isfile(os.path.join(BENCHMARKS, "report.py")):
    pytest.skip("benchmarks/ is not in this tree", allow_module_level=True)
sys.path.insert(0, BENCHMARKS)
import report  # noqa: E402  pylint: disable=wrong-import-position

E2E_SECTION = """## End to end (part 2)

| figure | median |
|---|---|
| one server | 1.39 s (1.30–1.50, n=5) |

<sub>measured 2026-12-01T07:56:16Z; load average 3.62 1.61 1.03 at the start; raw results: `build/benchmarks/e2e.json`.</sub>"""

SCHEDULER_SECTION = """<!-- scheduler-vs-nova: start (written by benchmarks/scheduler_report.py) -->

## Scheduling engine vs Nova

**Command**: `benchmarks/run.sh scheduler` (run 2026-12-01 07:39:01 UTC, took 353 s).

<!-- scheduler-vs-nova: end -->"""

HOST_FACTS_OLD = """## `nova_host_facts` over 100 hypervisor URIs (part 4)

| figure | median |
|---|---|
| engine, 100 URIs | 2.00 s (1.90–2.10, n=5) |

<sub>measured 2026-12-01T08:03:34Z; load average 4.76 10.03 6.75 at the start; raw results: `build/benchmarks/host_facts.json`.</sub>"""

MACHINE_SECTION = """## Machine

| | |
|---|---|
| CPUs | 2 |"""

E2E_ROWS = [["one server < 2.87 s", "1.39 s to ACTIVE", "met"], ["30 servers faster than raw", "16.33 s vs 53.11 s", "met"]]
SCHEDULER_ROWS = [["scheduling --> 100 × faster per decision", "0.687 ms vs 81.3 ms", "met"]]
HOST_FACTS_ROWS = [["host facts of 100 entries < 5 s", "3.10 s", "met"]]


def entry(part, order, measured, rows, text):
    return {"part": part, "order": order, "measured": measured, "targets": rows, "section": text, "earlier": False}


@pytest.fixture
def previous_file():
    """A BENCHMARKS.md as a full run writes it: machine, e2e, scheduler, host_facts."""
    return report.build({}, {
        "machine": entry("machine", -1, "2026-12-01T07:50:00Z", [], MACHINE_SECTION),
        "e2e": entry("e2e", 0, "2026-12-01T07:56:16Z", E2E_ROWS, E2E_SECTION),
        "scheduler": entry("scheduler", 5, "2026-12-01 07:39:01 UTC", SCHEDULER_ROWS, SCHEDULER_SECTION),
        "host_facts": entry("host_facts", 20, "2026-12-01T08:03:34Z", [], HOST_FACTS_OLD),
    })


def host_facts_result():
    return {"part": "host_facts", "finished_at": "2026-12-03T09:50:00Z", "load_start": [1.5, 2.0, 2.5],
            "section": "## `nova_host_facts`: 3 machines under 100 addresses (part 4)\n\nnew figures\n",
            "targets": HOST_FACTS_ROWS}


def block(text, part):
    start = next(i for i, line in enumerate(text.split("\n")) if line.startswith("<!-- part: start {")
                 and json.loads(line[len("<!-- part: start "):-len(" -->")])["part"] == part)
    lines = text.split("\n")
    end = lines.index("<!-- part: end %s -->" % part, start)
    return "\n".join(lines[start + 1:end])


def table(text):
    lines = text.split("\n")
    first = lines.index("| target | measured | |") + 2
    rows = []
    for line in lines[first:]:
        if not line.startswith("| "):
            break
        rows.append(line)
    return rows


def test_a_full_run_file_reads_back_as_written(previous_file):
    parsed = report.parse_previous(previous_file)
    assert sorted(parsed) == ["e2e", "host_facts", "machine", "scheduler"]
    assert parsed["e2e"]["section"] == E2E_SECTION
    assert parsed["scheduler"]["section"] == SCHEDULER_SECTION
    assert parsed["scheduler"]["targets"] == SCHEDULER_ROWS  # a '-->' in a cell survives the comment
    start = [line for line in previous_file.split("\n") if '"part": "scheduler"' in line]
    assert len(start) == 1 and start[0].count("-->") == 1 and start[0].endswith(" -->")
    for item in parsed.values():
        item["earlier"] = False
    assert report.build({}, parsed) == previous_file


def test_a_run_of_one_part_keeps_the_others_verbatim_and_replaces_it(previous_file):
    previous = report.parse_previous(previous_file)
    kept = dict((name, previous[name]) for name in previous if name != "host_facts")
    text = report.build({"host_facts": host_facts_result()}, kept)

    # the others: their sections verbatim (stamps included), after a note naming the earlier run
    for part, section, when in (("e2e", E2E_SECTION, "2026-12-01T07:56:16Z"),
                                ("scheduler", SCHEDULER_SECTION, "2026-12-01 07:39:01 UTC"),
                                ("machine", MACHINE_SECTION, "2026-12-01T07:50:00Z")):
        body = block(text, part)
        note, blank, rest = body.split("\n", 2)
        assert note.startswith("<sub>**From an earlier run** (measured %s)" % when), note
        assert note.endswith(report.EARLIER) and blank == ""
        assert rest == section
    assert "load average 3.62 1.61 1.03 at the start" in block(text, "e2e")

    # the part run: replaced, with this run's stamp and no note
    body = block(text, "host_facts")
    assert "new figures" in body and "2.00 s" not in text and "08:03:34" not in text
    assert "From an earlier run" not in body
    assert body.endswith("<sub>measured 2026-12-03T09:50:00Z; load average 1.5 2.0 2.5 at the start; "
                         "raw results: `build/benchmarks/host_facts.json`.</sub>")

    # the targets table: the kept parts' rows marked with their date, the new part's as measured, in part order
    assert table(text) == [
        "| one server < 2.87 s | 1.39 s to ACTIVE *(earlier run, 2026-12-01)* | met |",
        "| 30 servers faster than raw | 16.33 s vs 53.11 s *(earlier run, 2026-12-01)* | met |",
        "| scheduling --> 100 × faster per decision | 0.687 ms vs 81.3 ms *(earlier run, 2026-12-01)* | met |",
        "| host facts of 100 entries < 5 s | 3.10 s | met |",
    ]
    order = [line for line in text.split("\n") if line.startswith("<!-- part: end")]
    assert order == ["<!-- part: end %s -->" % p for p in ("machine", "e2e", "scheduler", "host_facts")]


def test_kept_twice_is_kept_unchanged(previous_file):
    """A part kept by one partial run and then another: one note, the same section and rows."""
    previous = report.parse_previous(previous_file)
    once = report.build({"host_facts": host_facts_result()},
                        dict((n, previous[n]) for n in previous if n != "host_facts"))
    again_previous = report.parse_previous(once)
    again = report.build({"host_facts": host_facts_result()},
                         dict((n, again_previous[n]) for n in again_previous if n != "host_facts"))
    assert again == once
    assert block(again, "e2e").count("From an earlier run") == 1


def test_a_later_run_of_a_kept_part_replaces_it(previous_file):
    previous = report.parse_previous(previous_file)
    e2e = {"part": "e2e", "finished_at": "2026-12-04T10:00:00Z", "section": "## End to end (part 2)\n\nfaster\n",
           "targets": [["one server < 2.87 s", "1.10 s to ACTIVE", "met"]]}
    text = report.build({"e2e": e2e}, dict((n, previous[n]) for n in previous if n != "e2e"))
    assert "1.39 s" not in text and "| one server < 2.87 s | 1.10 s to ACTIVE | met |" in table(text)
    assert "From an earlier run" not in block(text, "e2e")
    assert block(text, "host_facts").endswith(HOST_FACTS_OLD)


def test_incomplete_or_foreign_blocks_are_not_kept():
    text = "\n".join([
        "# Benchmarks", "",
        '<!-- part: start {"part": "e2e", "order": 0, "measured": null, "targets": []} -->',
        "## no end marker",
        '<!-- part: start {"part": "idempotent", "order": 10, "measured": null, "targets": []} -->',
        "## Idempotent", "",
        "<!-- part: end idempotent -->",
        "<!-- part: start {not json} -->",
        "## Broken",
        "<!-- part: end Broken -->",
        "## A section written before the markers",
        "<sub>measured 2026-11-01T00:00:00Z; raw results: `build/benchmarks/guest_boot.json`.</sub>", ""])
    parsed = report.parse_previous(text)
    assert sorted(parsed) == ["idempotent"]
    assert parsed["idempotent"]["section"] == "## Idempotent\n"


def test_load_reads_the_results_directory(tmp_path):
    (tmp_path / "e2e.json").write_text(json.dumps({"part": "e2e", "section": "## e2e\n"}))
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "other.json").write_text("[1, 2]")
    assert sorted(report.load(str(tmp_path))) == ["e2e"]
