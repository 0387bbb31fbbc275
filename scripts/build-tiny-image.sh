#!/usr/bin/env bash
# Build the tiny guest image for tests and the demo, from Debian packages only:
#   tiny-vmlinuz     Debian's cloud kernel (apt-get download, unpacked, never installed)
#   tiny-initrd.img  busybox-static + the virtio/iso9660 modules; /init prints markers on the
#                    serial console, reads the config drive, takes a DHCP address, stays up
#   tiny-root.qcow2  a small root disk (64 MiB virtual), the base of each server's overlay; its first
#                    sector says NOVALITE-LABEL:tiny
#   tiny-root-v2.qcow2      the same, labelled tiny-v2 (a second image to rebuild a server with)
#   tiny-root-rescue.qcow2  the same, labelled tiny-rescue (a rescue image)
#   SHA256SUMS       of them all
# Usage: build-tiny-image.sh [OUTDIR]   (default <repo>/build/images; skips the work when the
# outputs are newer than this script and match SHA256SUMS).
# Boot it with direct kernel boot (Nova's kernel_id/ramdisk_id): cmdline "console=ttyS0"
# (optionally "quiet panic=-1"), disks and NIC on virtio (bus='virtio', model='virtio'), root
# disk vda, config drive (ISO 9660, label config-2) any other virtio disk.
# Console markers: NOVALITE-GUEST-BOOTED, NOVALITE-ROOT-DISK <bytes>,
#   NOVALITE-CONFIG-DRIVE uuid=<uuid> name=<name>, NOVALITE-USER-DATA <first line>,
#   NOVALITE-PUBLIC-KEYS <n>, NOVALITE-DHCP ip=<ip> mac=<mac>, NOVALITE-GUEST-READY;
#   NOVALITE-DISK <dev> <label> for each virtio disk whose first sector holds NOVALITE-LABEL:<label>
#   (the root disk's image, a rescued server's own root disk on vdb), then NOVALITE-TICK <n>
#   uptime=<s> every 3 s (a guest paused or suspended and resumed counts on; a rebooted one starts
#   again at 1), and NOVALITE-ACPI-POWEROFF when the ACPI power button is pressed (virDomainShutdown:
#   busybox acpid runs /etc/acpi/PWRF/00000080, which powers the guest off).
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")/.." && pwd)
self=$(readlink -f "$0")
out=${1:-$here/build/images}
mkdir -p "$out"
outputs=(tiny-vmlinuz tiny-initrd.img tiny-root.qcow2 tiny-root-v2.qcow2 tiny-root-rescue.qcow2)

up_to_date() {
  local f
  [ -s "$out/SHA256SUMS" ] || return 1
  for f in "${outputs[@]}" SHA256SUMS; do
    [ -f "$out/$f" ] && [ "$out/$f" -nt "$self" ] || return 1
  done
  (cd "$out" && sha256sum --quiet --status -c SHA256SUMS)
}
if up_to_date; then
  echo "tiny image up to date in $out"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb depmod cpio gzip qemu-img sha256sum; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-static is not installed ($busybox)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "$busybox is dynamically linked: install busybox-static" >&2; exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
apt_opts=()
[ "$(id -u)" != 0 ] || apt_opts=(-o APT::Sandbox::User=root)   # no _apt sandbox warning

# ---------------------------------------------------------------- the kernel package
meta=linux-image-cloud-amd64
kernel_pkg() {
  apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}'
}
kpkg=$(kernel_pkg)
if [ -z "$kpkg" ]; then
  apt-get "${apt_opts[@]}" update -qq
  kpkg=$(kernel_pkg)
fi
[ -n "$kpkg" ] || { echo "cannot resolve the kernel package from $meta" >&2; exit 1; }
kver=${kpkg#linux-image-}
echo "kernel package: $kpkg"
(cd "$work" && apt-get "${apt_opts[@]}" download -qq "$kpkg")
dpkg-deb -x "$work/$kpkg"_*.deb "$work/kernel"
moddir=$work/kernel/lib/modules/$kver
kconfig=$work/kernel/boot/config-$kver
cp "$work/kernel/boot/vmlinuz-$kver" "$work/tiny-vmlinuz"
# The package ships no modules.dep (depmod runs at install time): make it in the temp tree.
[ -s "$moddir/modules.dep" ] || depmod -b "$work/kernel" "$kver"

# ---------------------------------------------------------------- the initramfs tree
root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,mnt,tmp,run,etc,lib/modules}
cp "$busybox" "$root/bin/busybox"
for applet in sh ash mount umount insmod sleep cat sed grep awk ip udhcpc ls echo head \
  tr wc mkdir dd printf sync acpid poweroff cut; do
  ln -sf busybox "$root/bin/$applet"
done
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

# Modules, dependencies first, from modules.dep; skipped when built in (CONFIG_...=y).
declare -A seen=()
order=()
builtin_config() {   # module name -> the Kconfig symbol that would build it in
  case "$1" in
    virtio) echo VIRTIO ;; virtio_ring) echo VIRTIO ;; virtio_pci) echo VIRTIO_PCI ;;
    virtio_blk) echo VIRTIO_BLK ;; virtio_net) echo VIRTIO_NET ;; isofs) echo ISO9660_FS ;;
    sr_mod) echo BLK_DEV_SR ;; virtio_scsi) echo SCSI_VIRTIO ;; button) echo ACPI_BUTTON ;;
    evdev) echo INPUT_EVDEV ;; *) echo "" ;;
  esac
}
add_module() {
  local name=${1//-/_} rel dep sym
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  rel=$(awk -F: -v n="$name" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.(xz|zst|gz))?$/, "", f);
        gsub(/-/, "_", f); if (f == n) { print $1; exit } }' "$moddir/modules.dep")
  if [ -z "$rel" ]; then
    sym=$(builtin_config "$name")
    if grep -qE "/${name}\.ko" "$moddir/modules.builtin" ||
       { [ -n "$sym" ] && grep -q "^CONFIG_${sym}=y" "$kconfig"; }; then
      echo "  $name: built in"
      return 0
    fi
    echo "module $name not found in $kpkg" >&2
    exit 1
  fi
  local deps
  deps=$(awk -F': *' -v m="$rel" '$1 == m { print $2; exit }' "$moddir/modules.dep")
  for dep in $deps; do
    dep=${dep##*/}; dep=${dep%%.ko*}
    add_module "$dep"
  done
  case "$rel" in
    *.ko.xz) xz -dc "$moddir/$rel" > "$root/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -qdc "$moddir/$rel" > "$root/lib/modules/$name.ko" ;;
    *.ko.gz) gzip -dc "$moddir/$rel" > "$root/lib/modules/$name.ko" ;;
    *) cp "$moddir/$rel" "$root/lib/modules/$name.ko" ;;
  esac
  order+=("$name")
}
# virtio PCI transport, virtio disks (root vda, config drive vdb...), virtio NIC, ISO 9660;
# sr_mod + virtio_scsi so a config drive attached as a virtio-scsi CD-ROM shows up as /dev/sr*.
# button + evdev: the ACPI power button as an input device, for acpid (a clean shutdown).
for m in virtio_pci virtio_blk virtio_net isofs sr_mod virtio_scsi button evdev; do
  add_module "$m"
done
printf '%s\n' "${order[@]}" > "$root/lib/modules/order"
echo "modules: ${order[*]}"

# ---------------------------------------------------------------- /init
cat > "$root/init" <<'INIT'
#!/bin/sh
# novalite tiny guest: markers on the serial console, config drive, DHCP, then stay up.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
echo 1 4 1 7 > /proc/sys/kernel/printk 2>/dev/null   # keep kernel chatter off the markers
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
echo "NOVALITE-GUEST-BOOTED"
# The ACPI power button (virDomainShutdown) powers the guest off, as a real OS's acpid would.
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\necho NOVALITE-ACPI-POWEROFF >/dev/console\nsync\npoweroff -f\n' > /etc/acpi/PWRF/00000080
chmod 755 /etc/acpi/PWRF/00000080
n=0
while ! ls /dev/input/event* >/dev/null 2>&1 && [ $n -lt 20 ]; do sleep 0.1; n=$((n + 1)); done
acpid -c /etc/acpi -l /tmp/acpid.log 2>/dev/null

# Root disk (the server's overlay) on vda.
n=0
while [ ! -e /sys/block/vda/size ] && [ $n -lt 20 ]; do sleep 0.25; n=$((n + 1)); done
if [ -e /sys/block/vda/size ]; then
  echo "NOVALITE-ROOT-DISK $(( $(cat /sys/block/vda/size) * 512 ))"
else
  echo "NOVALITE-ROOT-DISK none"
fi
# The label of each virtio disk's image (first sector NOVALITE-LABEL:<label>).
for dev in /dev/vd?; do
  [ -b "$dev" ] || continue
  first=$(dd if="$dev" bs=64 count=1 2>/dev/null | head -n 1 | tr -d '\000')
  case "$first" in NOVALITE-LABEL:*) echo "NOVALITE-DISK ${dev#/dev/} ${first#NOVALITE-LABEL:}" ;; esac
done

# json FILE FIELD: a top-level string value of FIELD, or with FIELD=#public_keys the number
# of entries of the top-level "public_keys" object (or list).
json() {
  awk -v want="$2" '
    { s = s $0 "\n" }
    function str(   c, o, e) {
      i++; o = ""
      while (i <= n) {
        c = substr(s, i, 1)
        if (c == "\\") { e = substr(s, i + 1, 1)
          if (e == "n") o = o " "; else if (e == "t") o = o " "; else if (e == "u") { o = o "?"; i += 4 } else o = o e
          i += 2; continue }
        if (c == "\"") { i++; return o }
        o = o c; i++
      }
      return o
    }
    END {
      n = length(s); i = 1; d = 0; keys = 0
      while (i <= n) {
        c = substr(s, i, 1)
        if (c == "{" || c == "[") { d++; obj[d] = (c == "{"); iskey[d] = obj[d]; i++; continue }
        if (c == "}" || c == "]") { d--; i++; continue }
        if (c == ",") { iskey[d] = obj[d]; i++; continue }
        if (c == "\"") {
          v = str()
          if (obj[d] && iskey[d]) { key[d] = v; iskey[d] = 0; if (d == 2 && key[1] == "public_keys") keys++ }
          else if (d == 1) val[key[1]] = v
          else if (d == 2 && !obj[2] && key[1] == "public_keys") keys++
          continue
        }
        i++
      }
      if (want == "#public_keys") print keys + 0; else print val[want]
    }' "$1"
}

# Config drive: ISO 9660 with volume label config-2 on any virtio disk or CD-ROM.
label() {   # the primary volume descriptor: "CD001" at 32769, the volume id at 32808
  [ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = "CD001" ] || return 1
  dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ' | tr 'A-Z' 'a-z'
}
found=""
for dev in /dev/vd* /dev/sr*; do
  [ -b "$dev" ] || continue
  [ "$(label "$dev")" = "config-2" ] || continue
  mount -t iso9660 -o ro "$dev" /mnt 2>/dev/null || continue
  found=$dev
  md=/mnt/openstack/latest/meta_data.json
  if [ -f "$md" ]; then
    echo "NOVALITE-CONFIG-DRIVE uuid=$(json "$md" uuid) name=$(json "$md" name)"
  else
    echo "NOVALITE-CONFIG-DRIVE uuid= name= (no openstack/latest/meta_data.json on $dev)"
  fi
  if [ -f /mnt/openstack/latest/user_data ]; then
    echo "NOVALITE-USER-DATA $(head -n 1 /mnt/openstack/latest/user_data | tr -d '\r')"
  fi
  if [ -f "$md" ]; then
    echo "NOVALITE-PUBLIC-KEYS $(json "$md" '#public_keys')"
  fi
  break
done
[ -n "$found" ] || echo "NOVALITE-CONFIG-DRIVE none"

# DHCP on eth0 (or the first NIC), the address applied with ip by the udhcpc script.
cat > /tmp/udhcpc.script <<'SCRIPT'
#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface" 2>/dev/null; break; done
    echo "$ip" > /tmp/dhcp-ip ;;
esac
exit 0
SCRIPT
chmod 755 /tmp/udhcpc.script
ip link set lo up
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 20 ]; do sleep 0.25; n=$((n + 1)); done
nic=eth0
if [ ! -e /sys/class/net/eth0 ]; then
  nic=""
  for p in /sys/class/net/*; do [ "${p##*/}" = lo ] || { nic=${p##*/}; break; }; done
fi
if [ -n "$nic" ]; then
  mac=$(cat "/sys/class/net/$nic/address")
  ip link set "$nic" up
  try=0
  while [ ! -s /tmp/dhcp-ip ] && [ $try -lt 4 ]; do   # 4 x (3 x 2 s) ~ 24 s at most
    udhcpc -i "$nic" -s /tmp/udhcpc.script -f -q -n -t 3 -T 2 >/dev/null 2>&1
    try=$((try + 1))
  done
  if [ -s /tmp/dhcp-ip ]; then
    echo "NOVALITE-DHCP ip=$(cat /tmp/dhcp-ip) mac=$mac"
  else
    echo "NOVALITE-DHCP-FAILED mac=$mac"
  fi
else
  echo "NOVALITE-DHCP-FAILED no network interface"
fi

echo "NOVALITE-GUEST-READY"
sync
# Stay up (PID 1 must never exit; the guest powers off only on the ACPI power button), counting.
n=0
while :; do
  n=$((n + 1))
  echo "NOVALITE-TICK $n uptime=$(cut -d' ' -f1 /proc/uptime)"
  sleep 3
done
INIT
chmod 755 "$root/init"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 \
  | gzip -9n > "$work/tiny-initrd.img")

# ---------------------------------------------------------------- the root disks
root_disk() {   # FILE LABEL: 64 MiB, the label in its first sector
  truncate -s 64M "$work/root.raw"
  printf 'NOVALITE-LABEL:%s\n' "$2" | dd of="$work/root.raw" conv=notrunc status=none
  qemu-img convert -q -f raw -O qcow2 "$work/root.raw" "$work/$1"
  rm -f "$work/root.raw"
}
root_disk tiny-root.qcow2 tiny
root_disk tiny-root-v2.qcow2 tiny-v2
root_disk tiny-root-rescue.qcow2 tiny-rescue

# Into place atomically: a test may be booting the previous build right now.
for f in "${outputs[@]}"; do
  chmod 0644 "$work/$f"
  cp "$work/$f" "$out/.$f.new"
  mv -f "$out/.$f.new" "$out/$f"
done
(cd "$out" && sha256sum "${outputs[@]}" > SHA256SUMS)
ls -l "$out"
