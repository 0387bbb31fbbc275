#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): sets up libvirt, QEMU and
# the Python venv, builds the tiny guest image and Nova's venv for the scheduler check
# (benchmarks/setup-nova-venv.sh, nova from PyPI), then runs the unit tests, the engine
# against Nova (tests/nova), the integration tests (the real local libvirtd, and a test bed
# of three nspawn hypervisor hosts), the molecule scenario, and ansible-test sanity on the
# collection.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup-host.sh"
"$here/scripts/build-tiny-image.sh" "$here/build/images"
"$here/benchmarks/setup-nova-venv.sh"
cd "$here"
"$here/.venv/bin/python" -m pytest -q --durations=40 tests/unit tests/nova tests/integration "$@"
"$here/scripts/molecule.sh"
"$here/scripts/units.sh"
"$here/scripts/lint.sh"
"$here/scripts/sanity.sh"
