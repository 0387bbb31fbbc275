"""The nova inventory plugin on the real libvirtd (issue 15, item 9): Ansible's inventory cache
(a second ansible-inventory run is served from the cache file, even with the hypervisor
unreachable), fail_on_errors with an unreachable URI, and ansible_host from the network named."""

import glob
import json
import os
import subprocess

from helpers import PYTHON, ansible_env, run_playbook
from test_local_server import SERVER_TASK, server_vars

# a loopback port no libvirtd listens on: refused at once, no traffic leaves the machine
UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"


def inventory(path, *extra_args, env=None):
    """(rc, ansible-inventory --list output as data, stderr)."""
    proc = subprocess.run([os.path.join(os.path.dirname(PYTHON), "ansible-inventory"), "-i", str(path), "--list"]
                          + list(extra_args), capture_output=True, text=True, env=ansible_env(env), check=False)
    try:
        # ansible-core 2.19 marks inventory-plugin values as untrusted in its JSON output
        data = json.loads(proc.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d))
    except ValueError:
        data = None
    return proc.returncode, data, proc.stderr


def hosts(data):
    return sorted(data["_meta"]["hostvars"]) if data else []


def test_cache_fail_on_errors_and_ansible_host_network(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    name = hv.prefix + "inv"
    made = run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name)).task("server")
    try:
        assert made["server"]["status"] == "ACTIVE", made
        address = made["server"]["addresses"][hv.network][0]["addr"]
        cache_dir = tmp_path / "cache"
        source = tmp_path / "nova.yml"
        config = {"plugin": "novalite.compute.nova", "storage_pool": hv.pool_name,
                  "hypervisors": [{"name": "local", "uri": "qemu:///system"}],
                  "ansible_host_network": hv.network, "connect_timeout": 5,
                  "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                  "cache_connection": str(cache_dir), "cache_timeout": 3600}
        source.write_text(json.dumps(config))
        rc, data, err = inventory(source)
        assert rc == 0, err
        assert name in hosts(data) and data["_meta"]["hostvars"][name]["ansible_host"] == address
        files = glob.glob(str(cache_dir / "*"))
        assert len(files) == 1 and name in open(files[0]).read(), files
        # the same source, its hypervisor now unreachable: served from the cache
        source.write_text(json.dumps(dict(config, hypervisors=[{"name": "local", "uri": UNREACHABLE}])))
        rc, data, err = inventory(source)
        assert rc == 0 and name in hosts(data), err
        assert data["_meta"]["hostvars"][name]["nova_id"] == made["server"]["id"]
        assert "skipped" not in err
        # flushed: the hypervisor is asked, does not answer, and the inventory is partial (empty)
        rc, data, err = inventory(source, "--flush-cache")
        assert rc == 0 and name not in hosts(data) and "hypervisor local skipped" in err, err
        # fail_on_errors: the source fails, naming the hypervisor, and nothing is cached
        os.remove(glob.glob(str(cache_dir / "*"))[0]) if glob.glob(str(cache_dir / "*")) else None
        source.write_text(json.dumps(dict(config, hypervisors=[{"name": "local", "uri": UNREACHABLE}],
                                          fail_on_errors=True)))
        rc, data, err = inventory(source, "--flush-cache", env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"})
        assert rc != 0 and "fail_on_errors: hypervisor local did not answer" in err, (rc, err)
        assert name not in hosts(data)
        assert glob.glob(str(cache_dir / "*")) == []
        # a network the server has no port on: no ansible_host (not another network's address)
        no_cache = tmp_path / "other.nova.yml"
        no_cache.write_text(json.dumps(dict(config, cache=False, ansible_host_network="nlt-nonetwork")))
        rc, data, err = inventory(no_cache)
        assert rc == 0 and name in hosts(data), err
        assert "ansible_host" not in data["_meta"]["hostvars"][name]
    finally:
        run_playbook(SERVER_TASK, server_vars(hv, tiny_image, name, server_state="absent"))
    assert hv.leftovers() == []
