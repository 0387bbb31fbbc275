#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed under ansible_collections/novalite/compute.
set -euo pipefail
# shellcheck source=scripts/collection-tree.sh
. "$(dirname "$0")/collection-tree.sh"
# ansible-test fetches get-pip.py from a host outside the package registries; give it ours.
pip_version=$(sed -n "s/^ *pip='\\([0-9.]*\\)',$/\\1/p" \
  "$("$here/.venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
if [ -n "$pip_version" ]; then
  mkdir -p ~/.ansible/test/cache
  cp "$here/scripts/ansible-test-get-pip.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
fi
collection_copy
cd "$dest"
PATH="$here/.venv/bin:$PATH" "$here/.venv/bin/ansible-test" sanity --python 3.11 --local --color no "$@"
