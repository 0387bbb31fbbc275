#!/usr/bin/env bash
# The benchmarks of issue #5, from a fresh Debian 12 machine (as root):
#
#   benchmarks/run.sh [part...]
#
# parts: scheduler (the engine vs Nova 34 from PyPI in its own venv; needs no test bed),
# e2e idempotent host_facts guest_boot profile (default: all of them, in that order).
# Sets up what it needs: the machine and the venv (scripts/setup-host.sh), the tiny image
# (scripts/build-tiny-image.sh, copied to build/benchmarks/images for the run), the `nlbench`
# test bed (three nspawn hosts, prepare_compute.yml, the image pre-cached) which it always takes
# down at the end, also on failure or Ctrl-C. Each part writes its raw results to
# build/benchmarks/<part>.json; BENCHMARKS.md is then regenerated from every JSON there
# (benchmarks/report.py), and a part with no JSON keeps its section and targets rows from the
# previous BENCHMARKS.md, marked as from an earlier run: a part run alone updates its section only.
#
# Environment: NOVALITE_BENCH_RUNS (runs per one-server figure, default 5), NOVALITE_BENCH_RUNS30
# (runs per 30-server figure, default 3), NOVALITE_BENCH_SKIP_SETUP=1 (skip setup-host.sh),
# NOVALITE_BENCH_BED (test bed name, default nlbench), NOVALITE_BENCH_SCHEDULER_ARGS (options of
# benchmarks/scheduler_vs_nova.py for the scheduler part, e.g. "--quick" or "--rounds 1 --repetitions 1").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=$here/.venv/bin/python
out=$here/build/benchmarks
runs=${NOVALITE_BENCH_RUNS:-5}
runs30=${NOVALITE_BENCH_RUNS30:-3}
read -ra scheduler_args <<<"${NOVALITE_BENCH_SCHEDULER_ARGS:-}"
all_parts=(scheduler e2e idempotent host_facts guest_boot profile)
parts=("$@")
((${#parts[@]})) || parts=("${all_parts[@]}")

for part in "${parts[@]}"; do
  case $part in
    e2e | idempotent | host_facts | guest_boot | profile | scheduler) ;;
    *) echo "unknown part: $part (parts: ${all_parts[*]} scheduler)" >&2; exit 2 ;;
  esac
done

if [ "${NOVALITE_BENCH_SKIP_SETUP:-0}" != 1 ]; then
  "$here/scripts/setup-host.sh"
fi
# The tiny image, for the parts on the test bed (the scheduler part needs none).
if [[ " ${parts[*]} " != " scheduler " ]]; then
  "$here/scripts/build-tiny-image.sh" "$here/build/images"
  # A copy for this run: a rebuild of build/images meanwhile would change the images' checksums.
  mkdir -p "$out/images"
  cp "$here"/build/images/tiny-vmlinuz "$here"/build/images/tiny-initrd.img "$here"/build/images/tiny-root.qcow2 \
    "$out/images/"
fi
mkdir -p "$out"

cd "$here/benchmarks"
failed=()
run_part() {
  case $1 in
    e2e) "$py" e2e_servers.py --runs "$runs" --runs30 "$runs30" ;;
    idempotent) "$py" idempotent.py --runs "$runs" ;;
    host_facts) "$py" host_facts.py --runs "$runs" ;;
    guest_boot) "$py" guest_boot.py --runs "$runs" ;;
    profile) "$py" profile_one.py --runs "$runs" ;;
    # The engine vs Nova (no test bed): Nova from PyPI in benchmarks/.venv-nova, then its section
    # and its rows of the targets table (scheduler_report.py, from the measured figures) in
    # build/benchmarks/scheduler.json for report.py.
    scheduler)
      "$here/benchmarks/setup-nova-venv.sh" &&
        "$py" scheduler_vs_nova.py "${scheduler_args[@]}" &&
        rm -f "$out/scheduler-section.md" &&
        "$py" scheduler_report.py "$here/benchmarks/results/scheduler_vs_nova.json" "$out/scheduler-section.md" \
          "$out/scheduler.json"
      ;;
  esac
}
run() {
  echo "benchmarks: part $1" >&2
  run_part "$1" || failed+=("$1")
}
# The scheduler part needs no test bed: it runs first, before the bed's hosts start (their
# libvirtd probing QEMU and their first minutes' jobs would share the two CPUs with it).
bed_parts=()
for part in "${parts[@]}"; do
  if [ "$part" = scheduler ]; then run scheduler; else bed_parts+=("$part"); fi
done
if ((${#bed_parts[@]})); then
  trap '"$py" bed.py down' EXIT
  trap 'exit 130' INT TERM
  "$py" bed.py up
fi
# What the figures were measured on, the bed's hosts included: kept from the last run with the
# bed when only the scheduler part runs.
if ((${#bed_parts[@]})) || [ ! -e "$out/machine.json" ]; then
  "$py" machine.py
fi
for part in "${bed_parts[@]}"; do
  run "$part"
done

"$py" report.py --out "$here/BENCHMARKS.md"
if ((${#failed[@]})); then
  echo "benchmarks: failed parts: ${failed[*]} (their sections keep the previous results, if any)" >&2
  exit 1
fi
