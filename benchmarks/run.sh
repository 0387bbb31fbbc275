#!/usr/bin/env bash
# The one command for the benchmarks:  benchmarks/run.sh [PART...] [-- ARGS for the part]
#
# With no PART, every part below runs in turn. Each part writes its own section
# of BENCHMARKS.md (see benchmarks/README.md).
#   scheduler   the collection's scheduling engine vs Nova's filter/weigher loop
#               (creates benchmarks/.venv-nova with Nova from PyPI on first use)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
python="$repo/.venv/bin/python"
[ -x "$python" ] || python="$(command -v python3)"

run_scheduler() {
    "$here/setup-nova-venv.sh"
    "$python" "$here/scheduler_vs_nova.py" "$@"
    "$python" "$here/scheduler_report.py"
}

all_parts=(scheduler)

parts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do parts+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")
for part in "${parts[@]}"; do
    if ! declare -F "run_$part" >/dev/null; then
        echo "benchmarks/run.sh: unknown part '$part' (known: ${all_parts[*]})" >&2
        exit 2
    fi
    echo "== benchmark part: $part" >&2
    "run_$part" "$@"
done
