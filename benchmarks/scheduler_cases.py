# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeded cases for the engine-vs-Nova differential check (tests/nova), as plain dicts.

Standard library only; imported by the engine's side (the test) and by Nova's
(nova_harness.py, in benchmarks/.venv-nova). A case:

    {"seed": N, "hosts": [host dict, as scheduler_inputs.hosts makes them],
     "request": {flavor, image, num_instances, instance_uuids, group,
                 availability_zone},
     "weight_multipliers": {option: value}}

What the cases hold, each drawn per case or per host from the seed:

- 1 to 120 hosts (most under 40), named h000, h001, ... in the order both sides
  get them; 1 to 20 instances per request.
- Sized to fit, most of them (FEASIBLE, 80 %): hosts and request are drawn
  again while no host would take one instance (the filters' and placement's
  rules estimated by _room), and a request larger than the room is cut to it
  (then the hosts are full at the request's end) or to fewer. About 90 % of the
  cases place every instance, so every per-instance choice is compared; the
  others, drawn as they come, mostly end in NoValidHost (at the first instance
  or mid-request).
- Hosts of a few small sizes (so a multi-instance request fills hosts
  mid-request), some with 0 vCPUs (no VCPU inventory in placement), a few with
  no disk; reserved memory, reserved disk in MB (often not a multiple of 1024)
  and reserved CPUs; per-host allocation ratios below 1 (0.9), at 1 and above.
- Usage from instances with flavors (some with swap, some with ephemeral
  disk), and on some hosts a boundary: an instance sized so the host's usage
  of one class is exactly placement's capacity minus k of the request's
  amount (k = 0 to 3), or one unit more.
- Flavors with swap and ephemeral disk, and sometimes an extra spec scoped
  aggregate_instance_extra_specs: against aggregates carrying it; aggregates
  carrying availability zones (requested by some cases) and weight multipliers.
- Server groups (affinity, anti-affinity with and without
  max_server_per_host, soft-affinity, soft-anti-affinity) with existing members.
- Disabled and down hosts, aarch64 hosts, qemu-only hosts, hosts with failed
  builds; the weight multipliers of the [filter_scheduler] options.

Not generated (known deliberate differences of the engine, see
nova_harness.py): an availability zone no aggregate of the case carries
(Nova's placement prefilter then adds no restriction, the engine keeps only
hosts in no zone); a numeric extra-spec operator against a text aggregate
value; image properties other than hw_architecture and img_hv_type. The
collection has no IoOpsWeigher: Nova's io_ops_weight_multiplier is 0.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import placement_emulation as placement
import scheduler_inputs

ZONES = ("az-a", "az-b", "az-c")
GROUP = "diff-group"
# Aggregates a host may be in (besides its zone): extra-spec values and weight multipliers.
EXTRA_AGGREGATES = (
    {"name": "ssd", "metadata": {"ssd": "true"}},
    {"name": "gpu1", "metadata": {"gpu_count": "1"}},
    {"name": "gpu4", "metadata": {"gpu_count": "4"}},
    {"name": "fast", "metadata": {"cpu_class": "fast"}},
    {"name": "slow", "metadata": {"cpu_class": "slow"}},
    {"name": "ram-x2", "metadata": {"ram_weight_multiplier": "2.0"}},
    {"name": "cpu-neg", "metadata": {"cpu_weight_multiplier": "-1.0"}},
    {"name": "disk-x3", "metadata": {"disk_weight_multiplier": "3.0"}},
)
EXTRA_SPECS = (
    {"aggregate_instance_extra_specs:ssd": "true"},
    {"aggregate_instance_extra_specs:gpu_count": ">= 2"},
    {"aggregate_instance_extra_specs:gpu_count": "<= 1"},
    {"aggregate_instance_extra_specs:cpu_class": "s== fast"},
    {"aggregate_instance_extra_specs:cpu_class": "<in> slo"},
    {"aggregate_instance_extra_specs:cpu_class": "<or> fast <or> slow"},
)
# The EXTRA_AGGREGATES whose metadata matches each of EXTRA_SPECS (worked out by
# hand from Nova's extra_specs_ops), for the generator's estimate of the room a
# request has (_room); the check itself leaves matching to each side.
SPEC_MATCHES = ({"ssd"}, {"gpu4"}, {"gpu1"}, {"fast"}, {"slow"}, {"fast", "slow"})
IMAGES = (
    {"hw_architecture": "x86_64", "img_hv_type": "kvm"},
    {"hw_architecture": "x86_64"},
    {"img_hv_type": "qemu"},
    {},
)
MULTIPLIERS = {
    "ram_weight_multiplier": (-1.0, 0.0, 0.5, 2.0),
    "cpu_weight_multiplier": (-1.0, 0.0, 2.0),
    "disk_weight_multiplier": (-1.0, 0.0, 3.0),
    "num_instances_weight_multiplier": (-1.0, 1.0),
    "soft_affinity_weight_multiplier": (0.0, 2.0),
    "soft_anti_affinity_weight_multiplier": (0.0, 2.0),
    "build_failure_weight_multiplier": (0.0, 10.0, 1000000.0),
}


def _flavor(rng, name):
    return {"name": name, "vcpus": rng.choice((1, 1, 2, 2, 4, 8)),
            "ram": rng.choice((512, 1000, 2048, 3000, 4096, 8192)),
            "disk": rng.choice((0, 1, 5, 10, 20, 40)), "ephemeral": rng.choice((0, 0, 0, 1, 5)),
            "swap": rng.choice((0, 0, 0, 512, 1000, 1024, 1536, 2048))}


def _instance(uuid, name, flavor, group=None):
    return {"uuid": uuid, "name": name, "vm_state": "active", "server_group": group, "project_id": "diff",
            "flavor": flavor}


def _boundary(rng, host, instances, request_flavor):
    """A filler flavor that sets one class's usage at capacity - k * amount (+1)."""
    inventories = placement.host_inventories(host)
    asked = placement.flavor_resources(request_flavor)
    classes = [rc for rc in asked if rc in inventories]
    if not classes:
        return None
    rc = rng.choice(classes)
    used = sum(placement.flavor_resources(i["flavor"]).get(rc, 0) for i in instances)
    target = int(placement.capacity(inventories[rc])) - rng.randint(0, 3) * asked[rc] + rng.choice((0, 0, 1))
    amount = target - used
    if amount <= 0:
        return None
    flavor = {"name": "filler", "vcpus": 0, "ram": 0, "disk": 0, "ephemeral": 0, "swap": 0}
    flavor[{placement.VCPU: "vcpus", placement.MEMORY_MB: "ram", placement.DISK_GB: "disk"}[rc]] = amount
    return flavor


# Share of the cases whose request is sized to the room its hosts have (_room):
# the others keep their drawn size, and most of them end in NoValidHost.
FEASIBLE = 0.8
# Draws of hosts and request for a case meant to fit before one without any room is kept.
ATTEMPTS = 8


def _eligible(host, request, spec_matches):
    """Would the filters pass this host (before resources and the group)?
    The generator's estimate only: enabled and up, the image's architecture and
    hypervisor type, the requested zone, the extra spec's aggregates."""
    properties = request["image"]["properties"]
    if not host["enabled"] or not host["up"]:
        return False
    if properties.get("hw_architecture", host["cpu_arch"]) != host["cpu_arch"]:
        return False
    if properties.get("img_hv_type") == "kvm" and host["virt_type"] != "kvm":
        return False
    if request.get("availability_zone") and host["availability_zone"] != request["availability_zone"]:
        return False
    return spec_matches is None or not spec_matches.isdisjoint(a["name"] for a in host["aggregates"])


def _fits_count(host, amounts, limit):
    """How many instances asking amounts placement could claim on host (at most limit)."""
    inventories = placement.host_inventories(host)
    used = {}
    for instance in host["instances"]:
        for rc, amount in placement.flavor_resources(instance["flavor"]).items():
            used[rc] = used.get(rc, 0) + amount
    count = 0
    while count < limit and all(placement.amount_fits(inventories.get(rc), used.get(rc, 0) + count * amount, amount)
                                for rc, amount in amounts.items()):
        count += 1
    return count


def _room(case_dict, limit=20):
    """An estimate of how many instances of the case's request all hosts can take
    (at most limit): per eligible host what placement could claim, within the
    group's policy (anti-affinity: max_server_per_host less the members there;
    affinity: the members' host, or without members the least room of a host
    that has any, as the first instance may go to any)."""
    request = case_dict["request"]
    specs = request["flavor"].get("extra_specs")
    spec_matches = SPEC_MATCHES[EXTRA_SPECS.index(specs)] if specs else None
    amounts = placement.flavor_resources(request["flavor"])
    group = request["group"]
    members = set(group["members"]) if group else set()
    counts = []
    for host in case_dict["hosts"]:
        if not _eligible(host, request, spec_matches):
            continue
        count = _fits_count(host, amounts, limit)
        on_host = sum(1 for i in host["instances"] if i["uuid"] in members)
        if group and group["policy"] == "anti-affinity":
            count = min(count, max(0, (group.get("rules") or {}).get("max_server_per_host", 1) - on_host))
        elif group and group["policy"] == "affinity" and members:
            count = count if on_host else 0
        counts.append(count)
    if group and group["policy"] == "affinity":
        return max(counts or [0]) if members else min([c for c in counts if c] or [0])
    return min(limit, sum(counts))


def case(seed):
    """One case from its seed: FEASIBLE of them sized to fit (_room: drawn again,
    up to ATTEMPTS times, while no host has room for one instance; more
    instances than the room cut to it, or to fewer), the others as drawn."""
    rng = random.Random("nova-differential-%d" % seed)
    feasible = rng.random() < FEASIBLE
    for dummy in range(ATTEMPTS):
        result = _draw(rng, seed)
        room = _room(result)
        if not feasible or room:
            break
    request = result["request"]
    if feasible and 0 < room < request["num_instances"]:
        request["num_instances"] = rng.choice((room, room, rng.randint(max(1, room // 2), room)))
        request["instance_uuids"] = request["instance_uuids"][:request["num_instances"]]
    return result


def _draw(rng, seed):
    """Hosts and a request, drawn from rng."""
    size = rng.random()
    host_count = rng.randint(1, 10) if size < 0.4 else rng.randint(9, 40) if size < 0.85 else rng.randint(41, 120)
    count = rng.random()
    num_instances = rng.randint(1, 3) if count < 0.4 else rng.randint(4, 10) if count < 0.8 else rng.randint(11, 20)
    flavor = _flavor(rng, "m1.diff")
    if rng.random() < 0.2:
        flavor["extra_specs"] = dict(rng.choice(EXTRA_SPECS))
    zoned = rng.random() < 0.5
    policy = rng.choice((None, None, "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"))
    rules = {}
    if policy == "anti-affinity" and rng.random() < 0.3:
        rules = {"max_server_per_host": rng.choice((2, 3))}
    members = []
    # Affinity: the existing members on one host at most (members on two hosts
    # leave no valid host, a case that says little).
    affinity_host = rng.randrange(host_count) if policy == "affinity" and rng.random() < 0.6 else None
    hosts = []
    for index in range(host_count):
        name = "h%03d" % index
        vcpus = 0 if rng.random() < 0.06 else rng.choice((2, 4, 8, 16, 32))
        host = {
            "name": name,
            "vcpus": vcpus,
            "memory_mb": rng.choice((2048, 4096, 8192, 8192, 16384, 32768, 65536)),
            "local_gb": 0 if rng.random() < 0.03 else rng.choice((20, 50, 100, 100, 200, 500)),
            "cpu_arch": "aarch64" if rng.random() < 0.05 else "x86_64",
            "virt_type": "qemu" if rng.random() < 0.1 else "kvm",
            "hypervisor_version": scheduler_inputs.HYPERVISOR_VERSION,
            "enabled": rng.random() >= 0.05,
            "up": rng.random() >= 0.03,
            "failed_builds": rng.randint(1, 3) if rng.random() < 0.1 else 0,
            "cpu_allocation_ratio": rng.choice((0.9, 1.0, 1.5, 4.0, 16.0)),
            "ram_allocation_ratio": rng.choice((0.9, 1.0, 1.0, 1.5)),
            "disk_allocation_ratio": rng.choice((0.9, 1.0, 1.0, 2.0)),
            "reserved_host_memory_mb": rng.choice((0, 512, 1000, 2048)),
            "reserved_host_disk_mb": rng.choice((0, 0, 100, 1000, 1500, 2048, 5000)),
            "reserved_host_cpus": rng.choice((0, 0, 1, 2)),
        }
        aggregates = []
        zone = "nova"
        if zoned and rng.random() < 0.85:
            zone = rng.choice(ZONES)
            aggregates.append({"name": zone, "metadata": {"availability_zone": zone}})
        for aggregate in EXTRA_AGGREGATES:
            if rng.random() < 0.3:
                aggregates.append({"name": aggregate["name"], "metadata": dict(aggregate["metadata"])})
        host["availability_zone"] = zone
        host["aggregates"] = aggregates
        instances = []
        for k in range(rng.choice((0, 0, 1, 1, 2, 3))):
            uuid = "%08x-%04x-4000-8000-%012x" % (seed, k, index)
            group = None
            if policy and (index == affinity_host if policy == "affinity" else rng.random() < 0.25):
                group = GROUP
                members.append(uuid)
            instances.append(_instance(uuid, "%s-vm%d" % (name, k), _flavor(rng, "m1.old%d" % k), group))
        filler = None
        if rng.random() < 0.35:
            filler = _boundary(rng, host, instances, flavor)
        elif rng.random() < 0.3:
            filler = {"name": "filler", "vcpus": rng.randint(0, max(0, int(vcpus * host["cpu_allocation_ratio"]))),
                      "ram": rng.randint(0, int(host["memory_mb"] * 0.7)),
                      "disk": rng.randint(0, int(host["local_gb"] * 0.7)), "ephemeral": 0, "swap": 0}
        if filler is not None:
            instances.append(_instance("%08x-ffff-4000-8000-%012x" % (seed, index), "%s-filler" % name, filler))
        host["instances"] = instances
        host.update(scheduler_inputs.facts_usage(instances))
        hosts.append(host)
    zones_carried = sorted(set(h["availability_zone"] for h in hosts if h["availability_zone"] != "nova"))
    availability_zone = None
    if zones_carried and rng.random() < 0.5:
        availability_zone = rng.choice(zones_carried)
    group = None
    if policy:
        group = {"name": GROUP, "policy": policy, "rules": rules, "members": members}
    multipliers = dict((option, rng.choice(values)) for option, values in sorted(MULTIPLIERS.items())
                       if rng.random() < 0.3)
    return {
        "seed": seed,
        "hosts": hosts,
        "request": {
            "flavor": flavor,
            "image": {"name": "diff-image", "properties": dict(rng.choice(IMAGES))},
            "num_instances": num_instances,
            "instance_uuids": ["%08x-0000-4000-9000-%012d" % (seed, i) for i in range(num_instances)],
            "group": group,
            "availability_zone": availability_zone,
        },
        "weight_multipliers": multipliers,
    }


def cases(count, first_seed=1):
    return [case(seed) for seed in range(first_seed, first_seed + count)]


def plain_host(name, vcpus=8, memory_mb=8192, local_gb=100, instances=(), **settings):
    """A hand-made host: defaults of Nova's settings, usage from instances."""
    host = {
        "name": name, "vcpus": vcpus, "memory_mb": memory_mb, "local_gb": local_gb, "cpu_arch": "x86_64",
        "virt_type": "kvm", "hypervisor_version": scheduler_inputs.HYPERVISOR_VERSION, "enabled": True,
        "up": True, "failed_builds": 0, "cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0, "reserved_host_memory_mb": 512, "reserved_host_disk_mb": 0,
        "reserved_host_cpus": 0, "availability_zone": "nova", "aggregates": [], "instances": list(instances),
    }
    host.update(settings)
    host.update(scheduler_inputs.facts_usage(host["instances"]))
    return host


def plain_request(flavor, num_instances, seed=0, **fields):
    request = {"flavor": dict({"name": "m1.hand", "ephemeral": 0, "swap": 0}, **flavor),
               "image": {"name": "hand-image", "properties": {}}, "num_instances": num_instances,
               "instance_uuids": ["%08x-0000-4000-9000-%012d" % (seed, i) for i in range(num_instances)],
               "group": None, "availability_zone": None}
    request.update(fields)
    return request
