#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_compute_validate
short_description: Check a compute node's nova variables before anything is changed
version_added: "0.1.0"
description:
  - Checks the variables of the C(novalite.compute.nova_compute) role, and the C(nova_*) host
    variables M(novalite.compute.nova_server) later reads from the inventory, with the rules the
    modules apply, so that a bad value stops the role before it installs, configures or creates
    anything. Each error names the variable.
  - "Names: letters, digits, C(.), C(_), C(-), at most 63 characters. Paths: absolute, with no C(..)
    component; the storage path not a system or shared directory. Networks: a name, an IPv4 C(cidr)
    from C(/8) to C(/29) outside the loopback, link-local, multicast and reserved ranges, an optional
    bridge of at most 15 letters, digits, C(-) and C(_); names, bridges and subnets distinct. Packages:
    Debian package names. QEMU user and group: account names. Authorized keys: one OpenSSH public key
    line each. Counts and timeouts: whole numbers in range. Allocation ratios above 0 and at most 1000;
    reserved figures not negative; C(nova_libvirt_uri) a QEMU libvirt URI whose host, user and query
    parameters are plain (no ssh options, no commands)."
  - The nova_compute role runs it first, on the control node; it changes nothing.
author:
  - novalite.compute developers (@novalite)
attributes:
  check_mode:
    support: full
    description: Checks the same way; it never changes anything.
  diff_mode:
    support: none
    description: Nothing to show.
options:
  variables:
    description:
      - The variables to check, by name. Known names are the nova_compute role's variables
        (C(nova_compute_packages), C(nova_compute_apt_cache_valid_time), C(nova_compute_virt_type),
        C(nova_compute_kvm_probe_kernel), C(nova_compute_kvm_probe_initrd), C(nova_compute_kvm_probe_marker),
        C(nova_compute_kvm_probe_timeout), C(nova_compute_storage_pool), C(nova_compute_storage_path),
        C(nova_compute_qemu_user), C(nova_compute_qemu_group), C(nova_compute_no_cgroups),
        C(nova_compute_networks), C(nova_compute_authorized_keys)) and the host variables
        C(nova_libvirt_uri), C(nova_libvirt_known_hosts), C(nova_availability_zone), C(nova_aggregates),
        C(nova_cpu_allocation_ratio), C(nova_ram_allocation_ratio), C(nova_disk_allocation_ratio),
        C(nova_reserved_host_memory_mb), C(nova_reserved_host_disk_mb), C(nova_reserved_host_cpus),
        C(nova_enabled) and C(nova_virt_type). Other names are refused.
      - A variable whose value is null is not checked (it is not set).
      - The KVM probe's kernel and initramfs must exist where the module runs (the control node).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the variables before changing anything
  novalite.compute.nova_compute_validate:
    variables:
      nova_compute_storage_path: "{{ nova_compute_storage_path }}"
      nova_compute_networks: "{{ nova_compute_networks }}"
      nova_cpu_allocation_ratio: "{{ nova_cpu_allocation_ratio | default(none) }}"
  delegate_to: localhost
  become: false
"""

RETURN = r"""
checked:
  description: The names of the variables that were checked (set, not null).
  returned: success
  type: list
  elements: str
  sample: [nova_compute_networks, nova_compute_storage_path]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import HOST_VARIABLES
from ansible_collections.novalite.compute.plugins.module_utils.validation.compute_node import check_compute_variables
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest, fail

ROLE_VARIABLES = (
    "nova_compute_packages", "nova_compute_apt_cache_valid_time", "nova_compute_virt_type",
    "nova_compute_kvm_probe_kernel", "nova_compute_kvm_probe_initrd", "nova_compute_kvm_probe_marker",
    "nova_compute_kvm_probe_timeout", "nova_compute_storage_pool", "nova_compute_storage_path",
    "nova_compute_qemu_user", "nova_compute_qemu_group", "nova_compute_no_cgroups",
    "nova_compute_networks", "nova_compute_authorized_keys",
)
HOST_VARIABLES = ("nova_libvirt_uri", "nova_libvirt_known_hosts") + tuple(
    v for v in sorted(HOST_VARIABLES.values()) if v not in ROLE_VARIABLES)


def main():
    module = AnsibleModule(argument_spec=dict(variables=dict(type="dict", required=True)),
                           supports_check_mode=True)
    variables = module.params["variables"]
    try:
        unknown = sorted(set(variables) - set(ROLE_VARIABLES) - set(HOST_VARIABLES))
        if unknown:
            fail("variables", "%s: not a variable this module checks" % ", ".join(unknown))
        checked = check_compute_variables(variables)
    except InvalidRequest as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, checked=sorted(checked))


if __name__ == "__main__":
    main()
