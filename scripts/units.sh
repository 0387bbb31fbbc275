#!/usr/bin/env bash
# ansible-test units on a copy of the collection under ansible_collections/novalite/compute.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/novalite/compute
mkdir -p "$dest"
(cd "$here" && git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest/")
cd "$dest"
PATH="$here/.venv/bin:$PATH" "$here/.venv/bin/ansible-test" units --python 3.11 --local --requirements --color no "$@"
