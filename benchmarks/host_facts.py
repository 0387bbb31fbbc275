"""Part `host_facts` (issue #5, part 4): `nova_host_facts` over the three bed hosts and over
100 hypervisor entries, gathered in parallel. The 100 are 3 machines reached under 100
addresses: each bed host answers on 34 addresses of the bed's /24 (its own and 33 extra ones,
common.EXTRA_ADDRESSES), and the entries take them host after host, so every entry has its
own URI (nova_host_facts refuses two entries that reach the same host, port and driver) and
opens its own libvirt connection over SSH. The figures measure the cost of 100 connections
and gatherings, not 100 machines' worth of libvirt work: 3 libvirtds answer them all.

Figures: the `ansible-playbook` wall clock of one `nova_host_facts` task (3 hosts from the
inventory group; 100 from its `hypervisors` option), and the engine alone in this process
(hypervisor.gather_all: connect and read each host's facts, all hosts in parallel), plus the
same 3 and 100 gathered one after another, to show what the parallelism buys.

    host_facts.py [--runs 5] [--uris 100]
"""

import argparse
import os
import sys
import time

import common
from ansible_collections.novalite.compute.plugins.module_utils.compute import hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options
from ansible_collections.novalite.compute.plugins.module_utils.validation import catalogs as validation
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import check_options

PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      novalite.compute.nova_host_facts:
        hypervisors: "{{ bench_hypervisors | default(omit) }}"
        hypervisor_group: "{{ bench_group | default(omit) }}"
"""


def hypervisor_list(count):
    """`count` entries hv001..., each its own address: the hosts' own addresses first, then
    their extra addresses, host after host (hv001 on host 1, hv002 on host 2, ...)."""
    bed = common.testbed()
    hosts = common.bed_hosts()
    addresses = [host["addresses"][k] for k in range(len(hosts[0]["addresses"])) for host in hosts]
    if count > len(addresses):
        raise SystemExit("%d hypervisor entries asked for, but the bed's %d hosts answer on %d addresses "
                         "(common.EXTRA_ADDRESSES)" % (count, len(hosts), len(addresses)))
    return [{"name": "hv%03d" % (index + 1), "uri": bed.uri(addresses[index]), "virt_type": "qemu"}
            for index in range(count)]


def play(variables):
    path = os.path.join(common.OUT, "host-facts.yml")
    with open(path, "w") as handle:
        handle.write(PLAY)
    wall, data, proc = common.playbook(path, variables)
    if proc.returncode != 0:
        raise RuntimeError("nova_host_facts failed: %s" % (common.failures(data) or proc.stderr[-1000:]))
    hosts = common.task_results(data, "facts")["ansible_facts"]["nova_hosts"]
    return wall, sum(1 for h in hosts.values() if h["up"]), len(hosts), sorted(
        set(h["error"] for h in hosts.values() if not h["up"]))


def engine(configs, sequential=False):
    """(seconds, hosts up, errors) for gathering `configs` in this process."""
    options = hypervisor_options()
    hypervisors = [hypervisor.Hypervisor(validation.check_hypervisor("h", check_options("h", options, dict(c))))
                   for c in configs]
    start = time.monotonic()
    if sequential:
        for hv in hypervisors:
            hv.gather()
    else:
        hypervisor.gather_all(hypervisors, 60)
    wall = time.monotonic() - start
    for hv in hypervisors:
        if hv.conn is not None:
            try:
                hv.conn.close()
            except Exception:  # closing is best effort
                pass
    return wall, sum(1 for hv in hypervisors if hv.up), sorted(set(hv.error for hv in hypervisors if not hv.up))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uris", type=int, default=100)
    args = parser.parse_args(argv)
    three = hypervisor_list(3)
    many = hypervisor_list(args.uris)
    figures = dict((key, []) for key in ("play3", "play_many", "engine3", "engine_many", "engine3_sequential"))
    up = {"play3": [], "play_many": [], "engine3": [], "engine_many": []}
    errors = set()
    data = {"started_at": common.now(), "uris": args.uris, "load_start": common.loadavg()}
    for run in range(args.runs):
        common.settle(20)
        wall, n_up, _n, errs = play({"bench_group": "nova_compute"})
        figures["play3"].append(wall)
        up["play3"].append(n_up)
        errors.update(errs)
        wall, n_up, _n, errs = play({"bench_hypervisors": many})
        figures["play_many"].append(wall)
        up["play_many"].append(n_up)
        errors.update(errs)
        for key, configs in (("engine3", three), ("engine_many", many)):
            wall, n_up, errs = engine(configs)
            figures[key].append(wall)
            up[key].append(n_up)
            errors.update(errs)
        figures["engine3_sequential"].append(engine(three, sequential=True)[0])
        common.log("host facts run %d: play 3 %.2f s, play %d %.2f s (%d up), engine 3 %.2f s, engine %d %.2f s"
                   % (run + 1, figures["play3"][-1], args.uris, figures["play_many"][-1], up["play_many"][-1],
                      figures["engine3"][-1], args.uris, figures["engine_many"][-1]))
    wall, n_up, errs = engine(many, sequential=True)
    data["engine_many_sequential"] = {"seconds": round(wall, 3), "up": n_up}
    errors.update(errs)
    data.update(dict((k, common.summary(v)) for k, v in figures.items()))
    data["up"] = up
    data["errors"] = sorted(e for e in errors if e)
    data["load_end"] = common.loadavg()
    common.write_result("host_facts", data, "host_facts")


def render(data):
    f = common.fmt
    n = data["uris"]
    seq = data["engine_many_sequential"]
    lines = [
        "## `nova_host_facts` over the bed hosts and over %d hypervisor URIs (part 4)" % n,
        "",
        "`benchmarks/host_facts.py`: one `nova_host_facts` task in `ansible-playbook` (3 hosts from the "
        "`nova_compute` group; %d from its `hypervisors` option: names `hv001`…, each its own URI and "
        "libvirt connection over SSH), and the engine alone in the benchmark's "
        "process (`hypervisor.gather_all`: connect and read each host's facts, in parallel threads)." % n,
        "",
        "**The %d are 3 machines reached under %d addresses**: each bed host answers on several addresses "
        "of the bed's /24 (`tests/testbed` `extra_addresses`), and the entries take them host after host "
        "(`nova_host_facts` refuses two entries that reach the same host, port and driver). So the figures "
        "measure the cost of %d connections and gatherings (SSH handshakes, logins, libvirt calls), not "
        "%d machines' worth of libvirt work: the same 3 libvirtds answer them all." % (n, n, n, n),
        "",
        "| figure | median (min–max, n) | hosts up (per run) |",
        "|---|---|---|",
        "| `ansible-playbook`, 3 bed hosts | %s | %s |" % (f(data["play3"]), data["up"]["play3"]),
        "| `ansible-playbook`, %d URIs | %s | %s |" % (n, f(data["play_many"]), data["up"]["play_many"]),
        "| engine, 3 hosts in parallel | %s | %s |" % (f(data["engine3"]), data["up"]["engine3"]),
        "| engine, 3 hosts one after another | %s | |" % f(data["engine3_sequential"]),
        "| engine, %d URIs in parallel | %s | %s |" % (n, f(data["engine_many"]), data["up"]["engine_many"]),
        "| engine, %d URIs one after another (once) | %.2f s | %d |" % (n, seq["seconds"], seq["up"]),
        "",
    ]
    if data["errors"]:
        lines += ["Errors seen: " + "; ".join("`%s`" % e[:200] for e in data["errors"]), ""]
    lines += [
        "What bounds it: each hypervisor costs one libvirt connection over SSH (key exchange, login, "
        "the remote `virt-ssh-helper`; libvirt's libssh2 transport) and a handful of libvirt calls; in "
        "parallel the three hosts take about as long as the slowest one. With %d connections the three "
        "hosts' sshd and libvirtd and this machine's two CPUs do the work: SSH handshakes are CPU, so "
        "the figure grows with the connections per CPU, not per host; sshd's `MaxStartups` (10:30:100 by "
        "default) refuses some of many simultaneous unauthenticated connections, which shows as hosts "
        "down above if it happened." % n,
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
