"""The raw baseline: the same servers booted by hand with libvirt-python, nothing else.

For each host, one after another (sequentially: that is the baseline), for each of its
servers, one libvirt call each: a qcow2 overlay volume on the base image already in the
host's `_base` cache (the collection's cache, volumes named by the image's sha256),
define, start; then wait until the domain is RUNNING. The guest is the collection's:
the tiny image's kernel and initramfs from the cache, 1 vCPU, 192 MiB, the overlay on
virtio, one virtio NIC on the bed's network, the serial console to a file. No scheduler,
no claim, no DHCP reservation, no config drive, no metadata: the floor under any tool.

    raw_baseline.py SPEC.json     prints {"phases": ..., "servers": [...]} as JSON

SPEC: {"prefix": "rb-", "hosts": [{"name", "uri", "count"}], "kernel", "initrd", "root",
"pool": "nova_instances", "network": "private", "disk_gb": 1, "ram_mb": 192}.
The caller times the process from start to exit; this script only adds its own phases.
It removes nothing: the caller cleans up (benchmarks/common.py wipe).
"""

import hashlib
import json
import sys
import time

START = time.monotonic()

import libvirt  # noqa: E402  pylint: disable=wrong-import-position

DOMAIN = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{ram}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='{network}'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='{console}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='{console}' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""

OVERLAY = """<volume>
  <name>{name}</name>
  <capacity unit='bytes'>{size}</capacity>
  <target><format type='qcow2'/></target>
  <backingStore><path>{base}</path><format type='qcow2'/></backingStore>
</volume>
"""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def connect(uri, phases, name, attempts=3):
    """libvirt.open, again after a transport error (counted in phases: the SSH
    transport to a loaded host sometimes fails to open its channel)."""
    for attempt in range(1, attempts + 1):
        try:
            return libvirt.open(uri)
        except libvirt.libvirtError as exc:
            phases.setdefault("connect errors", []).append("%s: %s" % (name, exc))
            if attempt == attempts:
                raise
            time.sleep(0.5)
    return None


def main(spec):
    phases = {"import": time.monotonic() - START}
    mark = time.monotonic()
    sums = dict((key, sha256(spec[key])) for key in ("kernel", "initrd", "root"))
    phases["checksums"] = time.monotonic() - mark
    servers = []
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    for host in spec["hosts"]:
        if not host["count"]:
            continue
        mark = time.monotonic()
        conn = connect(host["uri"], phases, host["name"])
        phases["connect " + host["name"]] = time.monotonic() - mark
        pool = conn.storagePoolLookupByName(spec.get("pool", "nova_instances"))
        cache = conn.storagePoolLookupByName(spec.get("pool", "nova_instances") + "_base")
        base = dict((key, cache.storageVolLookupByName(value).path()) for key, value in sums.items())
        directory = base["root"].rsplit("/_base/", 1)[0]
        for index in range(1, host["count"] + 1):
            name = "%s%s-%d" % (spec["prefix"], host["name"], index)
            times = {"name": name, "host": host["name"]}
            mark = time.monotonic()
            vol = pool.createXML(OVERLAY.format(name=name + ".disk", size=spec.get("disk_gb", 1) * 1024 ** 3,
                                                base=base["root"]), 0)
            times["overlay"] = time.monotonic() - mark
            mark = time.monotonic()
            dom = conn.defineXML(DOMAIN.format(
                name=name, ram=spec.get("ram_mb", 192), kernel=base["kernel"], initrd=base["initrd"],
                disk=vol.path(), network=spec.get("network", "private"),
                console="%s/%s.console.log" % (directory, name)))
            times["define"] = time.monotonic() - mark
            mark = time.monotonic()
            dom.create()
            times["start"] = time.monotonic() - mark
            mark = time.monotonic()
            while dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
                time.sleep(0.01)
            times["wait_running"] = time.monotonic() - mark
            times["active_at"] = time.monotonic() - START
            servers.append(times)
        conn.close()
    phases["total_in_process"] = time.monotonic() - START
    return {"phases": phases, "servers": servers}


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        SPEC = json.load(handle)
    print(json.dumps(main(SPEC), indent=1))
