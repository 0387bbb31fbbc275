#!/usr/bin/env bash
# Build the collection tarball and install it into DIR (default build/collections).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/build/collections}
out=$here/build/dist
mkdir -p "$out" "$dest"
"$here/.venv/bin/ansible-galaxy" collection build "$here" --output-path "$out" --force
"$here/.venv/bin/ansible-galaxy" collection install "$out"/novalite-compute-*.tar.gz -p "$dest" --force
