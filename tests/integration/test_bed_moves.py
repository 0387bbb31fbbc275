"""Moves that go back through the scheduler (issue 17), on the bed's three nspawn hosts with real
guests: resize and cold migration, confirm and revert, a destination that fails mid-move, and a
run killed mid-move. Each guest is checked after its move: its console shows it booted from its
own disk (a label written into its root overlay before the move, which only the overlay holds)
and took the same DHCP address."""

import shlex
import tempfile
import time
import uuid as uuidlib

from conftest import BED_NETWORK, catalog
from helpers import SERVER_PLAY, kill_playbook, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

FLAVORS = [{"name": "m1.grow", "vcpus": 1, "ram": 256, "disk": 2}]


def data(bed, tiny_image, name, **args):
    args_ = catalog(tiny_image)
    args_["flavors"] = args_["flavors"] + FLAVORS
    args_.update(name=name, image="tiny", flavor="m1.tiny", nics=[{"net-name": BED_NETWORK["name"]}],
                 hypervisors=bed.hypervisors(), timeout=150, wait_for="lease")
    args_.update(args)
    return args_


def boot(bed, tiny_image, name, **args):
    result = run_playbook(SERVER_PLAY, {"args": data(bed, tiny_image, name, **args)}).task("server")
    assert result.get("failed") is not True, result.get("msg")
    return result


ACTION_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: action
      novalite.compute.nova_server_action: "{{ args }}"
      ignore_errors: true
"""


def act(bed, tiny_image, name, action, check=False, **args):
    """nova_server_action on the bed: the task's result."""
    full = data(bed, tiny_image, name, action=action, **args)
    for key in ("name", "image", "nics", "wait_for"):
        full.pop(key)
    full["server"] = name
    return run_playbook(ACTION_PLAY, {"args": full}, check=check).task("action")


def refused(result, start):
    assert result.get("failed") is True and result["msg"].startswith(start), result.get("msg")


def index_of(bed, host_name):
    return [h["name"] for h in bed.hosts].index(host_name) + 1


def domain_on(bed, host_name, name):
    conn = bed.conn(index_of(bed, host_name))
    try:
        dom = guest.find_domain(conn, name)
        if dom is None:
            return None
        return dict(instance_record.read_record(dom) or {}, active=bool(dom.isActive()))
    finally:
        conn.close()


def console(bed, host_name, server_uuid):
    conn = bed.conn(index_of(bed, host_name))
    try:
        return guest.console_tail(conn, storage.find_pool(conn, "nova_instances"), server_uuid, lines=400,
                                  limit=200000)
    finally:
        conn.close()


def wait_console(bed, host_name, server_uuid, marker, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        text = console(bed, host_name, server_uuid)
        if marker in text:
            return text
        assert time.monotonic() < deadline, "no %r on %s's console:\n%s" % (marker, host_name, text[-2000:])
        time.sleep(1)


def label_root_disk(bed, host_name, server):
    """Write NOVALITE-LABEL:<unique> into the first sector of the server's root overlay (the guest
    prints it as NOVALITE-DISK vda <unique> at boot): powered off for the write, started again.
    Returns the label."""
    label = "own" + uuidlib.uuid4().hex[:8]
    conn = bed.conn(index_of(bed, host_name))
    try:
        dom = guest.find_domain(conn, server["name"])
        dom.destroy()
        host = bed.hosts[index_of(bed, host_name) - 1]
        path = "/var/lib/novalite/instances/%s.disk" % server["id"]
        # ssh joins the words into one command line for the host's shell: one quoted script
        script = ("printf 'NOVALITE-LABEL:%s\\n' > /tmp/label && truncate -s 512 /tmp/label && "
                  "qemu-io -f qcow2 -c 'write -s /tmp/label 0 512' %s" % (label, path))
        bed.testbed.ssh(host, ["sh", "-c", shlex.quote(script)])
        dom.create()
    finally:
        conn.close()
    wait_console(bed, host_name, server["id"], "NOVALITE-DISK vda %s" % label)
    return label


def dhcp_ip(text):
    lines = [line for line in text.splitlines() if line.startswith("NOVALITE-DHCP ip=")]
    return lines[-1].split()[1][3:] if lines else None


def test_resize_through_nova_server_then_confirm(bed, tiny_image, prefix):
    """nova_server with a new flavor and allow_resize: on another host (allow_resize_to_same_host is
    false), the root disk grown to 2 GB, VERIFY_RESIZE; the guest boots from its own disk with the
    same address; confirm removes the source's copy. Without allow_resize the new flavor is drift."""
    name = prefix + "r"
    first = boot(bed, tiny_image, name)["server"]
    source = first["hypervisor_hostname"]
    ip = first["addresses"][BED_NETWORK["name"]][0]["addr"]
    label = label_root_disk(bed, source, first)
    record = domain_on(bed, source, name)
    assert record["request_spec"]["flavor"]["name"] == "m1.tiny"
    assert record["request_spec"]["image"]["name"] == "tiny"

    drift = boot(bed, tiny_image, name, flavor="m1.grow")
    assert drift["changed"] is False and drift["server"]["drift"][0]["field"] == "flavor"

    planned = run_playbook(SERVER_PLAY, {"args": data(bed, tiny_image, name, flavor="m1.grow", allow_resize=True)},
                           check=True).task("server")
    assert planned["changed"] is True and planned["resized"][name] != source, planned
    assert domain_on(bed, source, name)["flavor"]["name"] == "m1.tiny"   # check mode changed nothing

    resized = boot(bed, tiny_image, name, flavor="m1.grow", allow_resize=True)
    server = resized["server"]
    dest = server["hypervisor_hostname"]
    assert dest != source and server["status"] == "VERIFY_RESIZE" and server["flavor"]["name"] == "m1.grow"
    assert resized["resized"][name]["status"] == "finished", resized["resized"]
    text = wait_console(bed, dest, server["id"], "NOVALITE-DISK vda %s" % label)
    assert "NOVALITE-ROOT-DISK %d" % (2 * 1024 ** 3) in text
    assert dhcp_ip(wait_console(bed, dest, server["id"], "NOVALITE-DHCP ip=")) == ip
    shadow = domain_on(bed, source, name)
    assert shadow is not None and not shadow["active"] and shadow["host"] == dest   # kept until confirm

    again = boot(bed, tiny_image, name, flavor="m1.grow", allow_resize=True)
    assert again["changed"] is False and again["server"]["hypervisor_hostname"] == dest

    confirmed = act(bed, tiny_image, name, "confirm_resize")
    assert confirmed["changed"] is True and confirmed["server"]["status"] == "ACTIVE", confirmed
    assert confirmed["server"]["migration"]["status"] == "confirmed"
    assert act(bed, tiny_image, name, "confirm_resize")["changed"] is False
    assert domain_on(bed, source, name) is None
    assert bed.domains(name) == dict((h["name"], [name] if h["name"] == dest else []) for h in bed.hosts)
    record = domain_on(bed, dest, name)
    assert record["request_spec"]["flavor"]["name"] == "m1.grow" and record["task_state"] in (None, "")


def test_smaller_root_disk_and_unknown_flavor_refused(bed, tiny_image, prefix):
    name = prefix + "s"
    first = boot(bed, tiny_image, name, flavor="m1.grow")["server"]
    refused = run_playbook(SERVER_PLAY, {"args": data(bed, tiny_image, name, allow_resize=True)}).task("server")
    assert refused["failed"] is True and refused["msg"].startswith("flavor: m1.tiny's root disk (1 GB) is smaller")
    refused(act(bed, tiny_image, name, "resize", flavor="m1.nope"), "flavor: 'm1.nope' is not in the flavors catalog")
    refused(act(bed, tiny_image, name, "resize", flavor="m1.tiny"), "flavor: m1.tiny's root disk (1 GB) is smaller")
    refused(act(bed, tiny_image, name, "resize"), "flavor: action=resize needs the new flavor")
    refused(act(bed, tiny_image, name, "migrate", flavor="m1.tiny"), "flavor: only applies with action=resize")
    refused(act(bed, tiny_image, name, "revert_resize", auto_confirm=True), "auto_confirm: only applies with")
    act(bed, tiny_image, name, "lock")
    refused(act(bed, tiny_image, name, "migrate"), "Instance %s is locked" % name)
    act(bed, tiny_image, name, "unlock")
    record = domain_on(bed, first["hypervisor_hostname"], name)
    assert record["flavor"]["name"] == "m1.grow" and record.get("migration") is None


def test_cold_migrate_to_a_host_then_revert(bed, tiny_image, prefix):
    """Cold migration to a given host (still filtered: the source or an unknown host is refused),
    then revert: back on the source, booted from its own disk, same address, the destination clean."""
    name = prefix + "m"
    first = boot(bed, tiny_image, name)["server"]
    source = first["hypervisor_hostname"]
    ip = first["addresses"][BED_NETWORK["name"]][0]["addr"]
    label = label_root_disk(bed, source, first)
    target = [h["name"] for h in bed.hosts if h["name"] != source][0]
    refused(act(bed, tiny_image, name, "migrate", host=source), "host: %s is the server's own host" % source)
    refused(act(bed, tiny_image, name, "migrate", host="nohost"), "host: 'nohost' is not one of the hypervisors")
    planned = act(bed, tiny_image, name, "migrate", host=target, check=True)
    assert planned["changed"] is True and planned["server"]["action"]["destination"] == target, planned
    assert domain_on(bed, target, name) is None
    moved = act(bed, tiny_image, name, "migrate", host=target)
    assert moved["server"]["hypervisor_hostname"] == target and moved["server"]["status"] == "VERIFY_RESIZE", moved
    assert moved["server"]["migration"]["migration_type"] == "migration"
    refused(act(bed, tiny_image, name, "migrate"), "Cannot 'migrate' instance %s while it is in vm_state resized"
            % name)
    text = wait_console(bed, target, first["id"], "NOVALITE-DISK vda %s" % label)
    assert dhcp_ip(wait_console(bed, target, first["id"], "NOVALITE-DHCP ip=")) == ip, text[-1500:]

    reverted = act(bed, tiny_image, name, "revert_resize")
    assert reverted["server"]["hypervisor_hostname"] == source and reverted["server"]["status"] == "ACTIVE"
    assert reverted["server"]["migration"]["status"] == "reverted"
    assert domain_on(bed, target, name) is None
    assert bed.domains(name)[source] == [name] and domain_on(bed, source, name)["active"]
    text = wait_console(bed, source, first["id"], "NOVALITE-DISK vda %s" % label)
    assert text.count("NOVALITE-GUEST-BOOTED") >= 3   # created, labelled, reverted
    left = [entry for entry in bed.leftovers(name) if target in entry]
    assert left == [], left


def test_destination_failing_mid_move_rolls_back(bed, tiny_image, prefix):
    """The destination's network already gives the server's address to another MAC: the move fails
    after its disks were copied, and is rolled back: the server runs on the source, the
    destination holds nothing of it."""
    name = prefix + "f"
    first = boot(bed, tiny_image, name)["server"]
    source = first["hypervisor_hostname"]
    ip = first["addresses"][BED_NETWORK["name"]][0]["addr"]
    target = [h["name"] for h in bed.hosts if h["name"] != source][0]
    conn = bed.conn(index_of(bed, target))
    pool = storage.find_pool(conn, "nova_instances")
    net = libvirt_network.find_network(conn, BED_NETWORK["name"])
    squatter = "52:54:00:aa:bb:cc"
    libvirt_network.reserve_fixed_ip(conn, pool, net, squatter, prefix + "squat", ip)
    try:
        failed = act(bed, tiny_image, name, "migrate", host=target)
        assert failed.get("failed") is True and "rolled back" in failed["msg"] and "already in use" in failed["msg"], \
            failed.get("msg")
    finally:
        libvirt_network.release_fixed_ip(pool, net, squatter)
        conn.close()
    record = domain_on(bed, source, name)
    assert record["active"] and record["vm_state"] == "active" and record["task_state"] in (None, "")
    assert record["migration"]["status"] == "error" and "already in use" in record["fault"]["message"]
    assert domain_on(bed, target, name) is None
    assert [entry for entry in bed.leftovers(name) if target in entry] == []


def test_kill_during_resize_then_rerun_converges(bed, tiny_image, prefix):
    """kill -9 of the run while its disks are copied (task_state resize_migrating on record), then a
    rerun: the move is rolled back once the dead run's lease is over and done again; one server,
    on one host, nothing left elsewhere."""
    name = prefix + "k"
    first = boot(bed, tiny_image, name)["server"]
    source = first["hypervisor_hostname"]
    args = data(bed, tiny_image, name, flavor="m1.grow", allow_resize=True, resize_auto_confirm=True,
                timeout=240)
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_playbook(tmp, 1, args)
        deadline = time.monotonic() + 120
        seen = None
        while time.monotonic() < deadline:
            record = domain_on(bed, source, name) or {}
            if record.get("task_state") in ("resize_migrating", "resize_migrated", "resize_finish"):
                seen = record["task_state"]
                break
            time.sleep(0.05)
        kill_playbook(proc)
        assert seen, "the move never reached resize_migrating"
        record = domain_on(bed, source, name)
        assert record["migration"]["status"] in ("migrating", "post-migrating", "finished"), record["migration"]
        rerun = server_result(start_playbook(tmp, 2, args))
    assert rerun.get("failed") is not True, rerun.get("msg")
    server = rerun["server"]
    assert server["status"] == "ACTIVE" and server["flavor"]["name"] == "m1.grow"
    where = dict((host, doms) for host, doms in bed.domains(name).items() if doms)
    assert where == {server["hypervisor_hostname"]: [name]}, where
    others = [e for e in bed.leftovers(name) if server["hypervisor_hostname"] not in e]
    assert others == [], others
