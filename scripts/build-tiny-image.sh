#!/usr/bin/env bash
# Build the tiny guest image for tests and the demo, from Debian packages only:
#   tiny-vmlinuz     Debian's cloud kernel (apt-get download, unpacked, never installed)
#   tiny-initrd.img  busybox-static + virtio/iso9660 modules; /init prints markers on the
#                    serial console, reads the config drive, takes a DHCP address
#   tiny-root.qcow2  a small empty root disk, the base of each server's overlay
# Boot it with direct kernel boot (Nova's kernel_id/ramdisk_id), cmdline "console=ttyS0".
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/images}
mkdir -p "$out"
if [ -s "$out/SHA256SUMS" ] && [ "$out/SHA256SUMS" -nt "$0" ] && (cd "$out" && sha256sum --quiet -c SHA256SUMS); then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meta=linux-image-cloud-amd64
kpkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$kpkg" ]; then
  apt-get update -qq
  kpkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-/{print $2; exit}')
fi
(cd "$work" && apt-get download -q "$kpkg" 2>/dev/null)
dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
kver=${kpkg#linux-image-}
moddir=$work/kernel/lib/modules/$kver
cp "$work/kernel/boot/vmlinuz-$kver" "$work/tiny-vmlinuz"

# The initramfs tree.
root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,mnt,tmp,lib/modules,etc}
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount umount insmod sleep cat sed grep ip ifconfig udhcpc ls echo route head tr wc mkdir poweroff; do
  ln -sf busybox "$root/bin/$applet"
done

# Modules, with their dependencies first (modinfo reads them from the unpacked package).
declare -A seen=()
order=()
find_module() { find "$moddir/kernel" -name "$1.ko*" | head -n1; }
add_module() {
  local name=${1//-/_} path dep
  [ -n "${seen[$name]:-}" ] && return
  seen[$name]=1
  path=$(find_module "$name")
  [ -n "$path" ] || path=$(find_module "${name//_/-}")
  if [ -z "$path" ]; then
    grep -q "/$name.ko" "$moddir/modules.builtin" && return
    echo "module $name not found in $kpkg" >&2
    exit 1
  fi
  deps=$(modinfo -F depends "$path")
  for dep in ${deps//,/ }; do
    add_module "$dep"
  done
  case "$path" in
    *.xz) xz -dc "$path" > "$root/lib/modules/$name.ko" ;;
    *.zst) zstd -qdc "$path" > "$root/lib/modules/$name.ko" ;;
    *) cp "$path" "$root/lib/modules/$name.ko" ;;
  esac
  order+=("$name")
}
for m in virtio virtio_ring virtio_pci virtio_blk virtio_net isofs; do
  add_module "$m"
done
printf '%s\n' "${order[@]}" > "$root/lib/modules/order"

cat > "$root/udhcpc.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    echo "$ip" > /tmp/dhcp-ip
    ;;
esac
SCRIPT
chmod 755 "$root/udhcpc.script"

cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
echo "NOVALITE-GUEST-BOOTED"
sleep 1
if [ -e /sys/block/vda/size ]; then
  echo "NOVALITE-ROOT-DISK $(( $(cat /sys/block/vda/size) * 512 ))"
fi
for dev in /dev/vd? /dev/sr?; do
  [ -b "$dev" ] || continue
  if mount -t iso9660 -o ro "$dev" /mnt 2>/dev/null; then
    if [ -f /mnt/openstack/latest/meta_data.json ]; then
      meta=$(cat /mnt/openstack/latest/meta_data.json)
      uuid=$(echo "$meta" | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
      name=$(echo "$meta" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')
      echo "NOVALITE-CONFIG-DRIVE uuid=$uuid name=$name"
      keys=$(echo "$meta" | sed -n 's/.*"public_keys": *{\([^}]*\)}.*/\1/p' | grep -o '": *"' | wc -l)
      echo "NOVALITE-PUBLIC-KEYS $keys"
      if [ -f /mnt/openstack/latest/user_data ]; then
        echo "NOVALITE-USER-DATA $(head -n1 /mnt/openstack/latest/user_data)"
      fi
      break
    fi
    umount /mnt
  fi
done
if [ -e /sys/class/net/eth0 ]; then
  ip link set lo up
  ip link set eth0 up
  mac=$(cat /sys/class/net/eth0/address)
  for try in 1 2 3 4; do
    udhcpc -i eth0 -s /udhcpc.script -q -n -t 5 -T 1 >/dev/null 2>&1 && break
  done
  if [ -f /tmp/dhcp-ip ]; then
    echo "NOVALITE-DHCP ip=$(cat /tmp/dhcp-ip) mac=$mac"
  else
    echo "NOVALITE-DHCP-FAILED mac=$mac"
  fi
fi
echo "NOVALITE-GUEST-READY"
while true; do sleep 3600; done
INIT
chmod 755 "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9 > "$work/tiny-initrd.img")

qemu-img create -q -f qcow2 "$work/tiny-root.qcow2" 64M

cp "$work/tiny-vmlinuz" "$work/tiny-initrd.img" "$work/tiny-root.qcow2" "$out/"
chmod 0644 "$out"/tiny-*
(cd "$out" && sha256sum tiny-vmlinuz tiny-initrd.img tiny-root.qcow2 > SHA256SUMS)
