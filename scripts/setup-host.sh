#!/usr/bin/env bash
# Prepare this machine as the control node and as a local hypervisor:
# Debian packages (libvirt, QEMU, build tools for the tiny image), a Python
# virtual environment with the collection's dependencies, and a running libvirtd.
# Idempotent; run as root on Debian 12.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${NOVALITE_VENV:-$here/.venv}

apt_packages=(
  libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
  qemu-system-x86 qemu-utils dnsmasq-base ovmf
  busybox-static cpio xz-utils zstd kmod
  debootstrap systemd-container iproute2 openssh-client shellcheck chromium
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" -r "$here/requirements-test.txt"

"$here/scripts/start-libvirtd.sh"
