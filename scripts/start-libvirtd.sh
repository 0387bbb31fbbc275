#!/usr/bin/env bash
# Start virtlogd and libvirtd on a machine whose PID 1 is not systemd, with guests
# running as root (otherwise libvirtd re-probes QEMU for ~44 s on every define).
set -euo pipefail
conf=/etc/libvirt/qemu.conf
grep -q '^user = "root"' "$conf" || echo 'user = "root"' >> "$conf"
grep -q '^group = "root"' "$conf" || echo 'group = "root"' >> "$conf"
if [ -d /run/systemd/system ]; then
  systemctl start virtlogd libvirtd
else
  pgrep -x virtlogd >/dev/null || virtlogd -d
  pgrep -x libvirtd >/dev/null || libvirtd -d
fi
for _ in $(seq 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "libvirtd did not answer on qemu:///system" >&2
exit 1
