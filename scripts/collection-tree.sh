# shellcheck shell=bash
# Sourced by the scripts that need the collection under ansible_collections/novalite/compute.
# collection_link: a temp tree whose novalite/compute links to the checkout (sets $coll).
# collection_copy: a temp copy of the checkout's files (ansible-test wants a real path; sets $dest).
# Both temp trees are removed when the script exits.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

collection_link() {
  coll=$work/link
  mkdir -p "$coll/ansible_collections/novalite"
  ln -s "$here" "$coll/ansible_collections/novalite/compute"
}

collection_copy() {
  dest=$work/copy/ansible_collections/novalite/compute
  mkdir -p "$dest"
  (cd "$here" && git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest/")
}
