# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeded inputs for the engine-vs-Nova scheduling benchmark, as plain JSON-able dicts.

Both sides build their own objects from the same dict: the collection's HostState
and RequestSpec (scheduler_vs_nova.py), Nova's HostState and RequestSpec
(nova_harness.py, in the Nova virtual environment). Standard library only.

A host: hardware of a few sizes, random usage per resource (an instance of a
flavor of that size, beside 0 to 4 instances of the bench flavor), a few disabled or
down hosts, a few aarch64 hosts (the x86_64 image does not fit them), a few with
failed builds, three availability zones as aggregates, and one aggregate whose
metadata overrides ram_weight_multiplier. Every host has the same hypervisor
version (so Nova's HypervisorVersionWeigher, which this collection does not
have, gives every host 0) and no PCI devices or metrics (so Nova's PCIWeigher
and MetricsWeigher give every host the same figure).

The raw inputs of a host are its totals, its reserved amounts, its ratios and
its instances with their flavors. Each side derives its own figures from them:
the engine the facts nova_host_facts reports (facts_usage: the sums of the
instances' flavors, as virt/libvirt/host.py host_facts makes them), Nova's side
its compute node (Nova's resource tracker) and placement's allocations
(nova_harness.py, placement_emulation.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

HYPERVISOR_VERSION = 8002000
FLAVOR = {"name": "m1.bench", "vcpus": 2, "ram": 4096, "disk": 40, "ephemeral": 0, "swap": 0}
IMAGE_PROPERTIES = {"hw_architecture": "x86_64", "img_hv_type": "kvm"}
ZONES = ("az-a", "az-b", "az-c")
GROUP = "bench-group"


SCENARIOS = ("default", "anti-affinity", "soft-anti-affinity", "big-host", "realistic")
# Scenario realistic: a flavor extra spec that aggregate metadata must match
# (AggregateInstanceExtraSpecsFilter, enabled on both sides), on REALISTIC_SHARE
# of the hosts; an anti-affinity server group whose members are 5 % of the
# existing instances; the image properties of every request.
REALISTIC_EXTRA_SPECS = {"aggregate_instance_extra_specs:storage": "ssd"}
REALISTIC_AGGREGATE = {"name": "ssd-hosts", "metadata": {"storage": "ssd"}}
REALISTIC_SHARE = 0.4


def hosts(count, seed=1, scenario="default"):
    """count host dicts, named h00000, h00001, ... (name order is index order).
    Scenario big-host: h00005 is an empty host with 8 times the largest hardware,
    so it takes most instances and every placement moves the weighers' maxima."""
    rng = random.Random("hosts-%d-%d" % (seed, count))
    zone_aggregates = [{"name": zone, "metadata": {"availability_zone": zone}} for zone in ZONES]
    bigmem = {"name": "bigmem", "metadata": {"ram_weight_multiplier": "2.0"}}
    result = []
    for index in range(count):
        vcpus = rng.choice((16, 32, 48, 64, 96))
        memory_mb = rng.choice((65536, 131072, 196608, 262144, 393216))
        local_gb = rng.choice((480, 960, 1920, 3840))
        aggregates = [zone_aggregates[index % len(ZONES)]]
        if rng.random() < 0.05:
            aggregates.append(bigmem)
        name = "h%05d" % index
        instances = [{"uuid": "%08x-%04x-4000-8000-%012x" % (seed, k, index), "name": "%s-vm%d" % (name, k),
                      "vm_state": "active",
                      "server_group": GROUP if rng.random() < 0.05 else None, "project_id": "bench",
                      "flavor": dict(FLAVOR)}
                     for k in range(rng.randint(0, 4))]
        other = {"name": "m1.other", "vcpus": rng.randint(0, int(vcpus * 4 * 0.7)),
                 "ram": rng.randint(0, int(memory_mb * 0.8)), "disk": rng.randint(0, int(local_gb * 0.8)),
                 "ephemeral": 0, "swap": 0}
        instances.append({"uuid": "%08x-ffff-4000-8000-%012x" % (seed, index), "name": "%s-other" % name,
                          "vm_state": "active", "server_group": None, "project_id": "other", "flavor": other})
        result.append(dict({
            "name": name,
            "vcpus": vcpus,
            "memory_mb": memory_mb,
            "local_gb": local_gb,
            "cpu_arch": "aarch64" if rng.random() < 0.02 else "x86_64",
            "virt_type": "kvm",
            "hypervisor_version": HYPERVISOR_VERSION,
            "enabled": rng.random() >= 0.01,
            "up": rng.random() >= 0.01,
            "failed_builds": rng.choice((1, 2)) if rng.random() < 0.03 else 0,
            "availability_zone": ZONES[index % len(ZONES)],
            "aggregates": aggregates,
            "instances": instances,
            "cpu_allocation_ratio": 4.0,
            "ram_allocation_ratio": 1.0,
            "disk_allocation_ratio": 1.0,
            "reserved_host_memory_mb": 512,
            "reserved_host_disk_mb": 0,
            "reserved_host_cpus": 0,
        }, **facts_usage(instances)))
    if scenario == "realistic":
        # Its own random stream: the hosts are the default scenario's, some in one more aggregate.
        pick = random.Random("realistic-%d-%d" % (seed, count))
        aggregate = {"name": REALISTIC_AGGREGATE["name"], "metadata": dict(REALISTIC_AGGREGATE["metadata"])}
        for host in result:
            if pick.random() < REALISTIC_SHARE:
                host["aggregates"] = host["aggregates"] + [aggregate]
    if scenario == "big-host" and count > 5:
        result[5].update(vcpus=768, memory_mb=8 * 393216, local_gb=8 * 3840, instances=[],
                         cpu_arch="x86_64", enabled=True, up=True, failed_builds=0, **facts_usage([]))
    return result


def facts_usage(instances):
    """The *_used figures nova_host_facts reports for these instances (as
    virt/libvirt/host.py host_facts sums them; reserved amounts not included):
    vcpus, RAM, and root + ephemeral + swap rounded up to whole GB."""
    live = [i["flavor"] for i in instances if i.get("vm_state") != "deleted"]
    return {
        "vcpus_used": sum(f["vcpus"] for f in live),
        "memory_mb_used": sum(f["ram"] for f in live),
        "local_gb_used": sum(f["disk"] + f.get("ephemeral", 0) + -(-f.get("swap", 0) // 1024) for f in live),
    }


def request(num_instances, policy=None, host_list=None):
    """One request: the flavor, the image, num_instances uuids; with a policy, a
    server group whose members are the existing instances marked for it.
    Policy realistic: an anti-affinity group and the flavor's extra spec."""
    flavor = dict(FLAVOR)
    if policy == "realistic":
        policy = "anti-affinity"
        flavor["extra_specs"] = dict(REALISTIC_EXTRA_SPECS)
    if policy in ("default", "big-host"):
        policy = None
    group = None
    if policy:
        members = [i["uuid"] for h in host_list or () for i in h["instances"] if i["server_group"] == GROUP]
        group = {"name": GROUP, "policy": policy, "members": members}
    return {
        "flavor": flavor,
        "image": {"name": "bench-image", "properties": dict(IMAGE_PROPERTIES)},
        "num_instances": num_instances,
        "instance_uuids": ["00000000-0000-4000-8000-%012d" % i for i in range(num_instances)],
        "group": group,
    }
