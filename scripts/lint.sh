#!/usr/bin/env bash
# ansible-lint (production profile, .ansible-lint) on the roles and playbooks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
coll=$(mktemp -d)
trap 'rm -rf "$coll"' EXIT
mkdir -p "$coll/ansible_collections/novalite"
ln -s "$here" "$coll/ansible_collections/novalite/compute"
cd "$here"
PATH=$here/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$coll "$here/.venv/bin/ansible-lint" --offline -q roles playbooks
"$here/.venv/bin/antsibull-changelog" lint
