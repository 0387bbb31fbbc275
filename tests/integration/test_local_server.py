"""nova_server and nova_host_facts against the real local libvirtd, booting the tiny image."""

import json
import os
import re
import time

from conftest import catalog
from helpers import PREPARE_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

SERVER_TASK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: server
      novalite.compute.nova_server:
        name: "{{ server_name }}"
        state: "{{ server_state | default('present') }}"
        image: tiny
        flavor: "{{ flavor | default('m1.tiny') }}"
        nics: "{{ nics | default([]) }}"
        key_name: "{{ key_name | default(omit) }}"
        userdata: "{{ userdata | default(omit) }}"
        meta: "{{ meta | default({}) }}"
        min_count: "{{ min_count | default(1) }}"
        max_count: "{{ max_count | default(omit) }}"
        hypervisors: "{{ hypervisors }}"
        flavors: "{{ flavors }}"
        images: "{{ images }}"
        keypairs: "{{ keypairs }}"
        quotas: "{{ quotas | default({}) }}"
        notifications_file: "{{ notifications_file | default(omit) }}"
"""


def console(conn, hv, instance_uuid):
    pool = hv.pool()
    pool.refresh(0)
    vol = pool.storageVolLookupByName(instance_uuid + ".console.log")
    return storage.download_volume(conn, vol).decode("utf-8", "replace")


def wait_console(conn, hv, instance_uuid, marker, timeout=120):
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = console(conn, hv, instance_uuid)
        if marker in text:
            return text
        time.sleep(0.5)
    raise AssertionError("%s not seen on the console within %ss:\n%s" % (marker, timeout, text[-3000:]))


def server_vars(hv, tiny_image, name, **extra):
    data = catalog(tiny_image)
    data.update(server_name=name, hypervisors=[hv.config()], nics=[{"net-name": hv.network}])
    data.update(extra)
    return data


def test_create_boot_rerun_delete(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    name = hv.prefix + "web"
    notes = str(tmp_path / "notifications.jsonl")
    variables = server_vars(hv, tiny_image, name, key_name="ops", userdata="hello-from-userdata\nline2\n",
                            meta={"role": "web"}, notifications_file=notes)

    first = run_playbook(SERVER_TASK, variables)
    result = first.task("server")
    assert first.stats["localhost"]["failures"] == 0, result
    assert result["changed"] is True
    server = result["server"]
    assert server["status"] == "ACTIVE"
    assert server["vm_state"] == "active"
    assert server["task_state"] is None
    assert server["power_state"] == 1
    assert server["launched_at"]
    assert server["hypervisor_hostname"] == "local"
    assert server["metadata"] == {"role": "web"}
    port = server["addresses"][hv.network][0]
    assert port["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e:")
    assert port["addr"].startswith(hv.cidr.rsplit(".", 1)[0] + ".")

    # The hypervisor is the record: the domain's metadata holds the same state.
    dom = conn.lookupByName(name)
    assert dom.UUIDString() == server["id"]
    record = instance_record.read_record(dom)
    assert record["vm_state"] == "active" and record.get("task_state") is None
    assert record["flavor"]["name"] == "m1.tiny"
    assert record["ports"][0]["mac"] == port["OS-EXT-IPS-MAC:mac_addr"]

    # The guest boots, reads its config drive and takes the reserved address.
    text = wait_console(conn, hv, server["id"], "NOVALITE-GUEST-READY")
    assert "NOVALITE-CONFIG-DRIVE uuid=%s name=%s" % (server["id"], name) in text
    assert "NOVALITE-USER-DATA hello-from-userdata" in text
    assert "NOVALITE-PUBLIC-KEYS 1" in text
    assert re.search(r"NOVALITE-DHCP ip=%s\b" % re.escape(port["addr"]), text), text[-2000:]

    # Notifications, in the result and in the file.
    events = [n["event_type"] for n in result["notifications"]]
    assert events == ["compute.instance.create.start", "compute.instance.create.end"]
    with open(notes) as handle:
        lines = [json.loads(line) for line in handle]
    assert [n["event_type"] for n in lines] == events
    assert lines[1]["payload"]["instance_id"] == server["id"]
    assert lines[1]["payload"]["state"] == "active"

    # A second identical run changes nothing.
    second = run_playbook(SERVER_TASK, variables).task("server")
    assert second["changed"] is False
    assert second["server"]["id"] == server["id"]
    assert second["server"]["addresses"] == server["addresses"]
    assert conn.lookupByName(name).UUIDString() == server["id"]

    # Delete removes the domain, its volumes and its DHCP reservation; twice is a no-op.
    gone = run_playbook(SERVER_TASK, dict(variables, server_state="absent")).task("server")
    assert gone["changed"] is True
    assert hv.leftovers() == []
    again = run_playbook(SERVER_TASK, dict(variables, server_state="absent")).task("server")
    assert again["changed"] is False


def test_check_mode_creates_nothing(conn, local_hv, tiny_image):
    hv = local_hv
    name = hv.prefix + "plan"
    unprepared = run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name), check=True).task("server")
    assert unprepared["failed"] is True
    assert "no active instance storage pool on local" in unprepared["msg"]
    assert storage.find_pool(conn, hv.pool_name) is None

    prepared = run_playbook(PREPARE_PLAY, {"pool": hv.pool_name, "path": hv.pool_path}).task("prepare")
    assert prepared["changed"] is True
    assert prepared["host_record"]["virt_type"] == "qemu"
    again = run_playbook(PREPARE_PLAY, {"pool": hv.pool_name, "path": hv.pool_path}).task("prepare")
    assert again["changed"] is False

    run = run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name), check=True)
    result = run.task("server")
    assert result["changed"] is True
    assert result["server"]["hypervisor_hostname"] == "local"
    assert result["placement"]["hosts"] == ["local"]
    assert guest.find_domain(conn, name) is None
    assert hv.leftovers() == []


def test_host_facts_report_instances(conn, local_hv, tiny_image):
    hv = local_hv
    name = hv.prefix + "facts"
    created = run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name, flavor="m1.small")).task("server")
    assert created["server"]["status"] == "ACTIVE", created
    facts_play = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      novalite.compute.nova_host_facts:
        storage_pool: "%s"
        virt_type: qemu
""" % hv.pool_name
    facts = run_playbook(facts_play).task("facts")["ansible_facts"]["nova_host"]
    assert facts["hypervisor_type"] == "QEMU"
    assert facts["virt_type"] == "qemu"
    assert facts["vcpus"] == os.cpu_count()
    assert facts["memory_mb"] > 0
    mine = [i for i in facts["instances"] if i["name"] == name]
    assert len(mine) == 1
    assert mine[0]["flavor"]["name"] == "m1.small"
    assert mine[0]["vm_state"] == "active"
    assert facts["vcpus_used"] >= 1
    assert facts["memory_mb_used"] >= 256
    assert facts["local_gb_used"] >= 3  # disk 1 + ephemeral 1 + swap rounded up to 1
    assert facts["running_vms"] >= 1
    # ephemeral and swap disks exist as volumes of the instance
    names = sorted(v.name() for v in storage.instance_volumes(hv.pool(), mine[0]["uuid"]))
    assert names == sorted(mine[0]["uuid"] + s for s in
                           (".console.log", ".disk", ".disk.config", ".disk.eph0", ".disk.swap"))


def test_image_from_a_url_is_downloaded_once_and_checked(conn, local_hv, tiny_image):
    """An image given by URL (served here on loopback) is fetched into the control node's
    cache, checked against its sha256, and boots; a wrong checksum is refused."""
    import functools
    import hashlib
    import http.server
    import threading

    hv = local_hv
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.dirname(tiny_image["root"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    cache = os.path.expanduser("~/.cache/novalite/images")
    urls = [base + "tiny-root.qcow2?" + hv.tag, base + "tiny-root.qcow2?bad" + hv.tag]
    try:
        with open(tiny_image["root"], "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        data = server_vars(hv, tiny_image, hv.prefix + "url")
        for image in data["images"]:
            if image["name"] == "tiny":
                del image["file"]
                image.update(url=urls[0], checksum="sha256:" + digest)
        made = run_playbook(SERVER_TASK, data).task("server")
        assert made["server"]["status"] == "ACTIVE", made
        wait_console(conn, hv, made["server"]["id"], "NOVALITE-GUEST-READY")
        for image in data["images"]:
            if image["name"] == "tiny":
                image.update(url=urls[1], checksum="0" * 64)
        refused = run_playbook(SERVER_TASK, dict(data, server_name=hv.prefix + "bad")).task("server")
        assert refused["failed"] is True and refused["msg"].startswith("images.tiny.checksum: "), refused["msg"]
        assert guest.find_domain(conn, hv.prefix + "bad") is None
        run_playbook(SERVER_TASK, dict(data, server_name=hv.prefix + "url", server_state="absent"))
        assert hv.leftovers() == []
    finally:
        server.shutdown()
        for url in urls:
            path = os.path.join(cache, hashlib.sha256(url.encode("utf-8")).hexdigest())
            if os.path.exists(path):
                os.unlink(path)


def test_dynamic_inventory_lists_servers_with_groups(conn, local_hv, tiny_image, tmp_path):
    import subprocess
    from helpers import PYTHON, ansible_env
    hv = local_hv
    name = hv.prefix + "inv"
    made = run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name, meta={"role": "web"})).task("server")
    assert made["server"]["status"] == "ACTIVE", made
    inventory = tmp_path / "nova.yml"
    inventory.write_text(json.dumps({
        "plugin": "novalite.compute.nova",
        "hypervisors": [{"name": "local", "uri": "qemu:///system"}],
        "storage_pool": hv.pool_name,
        "keyed_groups": [{"key": "nova_metadata.role", "prefix": "role"}],
    }))
    proc = subprocess.run([os.path.join(os.path.dirname(PYTHON), "ansible-inventory"), "-i", str(inventory),
                           "--list"], capture_output=True, text=True, env=ansible_env(), check=True)
    # ansible-core 2.19 marks inventory-plugin values as untrusted in its JSON output
    data = json.loads(proc.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d))
    hostvars = data["_meta"]["hostvars"][name]
    assert hostvars["ansible_host"] == made["server"]["addresses"][hv.network][0]["addr"]
    assert hostvars["nova_id"] == made["server"]["id"]
    assert hostvars["nova_status"] == "ACTIVE"
    for group in ("nova_hypervisor_local", "nova_az_nova", "nova_flavor_m1_tiny", "nova_image_tiny",
                  "nova_meta_role_web", "role_web", "nova_status_ACTIVE"):
        assert name in data[group]["hosts"], (group, sorted(data))
    run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name, server_state="absent"))
    assert hv.leftovers() == []


def test_check_mode_and_diff_match_the_real_run(conn, local_hv, tiny_image):
    """changed is the same in check mode and in the real run, for every kind of change; diff
    shows before and after; check mode creates, changes and deletes nothing."""
    hv = local_hv
    run_playbook(PREPARE_PLAY, {"pool": hv.pool_name, "path": hv.pool_path})
    name = hv.prefix + "cd"
    steps = [
        ("create", server_vars(hv, tiny_image, name, meta={"a": "1"})),
        ("rerun", server_vars(hv, tiny_image, name, meta={"a": "1"})),
        ("meta", server_vars(hv, tiny_image, name, meta={"a": "2"})),
        ("delete", server_vars(hv, tiny_image, name, server_state="absent")),
        ("delete-again", server_vars(hv, tiny_image, name, server_state="absent")),
    ]
    expected = {"create": True, "rerun": False, "meta": True, "delete": True, "delete-again": False}
    for step, variables in steps:
        before = instance_record.read_record(conn.lookupByName(name)) if guest.find_domain(conn, name) else None
        planned = run_playbook(SERVER_TASK, variables, check=True).task("server")
        after_check = instance_record.read_record(conn.lookupByName(name)) if guest.find_domain(conn, name) else None
        assert after_check == before, step
        real = run_playbook(SERVER_TASK.replace("- name: server", "- name: server\n      diff: true"),
                            variables).task("server")
        assert planned["changed"] is real["changed"] is expected[step], (step, planned, real)
        if step == "create":
            assert planned["server"]["placement"]["selected"] == "local"
            assert real["server"]["placement"]["selected"] == real["server"]["hypervisor_hostname"] == "local"
            assert real["diff"]["before"] == {} and real["diff"]["after"][name]["status"] == "ACTIVE"
            first_id = real["server"]["id"]
        if step == "meta":
            assert real["diff"]["before"][name]["metadata"] == {"a": "1"}
            assert real["diff"]["after"][name]["metadata"] == {"a": "2"}
            assert real["server"]["id"] == first_id
            assert instance_record.read_record(conn.lookupByName(name))["metadata"] == {"a": "2"}
        if step == "delete":
            assert real["diff"]["after"] == {} and name in real["diff"]["before"]
    assert hv.leftovers() == []
