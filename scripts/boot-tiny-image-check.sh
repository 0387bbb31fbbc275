#!/usr/bin/env bash
# Prove the tiny guest image boots: builds it if needed (scripts/build-tiny-image.sh), makes a
# config drive ISO (pycdlib: ISO 9660 + Joliet + Rock Ridge, volume id config-2), creates an
# isolated transient libvirt network (bridge nltest0, 10.213.77.0/24, DHCP .100-.200, no
# <forward>: no NAT, nothing leaves the machine) and a transient domain of type 'qemu' (TCG)
# with direct kernel boot, vda = qcow2 overlay of tiny-root.qcow2, vdb = the config drive
# (read-only), one virtio NIC, serial console to a file. Waits for NOVALITE-GUEST-READY,
# checks the markers, prints them and the boot time; always removes domain, network, temp dir.
# Usage: boot-tiny-image-check.sh [IMAGES_DIR] [TIMEOUT_SECONDS]
#   IMAGES_DIR defaults to <repo>/build/images; TIMEOUT_SECONDS to 90.
# Env: LIBVIRT_URI (default qemu:///system).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
images=${1:-$here/build/images}
timeout=${2:-90}
"$here/scripts/build-tiny-image.sh" "$images" >/dev/null
py=$here/.venv/bin/python
[ -x "$py" ] || py=python3
exec "$py" - "$(cd "$images" && pwd)" "$timeout" <<'PY'
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import xml.sax.saxutils as su

import libvirt
import pycdlib

images, timeout = sys.argv[1], float(sys.argv[2])
URI = os.environ.get("LIBVIRT_URI", "qemu:///system")
NET_NAME, BRIDGE = "nltest0", "nltest0"
GATEWAY, NETMASK = "10.213.77.1", "255.255.255.0"
RANGE = ("10.213.77.100", "10.213.77.200")
MAC = "52:54:00:4e:4c:%02x" % (os.getpid() % 256)
SERVER_UUID = str(uuid.uuid4())
SERVER_NAME = "tiny-check-%d" % os.getpid()
USER_DATA = b"hello-from-userdata\nsecond line\n"


def on_signal(signum, frame):
    raise SystemExit("interrupted by signal %d" % signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGHUP, on_signal)
libvirt.registerErrorHandler(lambda ctx, err: None, None)   # no libvirt noise on stderr


def config_drive(path):
    meta = {"uuid": SERVER_UUID, "name": SERVER_NAME, "hostname": SERVER_NAME,
            "launch_index": 0, "availability_zone": "nova",
            "keys": [{"name": "k", "type": "ssh", "data": "ssh-ed25519 AAAA test"}],
            "public_keys": {"k": "ssh-ed25519 AAAA test"}}
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, joliet=3, rock_ridge="1.09", vol_ident="config-2")
    for iso_dir, name in (("/OPENSTAC", "openstack"), ("/OPENSTAC/LATEST", "latest")):
        iso.add_directory(iso_dir, rr_name=name, joliet_path=iso_dir.replace(
            "/OPENSTAC", "/openstack").replace("/LATEST", "/latest"))
    for iso_name, name, data in (("META_DAT.JSO;1", "meta_data.json", json.dumps(meta).encode()),
                                 ("USER_DAT.;1", "user_data", USER_DATA)):
        iso.add_fp(io.BytesIO(data), len(data), "/OPENSTAC/LATEST/" + iso_name, rr_name=name,
                   joliet_path="/openstack/latest/" + name)
    iso.write(path)
    iso.close()


NETWORK_XML = """<network>
  <name>%s</name>
  <bridge name='%s' stp='on' delay='0'/>
  <ip address='%s' netmask='%s'>
    <dhcp><range start='%s' end='%s'/></dhcp>
  </ip>
</network>""" % (NET_NAME, BRIDGE, GATEWAY, NETMASK, RANGE[0], RANGE[1])


def domain_xml(name, kernel, initrd, root, cdrom, log):
    q = su.quoteattr
    return """<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file=%(root)s/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file=%(cdrom)s/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='%(mac)s'/>
      <source network='%(net)s'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path=%(log)s/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path=%(log)s/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>""" % dict(name=su.escape(name), uuid=SERVER_UUID, kernel=su.escape(kernel),
                    initrd=su.escape(initrd), root=q(root), cdrom=q(cdrom), log=q(log),
                    mac=MAC, net=NET_NAME)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return ""


def main():
    conn = libvirt.open(URI)
    tmp = tempfile.mkdtemp(prefix="tiny-boot-check-")
    os.chmod(tmp, 0o755)   # qemu may run as an unprivileged user
    dom = net = None
    try:
        # A leftover of a killed run (same network name) is removed first.
        try:
            old = conn.networkLookupByName(NET_NAME)
            if old.isActive():
                old.destroy()
            if old.isPersistent():
                old.undefine()
        except libvirt.libvirtError:
            pass
        for d in conn.listAllDomains():
            if d.name().startswith("tiny-boot-check-"):
                try:
                    pid = int(d.name().rsplit("-", 1)[1])
                    os.kill(pid, 0)   # its checker still runs: leave it alone
                    continue
                except (ValueError, ProcessLookupError):
                    pass
                except PermissionError:
                    continue
                try:
                    d.destroy()
                except libvirt.libvirtError:
                    pass

        overlay = os.path.join(tmp, "root.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                        os.path.join(images, "tiny-root.qcow2"), overlay], check=True)
        cdrom = os.path.join(tmp, "config-drive.iso")
        config_drive(cdrom)
        log = os.path.join(tmp, "console.log")

        net = conn.networkCreateXML(NETWORK_XML)   # transient, isolated
        name = "tiny-boot-check-%d" % os.getpid()
        xml = domain_xml(name, os.path.join(images, "tiny-vmlinuz"),
                         os.path.join(images, "tiny-initrd.img"), overlay, cdrom, log)
        start = time.monotonic()
        dom = conn.createXML(xml, 0)               # transient, started
        ready_at = None
        while time.monotonic() - start < timeout:
            if "NOVALITE-GUEST-READY" in read(log):
                ready_at = time.monotonic() - start
                break
            try:
                if not dom.isActive():
                    break
            except libvirt.libvirtError:
                break
            time.sleep(0.2)
        text = read(log)
        markers = [line.strip() for line in text.splitlines() if "NOVALITE-" in line]
        print("console markers:")
        for line in markers:
            print("  " + line)
        if ready_at is None:
            print("FAIL: no NOVALITE-GUEST-READY within %ds; console tail:\n%s"
                  % (timeout, text[-3000:]), file=sys.stderr)
            return 1

        expected = [
            "NOVALITE-GUEST-BOOTED",
            "NOVALITE-ROOT-DISK %d" % (64 * 1024 * 1024),
            "NOVALITE-CONFIG-DRIVE uuid=%s name=%s" % (SERVER_UUID, SERVER_NAME),
            "NOVALITE-USER-DATA hello-from-userdata",
            "NOVALITE-PUBLIC-KEYS 1",
        ]
        problems = [e for e in expected if e not in markers]
        m = re.search(r"^NOVALITE-DHCP ip=(\S+) mac=(\S+)$", text, re.M)
        if not m:
            problems.append("NOVALITE-DHCP ip=... mac=%s" % MAC)
        else:
            last = int(m.group(1).rsplit(".", 1)[1])
            if not (m.group(1).startswith("10.213.77.") and 100 <= last <= 200):
                problems.append("DHCP address %s outside the range" % m.group(1))
            if m.group(2).lower() != MAC:
                problems.append("DHCP mac %s != %s" % (m.group(2), MAC))
            leases = [lease["ipaddr"] for lease in net.DHCPLeases()
                      if lease.get("mac", "").lower() == MAC]
            if leases and m.group(1) not in leases:
                problems.append("DHCP address %s not among the leases %s" % (m.group(1), leases))
        time.sleep(2)
        if not dom.isActive():
            problems.append("the domain stopped after READY")
        sizes = ", ".join("%s %d" % (f, os.path.getsize(os.path.join(images, f)))
                          for f in ("tiny-vmlinuz", "tiny-initrd.img", "tiny-root.qcow2"))
        print("boot time (domain start -> NOVALITE-GUEST-READY): %.1f s" % ready_at)
        print("image sizes (bytes): %s" % sizes)
        if problems:
            print("FAIL: " + "; ".join(problems), file=sys.stderr)
            return 1
        print("OK: the tiny image boots (TCG), reads its config drive, takes a DHCP address")
        return 0
    finally:
        if dom is not None:
            try:
                dom.destroy()
            except libvirt.libvirtError:
                pass
        if net is not None:
            try:
                net.destroy()
            except libvirt.libvirtError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        conn.close()


sys.exit(main())
PY
