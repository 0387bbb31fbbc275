#!/usr/bin/env bash
# molecule test of the collection's default scenario (extensions/molecule/default):
# the nspawn test bed is created, converged with nova_compute, verified and destroyed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
coll=$(mktemp -d)
trap 'rm -rf "$coll"' EXIT
mkdir -p "$coll/ansible_collections/novalite"
ln -s "$here" "$coll/ansible_collections/novalite/compute"
export ANSIBLE_COLLECTIONS_PATH=$coll
export PATH=$here/.venv/bin:$PATH
cd "$here/extensions"
export NO_COLOR=1 ANSIBLE_NOCOLOR=1
exec molecule test -s default "$@"
