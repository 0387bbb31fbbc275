"""BENCHMARKS.md from the raw results in build/benchmarks/*.json, keeping the parts they lack
from the previous BENCHMARKS.md.

Each part's script writes build/benchmarks/<part>.json through common.write_result:
its raw figures plus `part` and `module`. The section of a part is `render(data)` of
benchmarks/<module>.py; a part whose JSON carries a ready `section` (markdown) instead is
used as it is, so a part may also be written by a script that does not import common.py:

    {"part": "scheduler", "order": 60, "section": "## ...markdown...", "targets": [[...], ...]}

`targets` (optional, or `targets(data)` in the module): rows [target, measured, verdict]
for the summary table. Sections come in ORDER, then any other part by name.

A part with no JSON (a run of some parts only, on a machine whose build/ holds no earlier
results, e.g. a fresh clone) keeps its section, its rows of the targets table and its stamp
from the previous BENCHMARKS.md, marked as from an earlier run with the date it was measured.
For that every part's block is written between markers, the start carrying what the table
and the order need as JSON:

    <!-- part: start {"part": "e2e", "order": 0, "measured": "2026-...Z", "targets": [...]} -->
    ## ...the section, verbatim, and its stamp...
    <!-- part: end e2e -->

    report.py [--out BENCHMARKS.md] [--previous FILE (default: --out)]
"""

import argparse
import glob
import importlib
import json
import os
import re
import sys

ORDER = ["e2e", "idempotent", "host_facts", "guest_boot", "profile", "scheduler"]
COMMAND = "benchmarks/run.sh"
START_RE = re.compile(r"^<!-- part: start (\{.*\}) -->$")
END_RE = re.compile(r"^<!-- part: end (\S+) -->$")
START = "<!-- part: start %s -->"
END = "<!-- part: end %s -->"
# ends the line of the note a kept part gets (the note is not part of its section: dropped when read)
EARLIER = "<!-- part: earlier run -->"
DATE_RE = re.compile(r"\b(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?Z?(?: UTC)?)")


def load(out=None):
    if out is None:
        import common  # pylint: disable=import-outside-toplevel
        out = common.OUT
    parts = {}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        try:
            with open(path) as handle:
                data = json.load(handle)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("part"):
            parts[data["part"]] = data
    return parts


def module_of(data):
    name = data.get("module")
    if not name:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def section(data):
    module = module_of(data)
    if module is not None and hasattr(module, "render"):
        return module.render(data)
    return data.get("section") or "## %s\n\n(no section)\n" % data["part"]


def targets(data):
    module = module_of(data)
    if module is not None and hasattr(module, "targets"):
        return module.targets(data)
    return data.get("targets") or []


def order_of(name, data):
    return data.get("order", ORDER.index(name) * 10 if name in ORDER else 1000)


def measured_at(data, text):
    """When a part was measured: its finished_at, else the first date its section gives (the
    scheduler's "run 2026-12-01 07:39:01 UTC"), else None."""
    if data.get("finished_at"):
        return data["finished_at"]
    found = DATE_RE.search(text)
    return found.group(1) if found else None


def fresh_entry(name, data):
    """A part measured by this run: its section with its stamp, and its rows of the table."""
    body = section(data).rstrip("\n")
    if name != "machine":
        stamp = []
        if data.get("finished_at"):
            stamp.append("measured %s" % data["finished_at"])
        if data.get("load_start"):
            stamp.append("load average %s at the start" % " ".join(str(x) for x in data["load_start"]))
        if stamp:
            body += "\n\n<sub>%s; raw results: `build/benchmarks/%s.json`.</sub>" % ("; ".join(stamp), name)
    rows = [list(row) for row in targets(data)] if name != "machine" else []
    return {"part": name, "order": order_of(name, data), "measured": measured_at(data, body),
            "targets": rows, "section": body, "earlier": False}


def parse_previous(text):
    """{part: entry} of every complete block (start and end markers) of a BENCHMARKS.md this
    script wrote; a kept part's note is dropped, so its section is what its own run wrote."""
    kept = {}
    current = None
    for line in text.split("\n"):
        start = START_RE.match(line)
        if start:
            try:
                meta = json.loads(start.group(1))
            except ValueError:
                meta = None
            # a start inside an open block: the open one has no end, and is dropped
            current = (meta, []) if isinstance(meta, dict) and isinstance(meta.get("part"), str) else None
            continue
        if current is None:
            continue
        end = END_RE.match(line)
        if end and end.group(1) == current[0]["part"]:
            meta, body = current
            while body and body[0].endswith(EARLIER):
                body = body[2:] if len(body) > 1 and body[1] == "" else body[1:]
            kept[meta["part"]] = {
                "part": meta["part"], "order": meta.get("order", order_of(meta["part"], {})),
                "measured": meta.get("measured"), "targets": [list(r) for r in meta.get("targets") or []],
                "section": "\n".join(body), "earlier": True}
            current = None
        else:
            current[1].append(line)
    return kept


def _start(entry):
    meta = {"part": entry["part"], "order": entry["order"], "measured": entry["measured"],
            "targets": entry["targets"]}
    # '>' escaped in the JSON (as \u003e): the comment cannot end early at a '-->' of the text
    return START % json.dumps(meta, ensure_ascii=False, sort_keys=True).replace(">", "\\u003e")


def _earlier_note(entry):
    when = ("measured %s" % entry["measured"]) if entry["measured"] else "date not recorded"
    return ("<sub>**From an earlier run** (%s): not measured by the run that wrote this file, so this "
            "section and its rows of the targets table are kept from the previous `BENCHMARKS.md`."
            "</sub> %s" % (when, EARLIER))


def _earlier_row(row, entry):
    when = entry["measured"][:10] if entry["measured"] else "date not recorded"
    return [row[0], "%s *(earlier run, %s)*" % (row[1], when)] + list(row[2:])


def build(parts, previous=None):
    """BENCHMARKS.md from this run's results (`parts`, part name to JSON data) and the blocks of
    the previous file (`previous`, parse_previous's) for the parts this run lacks."""
    entries = dict((name, entry) for name, entry in (previous or {}).items())
    for name, data in parts.items():
        entries[name] = fresh_entry(name, data)
    names = sorted((n for n in entries if n != "machine"),
                   key=lambda n: (entries[n]["order"], ORDER.index(n) if n in ORDER else len(ORDER), n))
    lines = [
        "# Benchmarks",
        "",
        "Generated by `%s` (then `benchmarks/report.py` from the raw results in `build/benchmarks/*.json`); "
        "do not edit by hand: regenerate it from a fresh run whenever the engine or the spawn path changes. "
        "`benchmarks/README.md` says what each part measures and how. A part the last run did not measure "
        "keeps its section and rows from the previous file, marked as from an earlier run with its date."
        % COMMAND,
        "",
        "Each figure is the median of several runs, with the minimum and maximum and the number of runs. "
        "The machine is small (two CPUs) and may be shared: the load average at the start of each part is "
        "given, and figures taken under load are slower and noisier than on a quiet machine.",
        "",
    ]
    rows = []
    for name in names:
        entry = entries[name]
        rows += [_earlier_row(row, entry) if entry["earlier"] else row for row in entry["targets"]]
    if rows:
        lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
        lines += ["| %s |" % " | ".join(str(cell) for cell in row) for row in rows]
        lines.append("")
    for name in (["machine"] if "machine" in entries else []) + names:
        entry = entries[name]
        lines.append(_start(entry))
        if entry["earlier"]:
            lines += [_earlier_note(entry), ""]
        lines += [entry["section"], END % name, ""]
    return "\n".join(lines)


def main(argv=None):
    import common  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(common.REPO, "BENCHMARKS.md"))
    parser.add_argument("--previous", help="the BENCHMARKS.md whose parts are kept (default: --out)")
    args = parser.parse_args(argv)
    parts = load()
    if not parts:
        sys.exit("no results in %s: run benchmarks/run.sh first" % common.OUT)
    previous = {}
    path = args.previous or args.out
    if os.path.exists(path):
        with open(path) as handle:
            text = handle.read()
        previous = parse_previous(text)
        if not previous and text.strip():
            common.log("%s has no part markers: none of its sections can be kept" % path)
    kept = sorted(set(previous) - set(parts))
    text = build(parts, dict((name, previous[name]) for name in kept))
    with open(args.out + ".tmp", "w") as handle:
        handle.write(text)
    os.rename(args.out + ".tmp", args.out)
    kept_note = "; kept from an earlier run: " + ", ".join(kept) if kept else ""
    common.log("wrote %s (%s measured%s)" % (args.out, ", ".join(sorted(parts)), kept_note))


if __name__ == "__main__":
    main()
