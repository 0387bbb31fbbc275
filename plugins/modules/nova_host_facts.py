#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_host_facts
short_description: What a libvirt hypervisor has and uses, as Nova's resource tracker sees it
version_added: "0.1.0"
description:
  - Connects to one hypervisor's libvirt and reports, in C(ansible_facts.nova_host), its hostname,
    hypervisor type and version, virt type, architecture, vCPUs, memory and instance storage with
    what is allocated of each, the running domains, and the novalite instances on it with their
    flavors and states (read from each domain's metadata).
  - With O(hypervisors) instead of O(uri), reports every hypervisor, gathered in parallel, in
    C(ansible_facts.nova_hosts) keyed by name; an unreachable one is reported with C(up=false).
  - C(memory_mb) is libvirt's node memory (C(virNodeGetInfo)), the figure Nova's libvirt driver uses.
    It may differ from C(/proc/meminfo), for example under memory ballooning.
    C(memory_mb_used), C(vcpus_used) and C(local_gb_used) are allocations, that is the flavors of
    the instances on the host plus the size of any other running domain.
  - A hypervisor whose instance storage pool (O(storage_pool), or the entry's
    O(hypervisors[].storage_pool)) does not exist or is not active is reported with a warning naming
    the hypervisor and the pool, and C(storage_pool_defined) or C(storage_pool_active) false; no
    server can be built there until the nova_compute role or M(novalite.compute.nova_compute_node)
    prepares it.
notes:
  - Where the task would run the module on the control node with the very Python running Ansible,
    the action plugin does the module's work in its own process, with the same argument checks and
    results, as for M(novalite.compute.nova_server).
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
extends_documentation_fragment:
  - novalite.compute.hypervisors
  - novalite.compute.nova
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Not supported.
  facts:
    support: full
    description: Sets nova_host or nova_hosts.
options:
  uri:
    description: libvirt URI of the hypervisor. Ignored when O(hypervisors) is given.
    type: str
    default: qemu:///system
  storage_pool:
    description: The instance storage pool whose capacity is C(local_gb).
    type: str
    default: nova_instances
  virt_type:
    description:
      - C(auto) reports C(kvm) only where libvirt offers KVM and a KVM guest was seen to boot on
        the host (recorded by the nova_compute role); otherwise C(qemu).
    type: str
    choices: [auto, kvm, qemu]
    default: auto
  hypervisor_group:
    description:
      - Report every host of this inventory group, with O(hypervisors) built from host variables as
        M(novalite.compute.nova_server) builds them.
    type: str
  flavors:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  images:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
    default: []
  keypairs:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  server_groups:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  quotas:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  scheduler:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  notifications_file:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
"""

EXAMPLES = r"""
- name: Read the local hypervisor
  novalite.compute.nova_host_facts:

- name: Read a remote hypervisor
  novalite.compute.nova_host_facts:
    uri: qemu+ssh://root@compute1/system

- name: Show what is free
  ansible.builtin.debug:
    msg: "{{ nova_host.memory_mb - nova_host.memory_mb_used }} MB free"
"""

RETURN = r"""
ansible_facts:
  description: Facts about the hypervisor.
  returned: always
  type: dict
  contains:
    nova_host:
      description: The hypervisor (when O(uri) is used).
      returned: when O(hypervisors) is not given
      type: dict
      contains:
        hypervisor_hostname:
          description: "The host's name as libvirt reports it."
          type: str
        hypervisor_type:
          description: "libvirt driver type, C(QEMU)."
          type: str
        hypervisor_version:
          description: "Hypervisor version as an integer (7002022 is 7.2.22)."
          type: int
        virt_type:
          description: "C(kvm) or C(qemu)."
          type: str
        cpu_arch:
          description: "Host CPU architecture."
          type: str
        vcpus:
          description: "Host CPUs."
          type: int
        vcpus_used:
          description: "vCPUs allocated to domains."
          type: int
        memory_mb:
          description: "Host memory in MB (virNodeGetInfo)."
          type: int
        memory_mb_used:
          description: "Memory allocated to domains in MB."
          type: int
        local_gb:
          description: "Capacity of the instance storage pool in GB."
          type: int
        local_gb_used:
          description: "Disk allocated to instances in GB (flavor sizes)."
          type: int
        running_vms:
          description: "Running domains."
          type: int
        storage_pool:
          description: "The instance storage pool's name."
          type: str
        storage_pool_defined:
          description: "Whether that pool exists on the hypervisor."
          type: bool
        storage_pool_active:
          description: "Whether it is active (C(local_gb) is 0 when it is not)."
          type: bool
        instances:
          description: The novalite instances on the host with their records.
          type: list
          elements: dict
        servers:
          description:
            - The same instances shaped as M(novalite.compute.nova_server) and
              M(novalite.compute.nova_server_info) return a server.
          type: list
          elements: dict
        orphans:
          description:
            - What the host holds that belongs to no complete instance, each with its C(type)
              and C(name) - C(domain) (a build whose run died, past its lease), C(volume) (an
              instance volume of no domain), C(dhcp) (a reservation with a C(fa:16:3e) MAC no
              instance names, with C(network), C(mac), C(ip)), C(lock) (a lock its holder left, with the C(pool) and C(path) of its volume),
              C(base) (a base image in the C(_base) cache whose upload never finished).
            - M(novalite.compute.nova_server) with O(novalite.compute.nova_server#module:purge_orphans=true)
              removes them.
          type: list
          elements: dict
    nova_hosts:
      description:
        - Per hypervisor name, the same dictionary plus C(up), C(error), C(availability_zone) and
          C(capacity), which gives for C(vcpus), C(memory_mb) and C(disk_gb) the C(used) amount
          allocated to instances, as placement counts it, and the C(limit) (placement's capacity,
          (total - reserved) times the allocation ratio).
      returned: when O(hypervisors) is given
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import (
    VIRT_TYPES, group_argument_spec)
from ansible_collections.novalite.compute.plugins.module_utils.compute import hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.compute import resource_tracker
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import orphans
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.compute import views
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    InvalidRequest, check_int, check_name)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_uri


def pool_warning(name, facts):
    """The warning for a hypervisor whose instance storage pool is missing or inactive (no server
    can be built there until it is prepared), or None."""
    if not facts or facts.get("storage_pool_active"):
        return None
    state = "is not active" if facts.get("storage_pool_defined") else "does not exist"
    return ("hypervisor %s: instance storage pool %s %s, so no server can be built there (prepare it with "
            "the nova_compute role or novalite.compute.nova_compute_node)" % (name, facts.get("storage_pool"), state))


def run(params):
    """The module's result for these parameters; a failure has failed=True and msg.
    (It only reads: check mode changes nothing, and there is no diff.) A missing or inactive
    storage pool is a warning naming the hypervisor and the pool."""
    try:
        check_int("connect_timeout", params["connect_timeout"], 1, 3600)
        if params["hypervisors"] is not None:
            catalogs = check_catalogs([], [], params["hypervisors"])
            hypervisors = [hypervisor.Hypervisor(config) for config in catalogs["hypervisors"].values()]
            hypervisor.gather_all(hypervisors, params["connect_timeout"])
            hosts = {}
            warnings = []
            for hv in hypervisors:
                hosts[hv.name] = dict(hv.facts or {}, up=hv.up, error=hv.error, uri=hv.uri,
                                      availability_zone=hv.config["availability_zone"],
                                      capacity=resource_tracker.capacity(hv))
                if hv.up:
                    hosts[hv.name]["orphans"] = orphans.find_orphans(hv.conn, hv.config["storage_pool"])
                    hosts[hv.name]["servers"] = [views.server_view(record, hv) for record in hv.facts["instances"]]
                    warnings.append(pool_warning(hv.name, hv.facts))
            return dict(changed=False, ansible_facts={"nova_hosts": hosts},
                        warnings=[warning for warning in warnings if warning])
        check_uri("uri", params["uri"])
        check_name("storage_pool", params["storage_pool"])
        conn = connection.connect(params["uri"])
        facts = libvirt_host.host_facts(conn, params["storage_pool"], params["virt_type"])
        facts["orphans"] = orphans.find_orphans(conn, params["storage_pool"])
        facts["servers"] = [views.server_view(record) for record in facts["instances"]]
        warning = pool_warning("%s (%s)" % (facts["hypervisor_hostname"], params["uri"]), facts)
    except (InvalidRequest, connection.DriverError) as exc:
        return dict(failed=True, msg=str(exc))
    return dict(changed=False, ansible_facts={"nova_host": facts}, warnings=[warning] if warning else [])


def argument_spec():
    """The options, as the module's DOCUMENTATION describes them."""
    spec = dict(
        uri=dict(type="str", default=connection.DEFAULT_URI),
        storage_pool=dict(type="str", default=storage.DEFAULT_POOL),
        virt_type=dict(type="str", default="auto", choices=list(VIRT_TYPES)),
        hypervisor_group=dict(type="str"),
    )
    spec.update(group_argument_spec(inventory_group=False))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    result = run(module.params)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
