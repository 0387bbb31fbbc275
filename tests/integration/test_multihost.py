"""Scheduling across real hosts: three nspawn hypervisors reached over SSH (qemu+libssh2),
prepared by the nova_compute role. Each test places real servers and checks where they
landed, as Nova's filters and weighers would place them."""

import collections
import os

from conftest import BED_NETWORK, catalog
from helpers import FACTS_PLAY, SERVER_PLAY, run_playbook, run_playbook_file, REPO
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host

SERVER = SERVER_PLAY


def boot(bed, tiny_image, name, hypervisors=None, **args):
    data = catalog(tiny_image)
    data.update(name=name, image="tiny", flavor="m1.tiny", nics=[{"net-name": "private"}],
                hypervisors=hypervisors or bed.hypervisors(), timeout=120)
    data.update(args)
    return run_playbook(SERVER, {"args": data}).task("server")


def hosts_of(result):
    assert result.get("failed") is not True, result.get("msg")
    assert all(s["status"] == "ACTIVE" for s in result["servers"]), result["servers"]
    return [s["hypervisor_hostname"] for s in result["servers"]]


def names(bed):
    return [h["name"] for h in bed.hosts]


def test_inventory_group_role_idempotent_and_spread(bed, tiny_image, prefix):
    """The role's second run changes nothing; nova_server takes the hosts of the
    nova_compute group; the RAM weigher (positive) spreads."""
    again = run_playbook_file(REPO + "/playbooks/prepare_compute.yml",
                              {"nova_compute_networks": [{"name": "private", "cidr": "10.213.7.0/24",
                                                          "bridge": "nlpriv0"}]},
                              inventory_path=bed.inventory)
    assert all(stats["changed"] == 0 and stats["failures"] == 0 for stats in again.stats.values()), \
        [(task, host, str(result)[:1500]) for task, host, result in again.changed()]
    # libvirt's memory total on this machine grows while the suite runs (the VM hot-plugs
    # memory in 256 MB steps) and three hosts are read at slightly different moments: a
    # flavor of 1 GB keeps "the most free RAM" meaning one per host across such a step
    assert bed.domains("") == dict((name, []) for name in names(bed)), "servers left by earlier tests"
    data = catalog(tiny_image)
    data["flavors"].append({"name": "m1.spread", "vcpus": 1, "ram": 1024, "disk": 1})
    data.update(name=prefix + "s", image="tiny", flavor="m1.spread", nics=[{"net-name": "private"}],
                min_count=3, max_count=3)
    play = SERVER.replace("hosts: localhost", "hosts: localhost\n  vars:\n    ansible_python_interpreter: %s"
                          % __import__("sys").executable)
    inventory = open(bed.inventory).read() + "\nlocalhost ansible_connection=local\n"
    result = run_playbook(play, {"args": data}, inventory=inventory).task("server")
    assert not result["faults"], result["faults"]  # every build succeeded where it was placed
    assert sorted(hosts_of(result)) == names(bed), result["placement"]
    assert result["placement"]["filters"][0]["hosts_before"] == 3


def test_ram_weigher_negative_packs(bed, tiny_image, prefix):
    result = boot(bed, tiny_image, prefix + "p", min_count=3, max_count=3,
                  scheduler={"ram_weight_multiplier": -1.0, "cpu_weight_multiplier": 0.0,
                             "disk_weight_multiplier": 0.0})
    assert len(set(hosts_of(result))) == 1


def test_availability_zone_and_disabled_host(bed, tiny_image, prefix):
    hvs = bed.hypervisors(h1={"availability_zone": "az1"}, h2={"availability_zone": "az2"},
                          h3={"availability_zone": "az2", "enabled": False})
    result = boot(bed, tiny_image, prefix + "z", hypervisors=hvs, availability_zone="az2",
                  min_count=2, max_count=2)
    assert hosts_of(result) == [names(bed)[1]] * 2
    report = dict((f["filter"], f) for f in result["placement"]["filters"])
    assert report["ComputeFilter"]["eliminated"] == [names(bed)[2]]
    assert report["AvailabilityZoneFilter"]["eliminated"] == [names(bed)[0]]


def test_aggregate_extra_specs(bed, tiny_image, prefix):
    hvs = bed.hypervisors(h3={"aggregates": [{"name": "fast", "metadata": {"ssd": "true"}}]})
    data = catalog(tiny_image)
    data["flavors"].append({"name": "m1.ssd", "vcpus": 1, "ram": 192, "disk": 1,
                            "extra_specs": {"aggregate_instance_extra_specs:ssd": "true"}})
    result = boot(bed, tiny_image, prefix + "a", hypervisors=hvs, flavor="m1.ssd", flavors=data["flavors"])
    assert hosts_of(result) == [names(bed)[2]]


def test_server_groups_hard_and_soft(bed, tiny_image, prefix):
    groups = [{"name": prefix + "anti", "policy": "anti-affinity"},
              {"name": prefix + "aff", "policy": "affinity"},
              {"name": prefix + "soft", "policy": "soft-anti-affinity"},
              {"name": prefix + "max2", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}]
    anti = boot(bed, tiny_image, prefix + "anti", min_count=3, max_count=3, server_groups=groups,
                scheduler_hints={"group": prefix + "anti"})
    assert sorted(hosts_of(anti)) == names(bed)
    fourth = boot(bed, tiny_image, prefix + "anti4", server_groups=groups, scheduler_hints={"group": prefix + "anti"})
    assert fourth["failed"] is True and "ServerGroupAntiAffinityFilter eliminated 3" in fourth["msg"], fourth["msg"]

    aff = boot(bed, tiny_image, prefix + "aff", min_count=2, max_count=2, server_groups=groups,
               scheduler_hints={"group": prefix + "aff"})
    assert len(set(hosts_of(aff))) == 1
    aff3 = boot(bed, tiny_image, prefix + "aff3", server_groups=groups, scheduler_hints={"group": prefix + "aff"})
    assert hosts_of(aff3) == hosts_of(aff)[:1]
    bed.wipe(prefix)

    soft = boot(bed, tiny_image, prefix + "soft", min_count=4, max_count=4, server_groups=groups,
                scheduler_hints={"group": prefix + "soft"})
    counts = collections.Counter(hosts_of(soft))
    assert sorted(counts.values()) == [1, 1, 2], counts
    bed.wipe(prefix)

    max2 = boot(bed, tiny_image, prefix + "m", min_count=6, max_count=6, server_groups=groups,
                scheduler_hints={"group": prefix + "max2"})
    assert sorted(collections.Counter(hosts_of(max2)).values()) == [2, 2, 2]
    seventh = boot(bed, tiny_image, prefix + "m7", server_groups=groups, scheduler_hints={"group": prefix + "max2"})
    assert seventh["failed"] is True and "ServerGroupAntiAffinityFilter" in seventh["msg"]


def test_same_host_and_different_host(bed, tiny_image, prefix):
    first = boot(bed, tiny_image, prefix + "one")
    where = hosts_of(first)[0]
    same = boot(bed, tiny_image, prefix + "same", min_count=2, max_count=2,
                scheduler_hints={"same_host": [prefix + "one"]})
    assert hosts_of(same) == [where, where]
    other = boot(bed, tiny_image, prefix + "diff", min_count=2, max_count=2,
                 scheduler_hints={"different_host": [first["server"]["id"]]})
    assert where not in hosts_of(other)


def test_min_count_all_or_nothing_across_hosts(bed, tiny_image, prefix):
    data = catalog(tiny_image)
    conn = bed.conn(1)
    host_mb = conn.getInfo()[1]
    conn.close()
    # two fit per host after the 512 MB reserve: six in all, and the seventh does not
    ram = (host_mb - 512) // 2 - 16
    data["flavors"].append({"name": "m1.half", "vcpus": 1, "ram": ram, "disk": 1})
    refused = boot(bed, tiny_image, prefix + "big", flavor="m1.half", flavors=data["flavors"],
                   min_count=7, max_count=7, wait=False)
    assert refused["failed"] is True and "placed 6 of 7" in refused["msg"], refused["msg"]
    assert bed.leftovers(prefix) == []
    assert all(not doms for doms in bed.domains(prefix).values())


def test_reschedule_after_a_real_spawn_failure(bed, tiny_image, prefix):
    """h1 weighs best (more RAM by its ratio) but its network's bridge is gone: the spawn
    fails there for real, is cleaned up, and the server is built on an alternate."""
    broken = bed.hosts[0]
    bed.testbed.ssh(broken, ["ip", "link", "delete", "nlpriv0"])
    try:
        hvs = bed.hypervisors(h1={"ram_allocation_ratio": 1.5})
        result = boot(bed, tiny_image, prefix + "r", hypervisors=hvs)
        assert hosts_of(result) != [broken["name"]]
        assert result["faults"] and result["faults"][0]["host"] == broken["name"]
        assert "nlpriv0" in result["faults"][0]["message"]
        events = [n["event_type"] for n in result["notifications"]]
        assert events == ["compute.instance.create.start", "compute.instance.create.error",
                          "compute.instance.create.start", "compute.instance.create.end"]
        assert bed.domains(prefix)[broken["name"]] == []
        assert bed.leftovers(prefix + "r-") == []

        # the failure is recorded on h1 itself: the BuildFailureWeigher now steers the next
        # request away from it although it still weighs best by RAM
        conn = bed.conn(1)
        try:
            assert libvirt_host.host_record(conn)["failed_builds"] == 1
        finally:
            conn.close()
        steered = boot(bed, tiny_image, prefix + "w", hypervisors=hvs)
        assert hosts_of(steered) != [broken["name"]] and not steered["faults"]
        weighed = steered["placement"]["weighed"]
        assert weighed[-1]["host"] == broken["name"] and weighed[-1]["weight"] < -1000

        all_broken = bed.hypervisors(h2={"enabled": False}, h3={"enabled": False})
        failed = boot(bed, tiny_image, prefix + "x", hypervisors=all_broken)
        assert failed["failed"] is True
        assert failed["servers"][0]["status"] == "ERROR"
        assert failed["faults"][0]["host"] == broken["name"]
        assert bed.domains(prefix + "x")[broken["name"]] == []
    finally:
        conn = bed.conn(1)
        try:
            net = conn.networkLookupByName("private")
            net.destroy()
            net.create()
            libvirt_host.update_host_record(conn, conn.storagePoolLookupByName("nova_instances"), failed_builds=0)
        finally:
            conn.close()


def test_playbooks_precache_site_and_delete(bed, tiny_image, prefix):
    """precache_images.yml copies each image once per host; site.yml (prepare, precache,
    boot) then boots from the cache; delete_servers.yml removes the servers."""
    data = catalog(tiny_image)
    extra = {"nova_images": data["images"], "nova_flavors": data["flavors"],
             "nova_compute_networks": [{"name": "private", "cidr": "10.213.7.0/24", "bridge": "nlpriv0"}],
             "nova_servers": [{"name": prefix + "site", "image": "tiny", "flavor": "m1.tiny",
                               "nics": [{"net-name": "private"}], "min_count": 2, "max_count": 2}]}
    inventory = bed.inventory
    with open(inventory) as handle:
        text = handle.read()
    local_inventory = text + "\n[local]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" \
        % __import__("sys").executable
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as handle:
        handle.write(local_inventory)
        path = handle.name
    try:
        precache = run_playbook_file(REPO + "/playbooks/precache_images.yml", extra, inventory_path=path)
        cached = precache.task("Copy the images into each hypervisor's image cache")["cached"]
        assert set(cached) == set(names(bed))
        again = run_playbook_file(REPO + "/playbooks/precache_images.yml", extra, inventory_path=path)
        assert again.task("Copy the images into each hypervisor's image cache")["cached"] == \
            dict((name, []) for name in names(bed))
        site = run_playbook_file(REPO + "/playbooks/site.yml", extra, inventory_path=path)
        assert all(s["failures"] == 0 for s in site.stats.values()), site.failures()
        booted = site.task("Boot each requested server")["results"][0]
        assert [s["status"] for s in booted["servers"]] == ["ACTIVE", "ACTIVE"]
        delete = run_playbook_file(REPO + "/playbooks/delete_servers.yml",
                                   dict(extra, nova_servers=[{"name": prefix + "site", "max_count": 2}]),
                                   inventory_path=path)
        assert delete.task("Delete each listed server")["results"][0]["changed"] is True
        assert bed.leftovers(prefix) == []
    finally:
        os.unlink(path)


def test_soft_affinity_packs_a_group(bed, tiny_image, prefix):
    groups = [{"name": prefix + "sa", "policy": "soft-affinity"}]
    result = boot(bed, tiny_image, prefix + "sa", min_count=3, max_count=3, server_groups=groups,
                  scheduler_hints={"group": prefix + "sa"})
    assert len(set(hosts_of(result))) == 1


def test_host_facts_refuses_a_host_listed_twice(bed):
    """The bed's hosts listed thirty times over (once they were gathered so, counting each
    machine thirty times) are refused before any is reached, naming the first repeat."""
    many = [dict(hv, name="hv%03d" % i) for i, hv in enumerate(bed.hypervisors() * 30)]
    refused = run_playbook(FACTS_PLAY, {"args": many}).task("facts")
    assert refused["failed"] is True
    assert refused["msg"].startswith("hypervisors[%d].uri: reaches the same libvirt as hypervisors[0]"
                                     % len(bed.hypervisors())), refused["msg"]


def test_a_host_that_is_down_is_skipped(bed, tiny_image, prefix):
    """Stops h3 for the rest of the session: keep this test last in the file."""
    down = bed.hosts[2]
    bed.testbed.stop_host(down)
    # A new name might exist on the silent host: refused, naming it, unless the user allows it.
    refused = run_playbook(SERVER_PLAY, {"args": dict(
        catalog(tiny_image), name=prefix + "d", image="tiny", flavor="m1.tiny", hypervisors=bed.hypervisors(),
        nics=[{"net-name": BED_NETWORK["name"]}], min_count=2, max_count=2)}).task("server")
    assert refused["failed"] is True
    assert refused["msg"].startswith("name: cannot check that %sd-1, %sd-2 does not exist" % (prefix, prefix))
    assert down["name"] in refused["msg"] and "allow_unchecked_names" in refused["msg"], refused["msg"]
    for index in (1, 2):
        conn = bed.conn(index)
        try:
            assert [d.name() for d in conn.listAllDomains() if d.name().startswith(prefix)] == []
        finally:
            conn.close()
    result = boot(bed, tiny_image, prefix + "d", min_count=2, max_count=2, allow_unchecked_names=True)
    assert down["name"] not in hosts_of(result)
    assert down["name"] in result["placement"]["hypervisors_down"]
    report = dict((f["filter"], f) for f in result["placement"]["filters"])
    assert report["ComputeFilter"]["eliminated"] == [down["name"]]
    # Deleting with a hypervisor down: the silent host is named as hypervisors_down, never as the
    # reserved `unreachable` (which would mark localhost UNREACHABLE, past ignore_errors).
    gone = run_playbook(SERVER, {"args": dict(catalog(tiny_image), name=prefix + "d", max_count=2, state="absent",
                                              hypervisors=bed.hypervisors())})
    deleted = gone.task("server")
    assert deleted.get("failed") is not True, deleted.get("msg")
    assert down["name"] in deleted["hypervisors_down"] and "unreachable" not in deleted
    assert gone.stats["localhost"]["unreachable"] == 0
    assert sorted(s["status"] for s in deleted["servers"]) == ["DELETED", "DELETED"]
