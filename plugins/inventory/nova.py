# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: nova
short_description: The servers on novalite.compute hypervisors, as an inventory
version_added: "0.1.0"
description:
  - Reads every instance record from the domains' metadata on the given hypervisors (in parallel)
    and makes each server a host, with C(ansible_host) set to its fixed address on the network
    O(ansible_host_network) names, or to its first fixed address.
  - The isolated networks M(novalite.compute.nova_network) makes by default do not route to the
    control node, so an C(ansible_host) on one of them is unreachable from it unless the control
    node is the hypervisor; put the servers on a C(nat) or C(route) network (its
    O(novalite.compute.nova_network#module:forward_mode)) the control node can reach, and name it in
    O(ansible_host_network).
  - With O(cache=true) the servers read are kept in Ansible's inventory cache (O(cache_plugin),
    O(cache_timeout)...); a later run within the cache's timeout is served from it without asking
    any hypervisor (C(--flush-cache) reads them again).
  - Groups servers by hypervisor (C(nova_hypervisor_NAME)), availability zone (C(nova_az_ZONE)),
    flavor (C(nova_flavor_NAME)), image (C(nova_image_NAME)), server group (C(nova_group_NAME)),
    status (C(nova_status_ACTIVE)) and metadata (C(nova_meta_KEY_VALUE)), as the openstack.cloud
    inventory plugin does; characters not valid in a group name become C(_). More groups with the
    constructed options.
  - The inventory file's name must end in C(nova.yml) or C(nova.yaml).
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - novalite.compute.hypervisors
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
    choices: [novalite.compute.nova]
  hypervisors:
    description:
      - The hypervisors to read, as in M(novalite.compute.nova_server), checked the same way (by
        Ansible's argument spec validator, then the collection's own checks of names, URIs, figures
        and paths); an error names the entry, such as C(hypervisors[1]).
      - Their O(hypervisors[].storage_pool) is O(storage_pool).
    default: [{name: localhost, uri: "qemu:///system"}]
  storage_pool:
    description: Instance storage pool of the hypervisors.
    type: str
    default: nova_instances
  connect_timeout:
    description:
      - Seconds to wait for each hypervisor; an unreachable one is skipped with a warning, or fails
        the inventory with O(fail_on_errors=true).
  fail_on_errors:
    description:
      - Fail the inventory source (it gives no hosts) when a hypervisor does not answer, instead of
        giving the servers of the others with a warning, as the openstack.cloud inventory's option of
        that name does. Ansible reports the failure as it reports any inventory source that fails to
        parse (a warning, or an error with C(inventory_unparsed_failed) / C(--flush-cache) runs alike).
      - A partial inventory is not cached when this is true.
    type: bool
    default: false
  ansible_host_network:
    description:
      - The network (its libvirt name, as in M(novalite.compute.nova_server)'s O(novalite.compute.nova_server#module:nics))
        whose fixed address becomes the server's C(ansible_host); a server with no port on it gets no
        C(ansible_host). By default the first fixed address, whatever its network.
    type: str
  only_active:
    description: List only servers whose status is ACTIVE.
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventory/nova.yml
plugin: novalite.compute.nova
hypervisors:
  - {name: compute1, uri: "qemu+ssh://root@compute1/system"}
  - {name: compute2, uri: "qemu+ssh://root@compute2/system"}
keyed_groups:
  - key: nova_metadata.role | default('none')
    prefix: role

# inventory/prod.nova.yml: addresses on a routed network, every hypervisor must answer, and the
# servers kept for ten minutes in a JSON file cache
# plugin: novalite.compute.nova
# hypervisors:
#   - {name: compute1, uri: "qemu+ssh://root@compute1/system"}
# ansible_host_network: routed
# fail_on_errors: true
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/novalite-inventory
# cache_timeout: 600
"""

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options
from ansible_collections.novalite.compute.plugins.module_utils.compute import hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.compute import views
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    InvalidRequest, check_name, check_options)


def server_groups(server):
    """The groups one server belongs to."""
    groups = ["nova", "nova_hypervisor_%s" % server["hypervisor_hostname"],
              "nova_status_%s" % server["status"]]
    if server.get("availability_zone"):
        groups.append("nova_az_%s" % server["availability_zone"])
    if server["flavor"].get("name"):
        groups.append("nova_flavor_%s" % server["flavor"]["name"])
    if server["image"].get("name"):
        groups.append("nova_image_%s" % server["image"]["name"])
    if server.get("server_group"):
        groups.append("nova_group_%s" % server["server_group"])
    for key, value in sorted((server.get("metadata") or {}).items()):
        groups.append("nova_meta_%s_%s" % (key, value))
    return [to_safe_group_name(group, force=True, silent=True) for group in groups]


def first_address(server, network=None):
    """The server's first fixed address (on `network` when named), or None."""
    for name, ports in server["addresses"].items():
        if network is not None and name != network:
            continue
        for port in ports:
            if port.get("addr"):
                return port["addr"]
    return None


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "novalite.compute.nova"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("nova.yml", "nova.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        # Ansible's inventory cache, as its own inventory plugins use it: read when caching is on
        # and the run does not flush it (`cache` false: --flush-cache), written after a read of
        # the hypervisors.
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        servers = None
        if use_cache:
            try:
                servers = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if servers is None:
            servers, complete = self._read_servers(path)
            if update_cache and (complete or not self.get_option("fail_on_errors")):
                self._cache[cache_key] = servers
        strict = self.get_option("strict")
        for server in servers:
            if self.get_option("only_active") and server["status"] != "ACTIVE":
                continue
            self._add_server(server, strict)

    def _read_servers(self, path):
        """([server], whether every hypervisor answered), read from the hypervisors; with
        fail_on_errors, a silent hypervisor fails the source."""
        options = hypervisor_options()
        configs = []
        try:
            for index, entry in enumerate(self.get_option("hypervisors")):
                field = "hypervisors[%d]" % index
                entry = check_options(field, options, entry)
                entry["storage_pool"] = self.get_option("storage_pool")
                configs.append(check_hypervisor(field, entry))
            network = self.get_option("ansible_host_network")
            if network is not None:
                check_name("ansible_host_network", network)
        except InvalidRequest as exc:
            raise AnsibleParserError("%s: %s" % (path, exc))
        hypervisors = [hypervisor.Hypervisor(config) for config in configs]
        hypervisor.gather_all(hypervisors, self.get_option("connect_timeout"))
        down = [hv for hv in hypervisors if not hv.up]
        if down and self.get_option("fail_on_errors"):
            raise AnsibleParserError("%s: fail_on_errors: %s" % (path, "; ".join(
                "hypervisor %s did not answer: %s" % (hv.name, hv.error) for hv in down)))
        servers = []
        for hv in hypervisors:
            if not hv.up:
                self.display.warning("nova inventory: hypervisor %s skipped: %s" % (hv.name, hv.error))
                continue
            servers.extend(views.server_view(record, hv) for record in hv.facts["instances"])
        return servers, not down

    def _add_server(self, server, strict):
        name = server["name"]
        self.inventory.add_host(name)
        for group in server_groups(server):
            self.inventory.add_group(group)
            self.inventory.add_child(group, name)
        hostvars = {}
        address = first_address(server, self.get_option("ansible_host_network"))
        if address is not None:
            hostvars["ansible_host"] = address
        for key, value in server.items():
            hostvars["nova_" + key] = value
        for key, value in hostvars.items():
            self.inventory.set_variable(name, key, value)
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
