"""Part `machine`: what the figures were measured on (build/benchmarks/machine.json)."""

import os
import platform
import re
import subprocess
import sys

import common


def _out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _version(number):
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def collect():
    lscpu = _out(["lscpu"])
    model = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    meminfo = open("/proc/meminfo").read()
    mem = re.search(r"^MemTotal:\s*(\d+)", meminfo, re.M)
    data = {
        "nproc": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else "",
        "memory_gb": round(int(mem.group(1)) / 1024.0 / 1024.0, 1) if mem else None,
        "kernel": platform.release(),
        "os": _out(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "virtualization": _out(["systemd-detect-virt"]) or "unknown",
        "kvm": os.path.exists("/dev/kvm"),
        "python": platform.python_version(),
        "ansible_core": _out([os.path.join(common.BIN, "ansible"), "--version"]).splitlines()[0:1],
        "libvirtd": _out(["libvirtd", "--version"]),
        "qemu": _out(["qemu-system-x86_64", "--version"]).splitlines()[0:1],
    }
    try:
        import libvirt
        data["libvirt_python"] = _version(libvirt.getVersion())
    except ImportError:
        pass
    try:
        host = common.bed_hosts()[0]
        conn = common.connect(host)
        data["bed_host"] = {"libvirt": _version(conn.getLibVersion()), "qemu": _version(conn.getVersion()),
                            "memory_mb": conn.getInfo()[1], "cpus": conn.getInfo()[2],
                            "transport": host["uri"].split(":", 1)[0]}
        conn.close()
    except (SystemExit, Exception):  # the bed is not up: no host figures
        pass
    data["ansible_core"] = data["ansible_core"][0] if data["ansible_core"] else ""
    data["qemu"] = data["qemu"][0] if data["qemu"] else ""
    data["load"] = common.loadavg()
    return data


def render(data):
    bed = data.get("bed_host") or {}
    rows = [
        ("CPUs", "%s × %s" % (data["nproc"], data["cpu_model"])),
        ("memory", "%s GB" % data["memory_gb"]),
        ("OS, kernel", "%s, Linux %s (%s; /dev/kvm %s)"
         % (data["os"], data["kernel"], data["virtualization"], "present" if data["kvm"] else "absent")),
        ("libvirt, QEMU (machine)", "%s; %s" % (data["libvirtd"], data["qemu"])),
        ("test bed hosts", "3 systemd-nspawn containers on this machine, Debian 12, libvirt %s, QEMU %s, "
                           "plain QEMU (TCG) guests, reached over %s; libvirt sees %s MB and %s CPUs each"
         % (bed.get("libvirt", "?"), bed.get("qemu", "?"), bed.get("transport", "?"),
            bed.get("memory_mb", "?"), bed.get("cpus", "?"))),
        ("Python, ansible-core, libvirt-python",
         "%s, %s, %s" % (data["python"], data["ansible_core"], data.get("libvirt_python", "?"))),
        ("load average when measured", " ".join(str(x) for x in data["load"])),
    ]
    lines = ["## Machine", "", "| | |", "|---|---|"]
    lines += ["| %s | %s |" % row for row in rows]
    return "\n".join(lines + [""])


def main():
    common.write_result("machine", collect(), "machine")


if __name__ == "__main__":
    sys.exit(main())
