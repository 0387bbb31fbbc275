# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import registry as filters
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.manager import (
    NoValidHost, Selection, select_destinations)


def host(name, memory_mb=4608, mem_used=0, instances=(), up=True, **config):
    """By default 4096 MB free (512 reserved), 4 vCPUs (16 with ratio), 100 GB."""
    facts = None
    if up:
        facts = {"hypervisor_hostname": name, "hypervisor_type": "QEMU", "hypervisor_version": 8002000,
                 "virt_type": "kvm", "cpu_arch": "x86_64", "vcpus": 4, "vcpus_used": 0, "memory_mb": memory_mb,
                 "memory_mb_used": mem_used, "local_gb": 100, "local_gb_used": 0, "running_vms": 0,
                 "instances": list(instances)}
    config.setdefault("name", name)
    config["up"] = up
    return HostState.from_facts(facts, config)


def record(uuid, name, group=None):
    return {"uuid": uuid, "name": name, "vm_state": "active", "server_group": group, "project_id": "p",
            "flavor": {"name": "f", "vcpus": 1, "ram": 512, "disk": 1}}


def spec(ram=1024, num=1, **kw):
    return build_request_spec(Flavor("m1", 1, ram, 1), ImageMeta("img"), num_instances=num, **kw)


def placed(result):
    return [s.host for s in result.selections]


def snapshot(hosts):
    return [(h.host, h.free_ram_mb, h.free_disk_mb, h.vcpus_used, h.num_instances, sorted(h.instances))
            for h in hosts]


# ------------------------------------------------------------ SchedulerConfig
def test_config_defaults_and_validation():
    config = SchedulerConfig()
    assert config.enabled_filters == filters.DEFAULT_FILTERS
    assert (config.max_attempts, config.host_subset_size) == (3, 1)
    assert [x.name for x in config.filters] == filters.DEFAULT_FILTERS
    with pytest.raises(ValueError, match="'NUMATopologyFilter'"):
        SchedulerConfig(enabled_filters=["ComputeFilter", "NUMATopologyFilter"])
    with pytest.raises(ValueError, match="enabled_filters"):
        SchedulerConfig(enabled_filters="ComputeFilter")
    with pytest.raises(ValueError, match="twice"):
        SchedulerConfig(enabled_filters=["ComputeFilter", "ComputeFilter"])
    with pytest.raises(ValueError, match="max_attempts"):
        SchedulerConfig(max_attempts=0)
    with pytest.raises(ValueError, match="host_subset_size"):
        SchedulerConfig(host_subset_size="2")
    with pytest.raises(ValueError, match="io_ops_weight_multiplier"):
        SchedulerConfig(weight_multipliers={"io_ops_weight_multiplier": 1})


# ------------------------------------------------------------- one instance
def test_best_host_and_alternates():
    hosts = [host("h1", mem_used=3000), host("h2"), host("h3", mem_used=1000), host("h4", mem_used=2000)]
    result = select_destinations(hosts, spec(), SchedulerConfig())
    (selection,) = result.selections
    assert isinstance(selection, Selection)
    assert selection.host == "h2"
    assert selection.alternates == ["h3", "h4"]          # max_attempts 3 -> 2 alternates, best first
    assert selection.weight == result.weighed[0][1]
    assert [pair[0] for pair in result.weighed] == ["h2", "h3", "h4", "h1"]


def test_hosts_in_any_order_are_taken_in_name_order_and_a_repeated_name_is_refused():
    hosts = [host("h3", mem_used=1000), host("h1", mem_used=2000), host("h2")]
    assert placed(select_destinations(hosts, spec(num=3))) == placed(select_destinations(sorted(
        hosts, key=lambda h: h.host), spec(num=3)))
    for names in (["h1", "h1", "h2"], ["h2", "h1", "h2"]):
        with pytest.raises(ValueError, match="host_states: host 'h[12]' appears twice"):
            select_destinations([host(name) for name in names], spec())


def test_alternates_only_from_hosts_that_passed():
    hosts = [host("h1"), host("h2", mem_used=3500), host("h3", enabled=False), host("h4", up=False)]
    (selection,) = select_destinations(hosts, spec(), SchedulerConfig(max_attempts=5)).selections
    assert (selection.host, selection.alternates) == ("h1", [])
    hosts.append(host("h5", mem_used=1000))
    (selection,) = select_destinations(hosts, spec(), SchedulerConfig(max_attempts=5)).selections
    assert (selection.host, selection.alternates) == ("h1", ["h5"])
    (selection,) = select_destinations(hosts, spec(), SchedulerConfig(max_attempts=1)).selections
    assert selection.alternates == []


def test_availability_zone_and_hints():
    hosts = [host("h1", availability_zone="az1"),
             host("h2", availability_zone="az2", mem_used=1000, instances=[record("u1", "db1")]),
             host("h3", availability_zone="az2", mem_used=500)]
    assert placed(select_destinations(hosts, spec(availability_zone="az2"))) == ["h3"]
    assert placed(select_destinations(hosts, spec(scheduler_hints={"same_host": ["db1"]}))) == ["h2"]
    assert placed(select_destinations(hosts, spec(scheduler_hints={"different_host": "u1"},
                                                  availability_zone="az2"))) == ["h3"]


def test_ignore_hosts():
    hosts = [host("h1"), host("h2", mem_used=1000)]
    result = select_destinations(hosts, spec(ignore_hosts=["h1"]))
    assert placed(result) == ["h2"]
    assert [e["filter"] for e in result.filter_report[:2]] == ["placement", "ignore_hosts"]
    assert result.filter_report[1]["eliminated"] == ["h1"]


def test_hosts_the_request_finds_unavailable_go_before_placement_with_their_reasons():
    """A move's ports: the best host gives the server's address to another MAC; it is not a
    candidate, and a request no other host can take says why, per host."""
    hosts = [host("h1"), host("h2", mem_used=1000), host("h3", mem_used=2000)]
    why = {"h1": "10.0.0.4 is already in use on network private"}
    result = select_destinations(hosts, spec(), unavailable=why)
    assert placed(result) == ["h2"]
    assert result.filter_report[0]["filter"] == "unavailable" and result.filter_report[0]["eliminated"] == ["h1"]
    assert result.filter_report[1]["filter"] == "placement" and result.filter_report[1]["hosts_before"] == 2
    with pytest.raises(NoValidHost) as exc:
        select_destinations(hosts, spec(), unavailable=dict(why, h2="network private is missing", h3="x"))
    assert "3 hosts" in str(exc.value) and "h1: 10.0.0.4 is already in use on network private" in str(exc.value)


# ------------------------------------------------- multi-instance requests
def test_anti_affinity_spreads_a_request_over_three_hosts():
    hosts = [host("h1"), host("h2"), host("h3"), host("h4", mem_used=2000)]
    result = select_destinations(hosts, spec(num=3, instance_group=ServerGroup("g", "anti-affinity")))
    assert placed(result) == ["h1", "h2", "h3"]
    # alternates, as Nova's: the hosts no instance took, the same for every instance
    assert [s.alternates for s in result.selections] == [["h4"]] * 3


def test_anti_affinity_sees_existing_members():
    hosts = [host("h1", instances=[record("u1", "a", "g")]), host("h2"), host("h3")]
    result = select_destinations(hosts, spec(num=2, instance_group=ServerGroup("g", "anti-affinity")))
    assert placed(result) == ["h2", "h3"]


def test_anti_affinity_not_enough_hosts_is_all_or_nothing():
    hosts = [host("h1"), host("h2")]
    group = ServerGroup("g", "anti-affinity")
    with pytest.raises(NoValidHost) as info:
        select_destinations(hosts, spec(num=3, instance_group=group))
    assert "placed 2 of 3" in str(info.value)
    assert "ServerGroupAntiAffinityFilter eliminated 2" in str(info.value)
    assert info.value.placed == 2
    assert group.hosts == [] and group.members == []


def test_anti_affinity_max_server_per_host():
    hosts = [host("h1"), host("h2")]
    group = ServerGroup("g", "anti-affinity", {"max_server_per_host": 2})
    result = select_destinations(hosts, spec(num=4, instance_group=group))
    assert sorted(placed(result)) == ["h1", "h1", "h2", "h2"]


def test_affinity_keeps_a_request_on_one_host():
    hosts = [host("h1"), host("h2"), host("h3")]
    result = select_destinations(hosts, spec(num=3, instance_group=ServerGroup("g", "affinity")))
    assert placed(result) == ["h1", "h1", "h1"]
    assert all(s.alternates == [] for s in result.selections[1:])


def test_affinity_follows_existing_members():
    hosts = [host("h1"), host("h2", mem_used=2000, instances=[record("u1", "a", "g")]), host("h3")]
    assert placed(select_destinations(hosts, spec(num=2, instance_group=ServerGroup("g", "affinity")))) == ["h2"] * 2


def test_affinity_with_group_host_given_by_caller():
    hosts = [host("h1"), host("h2")]
    group = ServerGroup("g", "affinity", hosts=["h2"])
    assert placed(select_destinations(hosts, spec(instance_group=group))) == ["h2"]
    assert group.hosts == ["h2"]


def test_soft_policies_are_preferences():
    hosts = [host("h1"), host("h2")]
    assert placed(select_destinations(hosts, spec(num=2, instance_group=ServerGroup("g", "soft-affinity")))) \
        == ["h1", "h1"]
    assert placed(select_destinations(hosts, spec(num=3, ram=512,
                                                  instance_group=ServerGroup("g", "soft-anti-affinity")))) \
        == ["h1", "h2", "h1"]


def test_resources_are_consumed_between_instances():
    hosts = [host("h1"), host("h2", mem_used=1024)]     # 4096 and 3072 MB free
    ram_only = SchedulerConfig(weight_multipliers={"cpu_weight_multiplier": 0, "disk_weight_multiplier": 0})
    assert placed(select_destinations(hosts, spec(ram=1024, num=4), ram_only)) == ["h1", "h1", "h2", "h1"]
    # with the default weighers, h1's used vCPU and disk tip the tie after the first instance
    assert placed(select_destinations(hosts, spec(ram=1024, num=4))) == ["h1", "h2", "h1", "h2"]
    one = [host("h1")]
    assert placed(select_destinations(one, spec(ram=1500, num=2))) == ["h1", "h1"]
    with pytest.raises(NoValidHost) as info:        # the whole request or nothing, as in Nova
        select_destinations(one, spec(ram=1500, num=3))
    message = str(info.value)
    assert "placement eliminated 1 (no room in placement for VCPU 1, MEMORY_MB 1500, DISK_GB 1: h1)" in message
    assert "placed 2 of 3" in message
    (entry,) = [e for e in info.value.report if e["filter"] == "placement"]
    assert (entry["eliminated"], entry["eliminated_later"], entry["eliminated_total"]) == ([], ["h1"], 1)


def test_a_host_filled_by_the_request_is_still_weighed():
    """Nova weighs every candidate placement gave for the request, including hosts an earlier
    instance filled, and passes over them only when the claim fails: the normalisation then
    counts them. Hosts a, b, c, two instances: both put the first on a; for the second Nova
    picks b (a, full, still holds the low end of the free RAM), where dropping a would pick c."""
    config = SchedulerConfig(weight_multipliers={"cpu_weight_multiplier": 1.5, "disk_weight_multiplier": 0,
                                                 "num_instances_weight_multiplier": 0})

    def node(name, vcpus, memory_mb):
        return HostState(name, cpu_arch="x86_64", vcpus=vcpus, memory_mb=memory_mb, local_gb=100,
                         reserved_host_memory_mb=0, cpu_allocation_ratio=1.0)
    # free RAM 1100, 3000, 2000 and free vCPUs 41, 4, 8; the first instance takes a's room
    hosts = [node("a", 41, 1100), node("b", 4, 3000), node("c", 8, 2000)]
    result = select_destinations(hosts, build_request_spec(Flavor("m", 1, 1000, 1), ImageMeta("img"),
                                                           num_instances=2), config)
    # a (100 MB, 40 vCPUs left) still widens both ranges: b 1.0 + 0.0 beats
    # c 0.655 + 1.5 * 0.111; over b and c alone c (0.0 + 1.5) would beat b (1.0)
    assert placed(result) == ["a", "b"]
    (entry,) = [e for e in result.filter_report if e["filter"] == "placement"]
    assert entry["eliminated_later"] == ["a"]


def test_swap_is_not_taken_from_free_disk_within_a_request():
    """HostState.consume_from_request takes root and ephemeral disk, not swap: with disk weights
    only, the second instance still goes where free disk (without swap) is larger."""
    disk_only = SchedulerConfig(weight_multipliers={"cpu_weight_multiplier": 0, "ram_weight_multiplier": 0,
                                                    "num_instances_weight_multiplier": 0})
    hosts = [HostState(name, cpu_arch="x86_64", vcpus=4, memory_mb=8192, local_gb=100, local_gb_used=used)
             for name, used in (("h1", 0), ("h2", 2))]      # h2: 2 GB less free disk than h1
    flavor = Flavor("m", 1, 256, 1, swap=4096)
    result = select_destinations(hosts, build_request_spec(flavor, ImageMeta("img"), num_instances=2), disk_only)
    # h1 loses 1 GB (root) to the first instance and stays ahead of h2; counting 4 GB of swap it would not
    assert placed(result) == ["h1", "h1"]


def test_ram_multiplier_sign_spreads_or_packs():
    hosts = [host("h1"), host("h2")]
    assert placed(select_destinations(hosts, spec(num=2))) == ["h1", "h2"]
    packing = SchedulerConfig(weight_multipliers={"ram_weight_multiplier": -1.0, "cpu_weight_multiplier": 0,
                                                  "disk_weight_multiplier": 0})
    assert placed(select_destinations(hosts, spec(num=2), packing)) == ["h1", "h1"]


def test_failed_builds_send_the_request_elsewhere():
    hosts = [host("h1", failed_builds=1), host("h2", mem_used=3000)]
    assert placed(select_destinations(hosts, spec())) == ["h2"]


# --------------------------------------------------------------- NoValidHost
def test_no_valid_host_message_and_report():
    hosts = [host("h1", memory_mb=1024), host("h2", memory_mb=1024), host("h3", up=False),
             host("h4", memory_mb=1024), host("h5", availability_zone="az9")]
    with pytest.raises(NoValidHost) as info:
        select_destinations(hosts, spec(ram=2048, num=2, availability_zone="nova"))
    message = str(info.value)
    assert message.startswith("No valid host was found. There are not enough hosts available: 5 hosts; ")
    assert "ComputeFilter eliminated 1 (down or disabled: h3)" in message
    assert "AvailabilityZoneFilter eliminated 1 (not in zone nova: h5)" in message
    assert "placement eliminated 3 (no room in placement for VCPU 1, MEMORY_MB 2048, DISK_GB 1: h1, h2, h4)" \
        in message
    assert message.endswith("placed 0 of 2")
    assert "\n" not in message
    report = dict((e["filter"], e) for e in info.value.report)
    assert [e["filter"] for e in info.value.report] == ["placement"] + filters.DEFAULT_FILTERS
    assert report["placement"]["hosts_before"] == 5 and report["placement"]["hosts_after"] == 2
    assert report["placement"]["eliminated"] == ["h1", "h2", "h4"]
    assert report["ComputeFilter"]["hosts_before"] == 2 and report["ComputeFilter"]["hosts_after"] == 1
    assert (info.value.placed, info.value.num_instances, info.value.num_hosts) == (0, 2, 5)


def test_no_valid_host_names_are_capped():
    hosts = [host("h%02d" % i, enabled=False) for i in range(8)]
    with pytest.raises(NoValidHost, match=r"ComputeFilter eliminated 8 \(down or disabled: h00, h01, h02, h03, "
                                          r"h04 and 3 more\)"):
        select_destinations(hosts, spec())


def test_no_hosts_at_all():
    with pytest.raises(NoValidHost, match="0 hosts; placed 0 of 1"):
        select_destinations([], spec())


# ---------------------------------------------------------------- reports
def test_filter_report_and_weighed():
    hosts = [host("h%d" % i, mem_used=100 * i) for i in range(1, 8)] + [host("h8", enabled=False)]
    result = select_destinations(hosts, spec(num=2, instance_group=ServerGroup("g", "anti-affinity")))
    report = dict((e["filter"], e) for e in result.filter_report)
    assert report["ComputeFilter"]["eliminated"] == ["h8"]
    assert report["ServerGroupAntiAffinityFilter"]["eliminated"] == []
    assert report["ServerGroupAntiAffinityFilter"]["eliminated_later"] == ["h1"]
    assert [pair[0] for pair in result.weighed] == ["h1", "h2", "h3", "h4", "h5"]


def test_once_per_request_filters_run_once(monkeypatch):
    asked = []
    seen = []
    original_passes = filters.ComputeFilter.host_passes
    original_partition = filters.ServerGroupAntiAffinityFilter.partition

    def host_passes(self, host_state, spec_obj):
        asked.append(spec_obj.instance_uuid)
        return original_passes(self, host_state, spec_obj)

    def partition(self, host_states, spec_obj):
        seen.extend(host_states)
        return original_partition(self, host_states, spec_obj)
    monkeypatch.setattr(filters.ComputeFilter, "host_passes", host_passes)
    monkeypatch.setattr(filters.ServerGroupAntiAffinityFilter, "partition", partition)
    hosts = [host("h%d" % i) for i in range(5)]
    select_destinations(hosts, spec(ram=512, num=3, instance_group=ServerGroup("g", "anti-affinity")))
    # ComputeFilter is asked for the first instance only (once: the hosts are alike);
    # the group filter about every host for the first instance, then only the host each
    # placement changed, and once more for the alternates.
    assert asked == ["(instance-0)"]
    assert len(seen) == 5 + 1 + 1 + 1


# ------------------------------------------------ determinism and purity
def test_deterministic_whatever_the_input_order():
    hosts = [host("h%d" % i, mem_used=(i % 3) * 100) for i in range(9)]
    expected = placed(select_destinations(hosts, spec(num=4)))
    shuffled = list(hosts)
    random.Random(7).shuffle(shuffled)
    assert placed(select_destinations(shuffled, spec(num=4))) == expected
    assert expected == ["h0", "h3", "h6", "h1"]


def test_inputs_are_not_changed():
    hosts = [host("h1", instances=[record("u1", "a", "g")]), host("h2"), host("h3")]
    before = snapshot(hosts)
    group = ServerGroup("g", "anti-affinity")
    request = spec(num=2, instance_group=group, scheduler_hints={"different_host": "zz"})
    first = select_destinations(hosts, request)
    assert snapshot(hosts) == before
    assert (group.hosts, group.members) == ([], [])
    assert request.scheduler_hints == {"different_host": ["zz"]} and request.instance_uuid is None
    # the caller can retry and gets the same answer
    assert placed(select_destinations(hosts, request)) == placed(first) == ["h2", "h3"]


def test_instance_uuids_are_recorded_on_selections():
    result = select_destinations([host("h1"), host("h2")], spec(num=2, instance_uuids=["a", "b"]))
    assert [s.instance_uuid for s in result.selections] == ["a", "b"]
    assert result.selections[0].to_dict() == {"host": "h1", "alternates": [],
                                              "weight": result.selections[0].weight}
    # the alternates are the hosts no instance of the request took
    result = select_destinations([host("h1"), host("h2"), host("h3")], spec(num=2, instance_uuids=["a", "b"]))
    assert [s.to_dict()["alternates"] for s in result.selections] == [["h3"], ["h3"]]


def test_host_subset_size_uses_the_injected_rng():
    hosts = [host("h%d" % i, mem_used=i * 10) for i in range(6)]
    config = SchedulerConfig(host_subset_size=3)
    picks = set()
    for seed in range(20):
        (selection,) = select_destinations(hosts, spec(), config, rng=random.Random(seed)).selections
        picks.add(selection.host)
        assert selection.host not in selection.alternates
    assert picks == {"h0", "h1", "h2"}
    assert placed(select_destinations(hosts, spec(num=3), config)) == \
        placed(select_destinations(hosts, spec(num=3), config))


def test_duplicate_host_names_are_rejected():
    with pytest.raises(ValueError, match="h1"):
        select_destinations([host("h1"), host("h1")], spec())
