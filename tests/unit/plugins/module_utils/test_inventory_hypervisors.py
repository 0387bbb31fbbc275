# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import check_options
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_uri
from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import (
    hypervisors_from_inventory, libvirt_uri)


def test_ssh_uri_from_connection_variables():
    uri = libvirt_uri("c1", {"ansible_host": "192.0.2.10", "ansible_user": "ops",
                             "ansible_ssh_private_key_file": "/keys/id"})
    assert uri == "qemu+ssh://ops@192.0.2.10/system?keyfile=/keys/id"
    assert check_uri("uri", uri) == uri


def test_known_hosts_file_selects_libssh2_and_stays_valid():
    uri = libvirt_uri("c1", {"ansible_host": "192.0.2.10", "ansible_private_key_file": "/k/id",
                             "nova_libvirt_known_hosts": "/k/known_hosts", "ansible_port": 2222})
    assert uri.startswith("qemu+libssh2://root@192.0.2.10:2222/system?")
    assert "known_hosts=/k/known_hosts" in uri and "sshauth=privkey" in uri
    assert check_uri("uri", uri) == uri
    no_key = libvirt_uri("c1", {"nova_libvirt_known_hosts": "/k/known_hosts"})
    assert "sshauth=agent,privkey" in no_key
    assert check_uri("uri", no_key) == no_key


def test_explicit_uri_and_local_connection():
    assert libvirt_uri("c1", {"nova_libvirt_uri": "qemu+tls://c1/system"}) == "qemu+tls://c1/system"
    assert libvirt_uri("localhost", {"ansible_connection": "local"}) == "qemu:///system"


def test_host_variables_become_hypervisor_settings():
    hostvars = {
        "c1": {"ansible_host": "192.0.2.1", "nova_availability_zone": "az1", "nova_enabled": False,
               "nova_aggregates": [{"name": "ssd", "metadata": {"ssd": "true"}}],
               "nova_ram_allocation_ratio": 1.5, "unrelated": 1},
        "c2": {"ansible_host": "192.0.2.2"},
    }
    hvs = hypervisors_from_inventory(["c1", "c2"], hostvars.get)
    assert hvs[0] == {"name": "c1", "uri": "qemu+ssh://root@192.0.2.1/system", "availability_zone": "az1",
                      "enabled": False, "aggregates": [{"name": "ssd", "metadata": {"ssd": "true"}}],
                      "ram_allocation_ratio": 1.5}
    assert hvs[1] == {"name": "c2", "uri": "qemu+ssh://root@192.0.2.2/system"}
    # As the inventory plugin checks them: the hypervisor spec (check_options), then the engine.
    checked = check_hypervisor("hypervisors[0]", check_options("hypervisors[0]", hypervisor_options(), hvs[0]))
    assert checked["reserved_host_memory_mb"] == 512 and checked["cpu_allocation_ratio"] == 4.0
