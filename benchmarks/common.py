"""What the benchmark scripts share: the test bed they run on, the inventory, running
ansible-playbook the way a user does, statistics, raw results as JSON, clean-up.

Benchmarks are not tests: nothing here asserts a timing. Every figure is measured
several times; reports give the median with min and max, and the load average of
the machine around the measurement (other work on the machine makes figures noisy).
"""

import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.environ.get("NOVALITE_BENCH_OUT", os.path.join(REPO, "build", "benchmarks"))
IMAGES = os.path.join(OUT, "images")  # a copy of build/images made by run.sh, stable for the run
BED_NAME = os.environ.get("NOVALITE_BENCH_BED", "nlbench")
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
from helpers import ansible_env, collections_path   # noqa: E402  pylint: disable=wrong-import-position
from testbed import TestBed   # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, collections_path())
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage  # noqa: E402

# The libvirt network every bed host gets from prepare_compute (as the integration tests use).
BED_NETWORK = {"name": "private", "cidr": "10.213.7.0/24", "bridge": "nlpriv0"}
POOL = "nova_instances"
# Two-core hosts give 8 vCPUs each at Nova's default cpu_allocation_ratio 4.0: 24 one-vCPU
# servers over three hosts. The 30-server figures need 10 per host, so the bench inventory
# raises the ratio (a documented nova_cpu_allocation_ratio host variable, nothing else).
CPU_ALLOCATION_RATIO = 16.0


def catalog():
    """The flavor and images of the integration tests (tests/integration/conftest.catalog)."""
    return {
        "nova_flavors": [{"name": "m1.tiny", "vcpus": 1, "ram": 192, "disk": 1}],
        "nova_images": [
            {"name": "tiny-kernel", "file": os.path.join(IMAGES, "tiny-vmlinuz"), "disk_format": "aki"},
            {"name": "tiny-ramdisk", "file": os.path.join(IMAGES, "tiny-initrd.img"), "disk_format": "ari"},
            {"name": "tiny", "file": os.path.join(IMAGES, "tiny-root.qcow2"), "disk_format": "qcow2",
             "kernel_id": "tiny-kernel", "ramdisk_id": "tiny-ramdisk",
             "os_command_line": "console=ttyS0 quiet panic=-1",
             "properties": {"architecture": "x86_64", "hypervisor_type": "qemu"}},
        ],
    }


# --------------------------------------------------------------------------- the bed
# Each bed host answers on 33 more addresses of the bed's /24 (tests/testbed extra_addresses):
# 3 x 34 = 102 distinct addresses, so the host_facts part's 100 hypervisor entries are 100
# distinct URIs (nova_host_facts refuses two entries that reach the same host, port and driver)
# over the same 3 machines.
EXTRA_ADDRESSES = 33


def testbed():
    return TestBed(BED_NAME, 3, extra_addresses=EXTRA_ADDRESSES)


def bed_hosts():
    """The bed's hosts (name, address, uri, ...); the bed must be up."""
    bed = testbed()
    if not os.path.exists(bed.inventory_path):
        raise SystemExit("the %s test bed is not up (benchmarks/bed.py up)" % BED_NAME)
    return bed.hosts


def inventory_path():
    """The bench inventory: the bed's inventory, the CPU ratio above, and localhost
    (where nova_server runs) with this Python."""
    bed = testbed()
    with open(bed.inventory_path) as handle:
        text = handle.read()
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "inventory.ini")
    with open(path, "w") as handle:
        handle.write(text.rstrip("\n") + "\nnova_cpu_allocation_ratio=%s\n\n[local]\n"
                     "localhost ansible_connection=local ansible_python_interpreter=%s\n"
                     % (CPU_ALLOCATION_RATIO, PYTHON))
    return path


def connect(host):
    return connection.connect(host["uri"])


def wipe(prefix, hosts=None):
    """Remove every server named prefix* from the bed, the hosts in parallel: domains,
    instance volumes and DHCP reservations. Returns how many domains were removed."""
    removed = []

    def work(host):
        conn = connect(host)
        try:
            pool = storage.find_pool(conn, POOL)
            net = libvirt_network.find_network(conn, BED_NETWORK["name"])
            for dom in conn.listAllDomains():
                if not dom.name().startswith(prefix):
                    continue
                record = instance_record.read_record(dom) or {}
                guest.destroy_domain(dom)
                removed.append(dom.name())
                if pool is not None:
                    for vol in storage.instance_volumes(pool, dom.UUIDString()):
                        storage.delete_volume(vol)
                for port in record.get("ports") or []:
                    if net is not None:
                        libvirt_network.release_fixed_ip(pool, net, port["mac"])
            if pool is not None:
                # the raw baseline's volumes are named after its servers
                pool.refresh(0)
                for vol in pool.listAllVolumes(0):
                    if vol.name().startswith(prefix):
                        storage.delete_volume(vol)
        finally:
            conn.close()

    parallel(work, hosts or bed_hosts())
    return len(removed)


def reset_failed_builds(hosts=None):
    """failed_builds back to 0 on every host: a build that failed earlier (another part, a
    killed run) would make the BuildFailureWeigher steer every server away from that host."""
    for host in hosts or bed_hosts():
        conn = connect(host)
        try:
            pool = storage.find_pool(conn, POOL)
            if pool is not None and libvirt_host.host_record(conn).get("failed_builds"):
                libvirt_host.update_host_record(conn, pool, failed_builds=0)
        finally:
            conn.close()


def leftovers(prefix, hosts=None):
    """Domains, instance volumes and DHCP host entries of servers named prefix* on the bed."""
    found = []
    for host in hosts or bed_hosts():
        conn = connect(host)
        try:
            live = set()
            for dom in conn.listAllDomains():
                live.add(dom.UUIDString())
                if dom.name().startswith(prefix):
                    found.append("%s: domain %s" % (host["name"], dom.name()))
            pool = storage.find_pool(conn, POOL)
            if pool is not None:
                pool.refresh(0)
                found += ["%s: volume %s" % (host["name"], vol.name()) for vol in pool.listAllVolumes(0)
                          if vol.name()[:1] not in "._" and vol.name().split(".")[0] not in live]
            net = libvirt_network.find_network(conn, BED_NETWORK["name"])
            dhcp = libvirt_network.network_dhcp(net) if net is not None else None
            for mac, (ip, name) in (dhcp[2] if dhcp else {}).items():
                if (name or "").startswith(prefix):
                    found.append("%s: dhcp %s %s" % (host["name"], mac, ip))
        finally:
            conn.close()
    return found


def parallel(func, items):
    """func(item) for each item in its own thread; the first exception is raised."""
    errors = []

    def run(item):
        try:
            func(item)
        except Exception as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# ----------------------------------------------------------------------- running things
def env(extra=None):
    """ansible-playbook's environment: the collection from this checkout, results as JSON."""
    return ansible_env(extra)


def timed(cmd, extra_env=None, timeout=1800):
    """Run a command; (wall seconds from start to exit, CompletedProcess). The process's
    start on the epoch clock is kept as proc.started_at (seconds)."""
    started_at = time.time()
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(extra_env), timeout=timeout,
                          check=False)
    wall = time.monotonic() - start
    proc.started_at = started_at
    return wall, proc


def playbook(path, extra_vars=None, inventory=None, extra_env=None, check=False, prefix=()):
    """ansible-playbook PATH; (wall seconds, parsed JSON results, CompletedProcess).
    prefix: a command that runs ansible-playbook (its path and arguments follow)."""
    cmd = list(prefix) + [os.path.join(BIN, "ansible-playbook"), "-i", inventory or inventory_path(), path]
    if extra_vars is not None:
        vars_file = os.path.join(OUT, "vars-%d.json" % os.getpid())
        with open(vars_file, "w") as handle:
            json.dump(extra_vars, handle)
        cmd += ["-e", "@" + vars_file]
    if check:
        cmd.append("--check")
    wall, proc = timed(cmd, extra_env)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise RuntimeError("ansible-playbook printed no JSON (rc %s):\n%s\n%s"
                           % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return wall, data, proc


def task_results(data, name, host="localhost"):
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == name and host in task["hosts"]:
                return task["hosts"][host]
    raise KeyError("no task %r for %s" % (name, host))


def failures(data):
    found = []
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    found.append("%s on %s: %s" % (task["task"]["name"], host, result.get("msg")))
    return found


# -------------------------------------------------------------------------- figures
def summary(values):
    """median, min, max and the runs of a list of seconds."""
    values = [round(v, 4) for v in values]
    return {"median": round(statistics.median(values), 4), "min": min(values), "max": max(values),
            "runs": values, "n": len(values)}


def fmt(fig, digits=2):
    """'1.23 s (1.10-1.40, n=5)' for a summary."""
    if not fig:
        return "n/a"
    form = "%%.%df" % digits
    return "%s s (%s–%s, n=%d)" % (form % fig["median"], form % fig["min"], form % fig["max"], fig["n"])


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def settle(max_wait=60.0, below=None):
    """Wait until the machine's 1-minute load falls under `below` (default: the core count),
    up to max_wait seconds; returns the load then. Guests booting from an earlier run are
    still using the CPUs for a while after they were removed."""
    below = below if below is not None else float(os.cpu_count() or 1)
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > below and time.monotonic() < deadline:
        time.sleep(2)
    return loadavg()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_result(part, data, module):
    """build/benchmarks/<part>.json: the raw figures and the module (benchmarks/<module>.py)
    whose render(data) writes the part's section of BENCHMARKS.md."""
    os.makedirs(OUT, exist_ok=True)
    data = dict(data, part=part, module=module, finished_at=now())
    path = os.path.join(OUT, part + ".json")
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.rename(path + ".tmp", path)
    print("benchmarks: wrote %s" % path, file=sys.stderr)
    return path


def log(message):
    print("benchmarks: " + message, file=sys.stderr, flush=True)
