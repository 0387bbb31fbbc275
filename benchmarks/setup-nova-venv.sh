#!/usr/bin/env bash
# Creates benchmarks/.venv-nova: OpenStack Nova from PyPI, for the engine-vs-Nova
# scheduling benchmark only (never a dependency of the collection).
#
# Pinned: nova 34.0.0 (the version PyPI gave when this benchmark was written).
# Every dependency installs from wheels on Python 3.11 / Debian 12 (no compiler
# needed); pip's --prefer-binary keeps it that way.
# NOVA_VERSION=... overrides the pin; NOVA_VENV=... the place.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NOVA_VENV:-$here/.venv-nova}"
version="${NOVA_VERSION:-34.0.0}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(0 if m.version('nova') == '$version' else 1)" 2>/dev/null; then
    echo "nova $version already in $venv"
    exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --prefer-binary "nova==$version"
"$venv/bin/python" -c "import nova.scheduler.filters, nova.scheduler.weights; import importlib.metadata as m; print('nova', m.version('nova'), 'in $venv')"
