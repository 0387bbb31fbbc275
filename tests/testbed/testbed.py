"""A test bed of real hypervisor hosts on one machine: systemd-nspawn containers.

Each host is a Debian container booted with its own systemd, sshd (and, once the
nova_compute role has installed it, libvirtd), in its own network namespace with its
own address on a bridge of the machine that routes nowhere: the hosts reach each other
and the machine, nothing else. The role installs libvirt, not this script: the
packages it needs are only pre-downloaded into each host's apt cache, because the
hosts have no network beyond the bridge.

    python3 tests/testbed/testbed.py up --name nlbed --hosts 3 [--extra-addresses N]
    python3 tests/testbed/testbed.py down --name nlbed

extra_addresses=N (default 0: none) gives each host N more addresses of the bed's /24 on the
same interface (one machine reachable under several addresses: sshd listens on all of them,
and the known_hosts file has every address with the host's key), for benchmarks that need
many distinct hypervisor URIs without as many machines.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib

CACHE = "/var/cache/novalite-testbed"
STATE = "/var/lib/novalite-testbed"
SUITE = "bookworm"
INCLUDE = "systemd,systemd-sysv,dbus,openssh-server,iproute2,python3,python3-apt,ca-certificates"
# What a compute node installs (the nova_compute role's packages): downloaded, not installed.
ROLE_PACKAGES = ["qemu-system-x86", "qemu-utils", "libvirt-daemon-system", "libvirt-clients",
                 "python3-libvirt", "dnsmasq-base"]
SUBNET_BASE = "10.213"
# A host's own address is .11, .12, ...; extra addresses (extra_addresses=N) are .100 upward,
# host after host: host 1 has .100 to .100+N-1, host 2 the next N, and so on.
EXTRA_FIRST = 100


def run(cmd, check=True, **kwargs):
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kwargs)


def log(message):
    print("testbed: " + message, file=sys.stderr, flush=True)


def debian_mirror():
    """The mirror the machine itself uses (deb822 or one-line sources)."""
    paths = ["/etc/apt/sources.list"]
    folder = "/etc/apt/sources.list.d"
    if os.path.isdir(folder):
        paths += [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                  if f.endswith((".sources", ".list"))]
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            for line in handle:
                words = line.split()
                if line.startswith("URIs:") and "debian" in line and "security" not in line:
                    return words[1]
                if words[:1] == ["deb"] and "debian" in line and "security" not in line:
                    return next(w for w in words[1:] if "://" in w)
    raise RuntimeError("no Debian mirror found in the machine's apt sources")


class _Mounts:
    """/proc, /sys, /dev bound into a chroot for apt, always unmounted."""

    def __init__(self, root):
        self.root = root
        self.done = []

    def __enter__(self):
        for what in ("proc", "sys", "dev"):
            target = os.path.join(self.root, what)
            run(["mount", "--bind", "/" + what, target])
            self.done.append(target)
        return self

    def __exit__(self, *exc):
        for target in reversed(self.done):
            run(["umount", "-l", target], check=False)
        return False


def build_base():
    """The cached root filesystem every host is copied from (built once)."""
    base = os.path.join(CACHE, "base-" + SUITE)
    stamp = os.path.join(base, ".novalite-base-complete")
    if os.path.exists(stamp):
        return base
    start = time.monotonic()
    if os.path.exists(base):
        shutil.rmtree(base)
    os.makedirs(CACHE, exist_ok=True)
    run(["debootstrap", "--variant=minbase", "--include=" + INCLUDE, SUITE, base, debian_mirror()])
    shutil.copy("/etc/resolv.conf", os.path.join(base, "etc/resolv.conf"))
    with _Mounts(base):
        run(["chroot", base, "apt-get", "update", "-qq"])
        run(["chroot", base, "apt-get", "install", "--download-only", "-y", "-qq",
             "--no-install-recommends"] + ROLE_PACKAGES, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    with open(os.path.join(base, "etc/resolv.conf"), "w") as handle:
        handle.write("")
    # sshd: root logs in with a key only.
    with open(os.path.join(base, "etc/ssh/sshd_config.d/novalite.conf"), "w") as handle:
        handle.write("PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n"
                     "HostKey /etc/ssh/ssh_host_ed25519_key\n")
    with open(stamp, "w") as handle:
        handle.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
    log("base built in %.0f s" % (time.monotonic() - start))
    return base


class TestBed:
    """N hosts named <name>-h1 ... in namespaces <name>-h1 ..., on bridge <name>br."""

    __test__ = False  # not a pytest class

    def __init__(self, name="nlbed", hosts=3, extra_addresses=0):
        if not name.isalnum() or len(name) > 8:
            raise ValueError("test bed name must be at most 8 letters and digits")
        if extra_addresses < 0 or EXTRA_FIRST + hosts * extra_addresses - 1 > 254:
            raise ValueError("%d extra addresses for each of %d hosts do not fit in .%d to .254 of the bed's /24"
                             % (extra_addresses, hosts, EXTRA_FIRST))
        self.name = name
        self.count = hosts
        self.extra_addresses = extra_addresses
        self.dir = os.path.join(STATE, name)
        self.key = os.path.join(self.dir, "id_ed25519")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.inventory_path = os.path.join(self.dir, "inventory.ini")
        self.bridge = name + "br"
        # one /24 per test bed name, so two beds never share addresses
        self.subnet = "%s.%d" % (SUBNET_BASE, 1 + zlib.crc32(name.encode("ascii")) % 48)
        self.hosts = [self._host(i) for i in range(1, hosts + 1)]

    def _host(self, index):
        name = "%s-h%d" % (self.name, index)
        address = "%s.%d" % (self.subnet, 10 + index)
        first = EXTRA_FIRST + (index - 1) * self.extra_addresses
        extra = ["%s.%d" % (self.subnet, first + k) for k in range(self.extra_addresses)]
        return {
            "name": name, "address": address, "netns": name,
            # every address the host answers on, its own first (only it without extra_addresses)
            "addresses": [address] + extra,
            "veth": "%sv%d" % (self.name, index),
            "root": os.path.join(self.dir, name, "rootfs"),
            "pidfile": os.path.join(self.dir, name, "nspawn.pid"),
            "logfile": os.path.join(self.dir, name, "nspawn.log"),
            "uri": self.uri(address),
            "ssh_key": self.key, "known_hosts": self.known_hosts,
        }

    def uri(self, address):
        """The libvirt URI of the host at `address` (its own, or one of its extra addresses)."""
        query = "keyfile=%s&known_hosts=%s&sshauth=privkey" % (self.key, self.known_hosts)
        return "qemu+libssh2://root@%s/system?%s" % (address, query)

    # ------------------------------------------------------------------ up
    def up(self, timeout=180):
        self.down()
        try:
            base = build_base()
            os.makedirs(self.dir, mode=0o700)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "novalite-testbed", "-f", self.key])
            with open(self.key + ".pub") as handle:
                pubkey = handle.read()
            run(["ip", "link", "add", self.bridge, "type", "bridge"])
            run(["ip", "addr", "add", self.subnet + ".1/24", "dev", self.bridge])
            run(["ip", "link", "set", self.bridge, "up"])
            for host in self.hosts:
                self._make_host(host, base, pubkey)
            for host in self.hosts:
                self._boot(host)
            deadline = time.monotonic() + timeout
            for host in self.hosts:
                self._wait_ssh(host, deadline)
            if self.extra_addresses:
                self._extra_known_hosts()
            self._write_inventory()
            return self
        except BaseException:
            self.down()
            raise

    def _make_host(self, host, base, pubkey):
        start = time.monotonic()
        os.makedirs(os.path.dirname(host["root"]))
        run(["cp", "-a", "--reflink=auto", base, host["root"]])
        root = host["root"]
        with open(os.path.join(root, "etc/hostname"), "w") as handle:
            handle.write(host["name"] + "\n")
        with open(os.path.join(root, "etc/hosts"), "w") as handle:
            handle.write("127.0.0.1 localhost\n%s %s\n" % (host["address"], host["name"]))
        ssh_dir = os.path.join(root, "root/.ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        with open(os.path.join(ssh_dir, "authorized_keys"), "w") as handle:
            handle.write(pubkey)
        os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        # root lingers: its systemd user manager runs from boot on. Otherwise every SSH login
        # starts it and the last logout stops it, and in the container that stop can hang for
        # its whole 2 min timeout ("Processes still around after final SIGKILL"), stalling the
        # next login: libvirt's SSH transport then fails ("failed to open ssh channel").
        linger = os.path.join(root, "var/lib/systemd/linger")
        os.makedirs(linger, exist_ok=True)
        open(os.path.join(linger, "root"), "w").close()
        for stale in ("etc/machine-id", "var/lib/dbus/machine-id"):
            path = os.path.join(root, stale)
            if os.path.exists(path):
                os.unlink(path)
        # each host its own SSH host key
        keydir = os.path.join(root, "etc/ssh")
        for name in os.listdir(keydir):
            if name.startswith("ssh_host_"):
                os.unlink(os.path.join(keydir, name))
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host["name"],
             "-f", os.path.join(keydir, "ssh_host_ed25519_key")])
        run(["ip", "netns", "add", host["netns"]])
        run(["ip", "link", "add", host["veth"], "type", "veth", "peer", "name", "host0",
             "netns", host["netns"]])
        run(["ip", "link", "set", host["veth"], "master", self.bridge, "up"])
        ns = ["ip", "netns", "exec", host["netns"]]
        run(ns + ["ip", "addr", "add", host["address"] + "/24", "dev", "host0"])
        for extra in host["addresses"][1:]:
            # sshd listens on every address (no ListenAddress), so it answers on these too
            run(ns + ["ip", "addr", "add", extra + "/24", "dev", "host0"])
        run(ns + ["ip", "link", "set", "host0", "up"])
        run(ns + ["ip", "link", "set", "lo", "up"])
        log("%s prepared in %.1f s" % (host["name"], time.monotonic() - start))

    def _boot(self, host):
        logfile = open(host["logfile"], "w")
        proc = subprocess.Popen(
            ["systemd-nspawn", "-D", host["root"], "-b", "--register=no", "--keep-unit",
             "--network-namespace-path=/run/netns/" + host["netns"], "--bind=/dev/kvm",
             "--capability=all", "--machine=" + host["name"], "--console=passive"],
            stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
            # /proc/sys/net writable: libvirt sets up bridges in the host's own namespace
            env=dict(os.environ, SYSTEMD_NSPAWN_API_VFS_WRITABLE="network"))
        logfile.close()
        with open(host["pidfile"], "w") as handle:
            handle.write(str(proc.pid))
        host["booted_at"] = time.monotonic()

    def _wait_ssh(self, host, deadline):
        while True:
            proc = run(self.ssh_command(host, ["true"], accept_new=True), check=False)
            if proc.returncode == 0:
                log("%s answers ssh %.1f s after boot" % (host["name"], time.monotonic() - host["booted_at"]))
                return
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not answer ssh: %s\n%s" % (host["name"], proc.stderr, self._tail(host)))
            time.sleep(0.5)

    def _extra_known_hosts(self):
        """The extra addresses in known_hosts with their host's own key (the one _make_host
        generated), then one login to the first and the last of each host's extra addresses
        with strict host key checking, to show sshd answers there and the entries hold."""
        lines = []
        for host in self.hosts:
            with open(os.path.join(host["root"], "etc/ssh/ssh_host_ed25519_key.pub")) as handle:
                key = " ".join(handle.read().split()[:2])
            lines += ["%s %s" % (address, key) for address in host["addresses"][1:]]
        with open(self.known_hosts, "a") as handle:
            handle.write("\n".join(lines) + "\n")
        for host in self.hosts:
            for address in sorted(set([host["addresses"][1], host["addresses"][-1]])):
                proc = run(self.ssh_command(dict(host, address=address), ["true"]), check=False)
                if proc.returncode != 0:
                    raise RuntimeError("%s does not answer ssh on its extra address %s: %s"
                                       % (host["name"], address, proc.stderr))
        log("%d extra addresses per host in known_hosts, ssh checked" % self.extra_addresses)

    @staticmethod
    def _tail(host):
        try:
            with open(host["logfile"]) as handle:
                return handle.read()[-2000:]
        except IOError:
            return ""

    def ssh_command(self, host, command, accept_new=False):
        return ["ssh", "-i", self.key, "-o", "UserKnownHostsFile=" + self.known_hosts,
                "-o", "StrictHostKeyChecking=" + ("accept-new" if accept_new else "yes"),
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "root@" + host["address"]] + list(command)

    def ssh(self, host, command, check=True):
        """Run a command (a list of words, no shell) on a host over SSH."""
        return run(self.ssh_command(host, command), check=check)

    def _write_inventory(self):
        lines = ["[nova_compute]"]
        for host in self.hosts:
            lines.append("%s ansible_host=%s" % (host["name"], host["address"]))
        lines += ["", "[nova_compute:vars]", "ansible_user=root",
                  "ansible_ssh_private_key_file=%s" % self.key,
                  "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes'"
                  % self.known_hosts,
                  "ansible_python_interpreter=/usr/bin/python3",
                  "nova_libvirt_known_hosts=%s" % self.known_hosts, ""]
        with open(self.inventory_path, "w") as handle:
            handle.write("\n".join(lines))

    def describe(self):
        described = {"name": self.name, "inventory": self.inventory_path, "bridge": self.bridge,
                     "hosts": [dict((k, v) for k, v in h.items() if k != "booted_at") for h in self.hosts]}
        if self.extra_addresses:
            described["extra_addresses"] = self.extra_addresses
        return described

    # ------------------------------------------------------------------ stop and down
    def stop_host(self, host, sig=signal.SIGTERM, timeout=20):
        """Stop one host's container (all of its processes)."""
        try:
            with open(host["pidfile"]) as handle:
                pid = int(handle.read())
        except (IOError, ValueError):
            return
        for signum in (sig, signal.SIGKILL):
            try:
                os.killpg(pid, signum)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                if _reap(pid):
                    break
                time.sleep(0.1)
            else:
                continue
            break
        # processes left in the host's namespace (guests' QEMU, dnsmasq) go too
        if os.path.exists("/run/netns/" + host["netns"]):
            pids = run(["ip", "netns", "pids", host["netns"]], check=False).stdout.split()
            for other in pids:
                try:
                    os.kill(int(other), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass

    def down(self):
        """Stop every host and remove namespaces, links and files; safe to repeat."""
        for host in self.hosts:
            self.stop_host(host, signal.SIGRTMIN + 4)  # systemd: poweroff
        for host in self.hosts:
            if os.path.exists("/run/netns/" + host["netns"]):
                run(["ip", "netns", "delete", host["netns"]], check=False)
            run(["ip", "link", "delete", host["veth"]], check=False)
        run(["ip", "link", "delete", self.bridge], check=False)
        if os.path.isdir(self.dir):
            for host in self.hosts:
                for sub in ("proc", "sys", "dev"):
                    run(["umount", "-l", os.path.join(host["root"], sub)], check=False)
            shutil.rmtree(self.dir, ignore_errors=True)

    def leftovers(self):
        """What of this test bed still exists (for tests asserting a clean tear-down)."""
        left = []
        netns = run(["ip", "netns", "list"], check=False).stdout
        for host in self.hosts:
            if host["netns"] in netns.split():
                left.append("netns " + host["netns"])
        links = run(["ip", "-o", "link"], check=False).stdout
        if (" %s:" % self.bridge) in links:
            left.append("bridge " + self.bridge)
        if os.path.exists(self.dir):
            left.append("dir " + self.dir)
        procs = run(["pgrep", "-f", "systemd-nspawn -D %s/" % self.dir], check=False).stdout.split()
        left += ["process %s" % p for p in procs]
        return left

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False


def _reap(pid):
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "base"])
    parser.add_argument("--name", default="nlbed")
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--extra-addresses", type=int, default=0,
                        help="more addresses of the bed's /24 for each host (default 0)")
    args = parser.parse_args(argv)
    bed = TestBed(args.name, args.hosts, args.extra_addresses)
    if args.action == "base":
        print(build_base())
    elif args.action == "up":
        start = time.monotonic()
        bed.up()
        log("%d hosts up in %.1f s" % (args.hosts, time.monotonic() - start))
        print(json.dumps(bed.describe(), indent=2))
    elif args.action == "down":
        bed.down()
        left = bed.leftovers()
        if left:
            print("left behind: " + ", ".join(left), file=sys.stderr)
            return 1
    else:
        print(json.dumps({"leftovers": bed.leftovers(), "bed": bed.describe()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
