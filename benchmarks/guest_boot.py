"""Part `guest_boot` (issue #5, part 5): how long the tiny guest takes to boot, from the
start to its console markers and to its DHCP lease.

Each run boots one server with `ansible-playbook benchmarks/boot.yml` (part e2e) while a
watcher in this process polls, every 20 ms, (a) the serial console logs of the bed hosts'
instance pools (files the hosts' QEMU writes, read through the hosts' root file systems on
this machine) for NOVALITE-GUEST-BOOTED, NOVALITE-DHCP ip=..., NOVALITE-GUEST-READY, and
(b) the libvirt DHCP leases of the `private` network on every host (virNetworkGetDHCPLeases).
Times are given from `ansible-playbook` start and from the server's `launched_at` (the
moment the collection saw the domain RUNNING).

    guest_boot.py [--runs 5]
"""

import argparse
import datetime
import glob
import os
import sys
import threading
import time

import common
from e2e_servers import PLAYBOOK, TASK, server_vars

MARKERS = ("NOVALITE-GUEST-BOOTED", "NOVALITE-DHCP ip=", "NOVALITE-GUEST-READY")
POOL_DIR = "var/lib/novalite/instances"


class Watcher(threading.Thread):
    """Record when each marker first shows in a console log that is new since start,
    and when a new DHCP lease shows on any host."""

    def __init__(self, hosts, interval=0.02):
        super(Watcher, self).__init__(daemon=True)
        self.hosts = hosts
        self.interval = interval
        self.seen = {}
        self.stop = threading.Event()
        self.before = set(self._logs())
        self.conns = [common.connect(h) for h in hosts]
        self.nets = [c.networkLookupByName(common.BED_NETWORK["name"]) for c in self.conns]
        self.leases_before = set(self._leases())

    def _logs(self):
        found = []
        for host in self.hosts:
            found += glob.glob(os.path.join(host["root"], POOL_DIR, "*.console.log"))
        return found

    def _leases(self):
        found = []
        for net in self.nets:
            for lease in net.DHCPLeases() or []:
                found.append((lease.get("mac"), lease.get("ipaddr")))
        return found

    def run(self):
        while not self.stop.is_set():
            now = time.time()
            for path in self._logs():
                if path in self.before:
                    continue
                try:
                    with open(path, "rb") as handle:
                        text = handle.read().decode("utf-8", "replace")
                except IOError:
                    continue
                for marker in MARKERS:
                    if marker in text and marker not in self.seen:
                        self.seen[marker] = now
            if "lease" not in self.seen and set(self._leases()) - self.leases_before:
                self.seen["lease"] = now
            if len(self.seen) == len(MARKERS) + 1:
                return
            time.sleep(self.interval)

    def close(self):
        self.stop.set()
        self.join(5)
        for conn in self.conns:
            conn.close()


def epoch(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def one_run(name, timeout=120):
    watcher = Watcher(common.bed_hosts())
    watcher.start()
    try:
        start = time.time()
        wall, result, proc = common.playbook(PLAYBOOK, server_vars(name))
        if proc.returncode != 0:
            raise RuntimeError("boot failed: %s" % common.failures(result))
        server = common.task_results(result, TASK)["results"][0]["servers"][0]
        launched = epoch(server["launched_at"])
        deadline = time.time() + timeout
        while watcher.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        seen = dict(watcher.seen)
    finally:
        watcher.close()
    missing = [m for m in MARKERS + ("lease",) if m not in seen]
    if missing:
        raise RuntimeError("not seen within %ss: %s" % (timeout, ", ".join(missing)))
    return {"play": wall, "active_from_start": launched - start,
            "from_start": dict((k, v - start) for k, v in seen.items()),
            "from_active": dict((k, v - launched) for k, v in seen.items()),
            "host": server["hypervisor_hostname"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    data = {"started_at": common.now(), "load_start": common.loadavg()}
    runs = []
    common.reset_failed_builds()
    try:
        for run in range(args.runs):
            prefix = "gboot%d-" % run
            common.settle(30)
            runs.append(one_run(prefix + "s"))
            common.wipe(prefix)
            common.log("guest boot run %d: ACTIVE %.2f s, BOOTED +%.2f s, lease +%.2f s, READY +%.2f s after ACTIVE"
                       % (run + 1, runs[-1]["active_from_start"], runs[-1]["from_active"]["NOVALITE-GUEST-BOOTED"],
                          runs[-1]["from_active"]["lease"], runs[-1]["from_active"]["NOVALITE-GUEST-READY"]))
    finally:
        common.wipe("gboot")
    data["runs"] = runs
    data["active_from_start"] = common.summary([r["active_from_start"] for r in runs])
    for key in MARKERS + ("lease",):
        data["start_to " + key] = common.summary([r["from_start"][key] for r in runs])
        data["active_to " + key] = common.summary([r["from_active"][key] for r in runs])
    data["load_end"] = common.loadavg()
    common.write_result("guest_boot", data, "guest_boot")


def render(data):
    f = common.fmt
    rows = [("console `NOVALITE-GUEST-BOOTED` (init runs)", "NOVALITE-GUEST-BOOTED"),
            ("DHCP lease in libvirt (`virNetworkGetDHCPLeases`)", "lease"),
            ("console `NOVALITE-DHCP ip=` (address applied)", "NOVALITE-DHCP ip="),
            ("console `NOVALITE-GUEST-READY`", "NOVALITE-GUEST-READY")]
    lines = [
        "## Guest boot: to the console markers and the DHCP lease (part 5)",
        "",
        "`benchmarks/guest_boot.py`: one server booted by `ansible-playbook benchmarks/boot.yml` (tiny image: "
        "Debian cloud kernel, busybox initramfs, direct kernel boot, config drive, virtio NIC on the bed's "
        "isolated network with its DHCP reservation), while the benchmark polls every 20 ms the hosts' "
        "console logs and DHCP leases.",
        "",
        "| event | from `ansible-playbook` start | from ACTIVE (`launched_at`) |",
        "|---|---|---|",
        "| server ACTIVE | %s | 0 |" % f(data["active_from_start"]),
    ]
    for label, key in rows:
        lines.append("| %s | %s | %s |" % (label, f(data["start_to " + key]), f(data["active_to " + key])))
    lines += [
        "",
        "What bounds it: QEMU without KVM (TCG; the nested KVM here starts guests whose kernels hang, "
        "see machine notes): the guest kernel's boot is emulated instruction by instruction, a few "
        "CPU-seconds, and shares the two CPUs with everything else on the machine. The lease follows "
        "from the guest's DHCP client (udhcpc) and the hosts' dnsmasq; nothing of the collection runs "
        "after ACTIVE.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
