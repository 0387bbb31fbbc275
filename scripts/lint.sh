#!/usr/bin/env bash
# ansible-lint (production profile, .ansible-lint) on the whole collection; changelog lint.
set -euo pipefail
# shellcheck source=scripts/collection-tree.sh
. "$(dirname "$0")/collection-tree.sh"
collection_link
cd "$here"
PATH=$here/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$coll "$here/.venv/bin/ansible-lint" --offline -q --profile production
"$here/.venv/bin/antsibull-changelog" lint
