#!/usr/bin/env bash
# molecule test of the collection's default scenario (extensions/molecule/default):
# the nspawn test bed is created, converged with nova_compute, verified and destroyed.
set -euo pipefail
# shellcheck source=scripts/collection-tree.sh
. "$(dirname "$0")/collection-tree.sh"
collection_link
export ANSIBLE_COLLECTIONS_PATH=$coll
export PATH=$here/.venv/bin:$PATH
export NO_COLOR=1 ANSIBLE_NOCOLOR=1
cd "$here/extensions"
molecule test -s default "$@"
