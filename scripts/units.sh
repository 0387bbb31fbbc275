#!/usr/bin/env bash
# ansible-test units on a copy of the collection under ansible_collections/novalite/compute.
set -euo pipefail
# shellcheck source=scripts/collection-tree.sh
. "$(dirname "$0")/collection-tree.sh"
collection_copy
cd "$dest"
PATH="$here/.venv/bin:$PATH" "$here/.venv/bin/ansible-test" units --python 3.11 --local --requirements --color no "$@"
