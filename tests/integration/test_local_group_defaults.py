"""module_defaults for group/novalite.compute.nova (issue 15, item 2), through ansible-playbook on
the real local libvirtd: with the hypervisors and every shared option of the group set once
(the catalogs, quotas, scheduler, notifications file), every module of the group runs with no
option of its own but what it is about - nova_image_cache, nova_server, nova_server_info and
nova_host_facts - where nova_host_facts used to fail with 'Unsupported parameters ... flavors,
images' and nova_image_cache with '... flavors'."""

import os

import yaml

from conftest import catalog
from helpers import REPO, run_playbook

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import GROUP_OPTIONS

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/novalite.compute.nova: "{{ shared }}"
  tasks:
    - name: cache
      novalite.compute.nova_image_cache:
        names: [tiny]
    - name: server
      novalite.compute.nova_server:
        name: "{{ server_name }}"
        image: tiny
        flavor: m1.tiny
        nics: ["{{ network }}"]
    - name: info
      novalite.compute.nova_server_info:
        name: "{{ server_name }}"
    - name: facts
      novalite.compute.nova_host_facts:
    - name: delete
      novalite.compute.nova_server:
        name: "{{ server_name }}"
        state: absent
"""
DELETE_PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/novalite.compute.nova: "{{ shared }}"
  tasks:
    - name: delete
      novalite.compute.nova_server:
        name: "{{ server_name }}"
        state: absent
"""


def test_every_module_of_the_group_takes_the_groups_shared_options(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    with open(os.path.join(REPO, "meta", "runtime.yml")) as handle:
        group = yaml.safe_load(handle)["action_groups"]["nova"]
    # nova_server_action is in the group too; its EXAMPLES run with the group's module_defaults
    # (test_docs_snippets.py)
    assert sorted(group) == ["nova_host_facts", "nova_image_cache", "nova_server", "nova_server_action",
                             "nova_server_info"]
    shared = catalog(tiny_image)
    shared.update(
        hypervisors=[hv.config()], connect_timeout=20,
        server_groups=[{"name": hv.prefix + "grp", "policy": "soft-anti-affinity"}],
        quotas={"instances": 10}, scheduler={"max_attempts": 2},
        notifications_file=str(tmp_path / "notifications.jsonl"))
    assert set(GROUP_OPTIONS) <= set(shared)
    name = hv.prefix + "grpdef"
    try:
        run = run_playbook(PLAY, {"shared": shared, "server_name": name, "network": hv.network})
        assert run.failures() == [], run.failures()
        assert run.task("cache")["cached"] == {"local": ["tiny", "tiny-kernel", "tiny-ramdisk"]}
        server = run.task("server")["server"]
        assert server["status"] == "ACTIVE" and server["hypervisor_hostname"] == "local"
        assert [s["id"] for s in run.task("info")["servers"]] == [server["id"]]
        host = run.task("facts")["ansible_facts"]["nova_hosts"]["local"]
        assert host["up"] is True and server["id"] in [s["id"] for s in host["servers"]]
        assert run.task("delete")["changed"] is True
        # nova_server used the notifications file the group's defaults named.
        with open(shared["notifications_file"]) as handle:
            assert "compute.instance.create.end" in handle.read()
    finally:
        run_playbook(DELETE_PLAY, {"shared": shared, "server_name": name})
    assert hv.leftovers() == []
