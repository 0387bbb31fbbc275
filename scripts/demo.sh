#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine (as root): installs libvirt, QEMU and the
# Python dependencies, builds the tiny guest image, builds and installs the collection,
# then boots servers on this machine's hypervisor and prints them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup-host.sh"
"$here/scripts/build-tiny-image.sh" "$here/build/images"
"$here/scripts/install-collection.sh" "$here/build/collections" >/dev/null 2>&1
export ANSIBLE_COLLECTIONS_PATH="$here/build/collections"
cd "$here/playbooks"
exec "$here/.venv/bin/ansible-playbook" -i localhost, -c local \
  -e "ansible_python_interpreter=$here/.venv/bin/python" demo.yml "$@"
