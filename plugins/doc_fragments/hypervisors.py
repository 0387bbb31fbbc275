# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  hypervisors:
    description:
      - The compute nodes. Each item has C(name) (the host's inventory name) and C(uri) (its libvirt
        URI, C(qemu:///system) or C(qemu+ssh://root@ADDRESS/system)), and optionally
        C(availability_zone) (default C(nova)), C(aggregates) (list of C(name) and C(metadata)),
        C(cpu_allocation_ratio) (4.0), C(ram_allocation_ratio) (1.0), C(disk_allocation_ratio) (1.0),
        C(reserved_host_memory_mb) (512), C(reserved_host_disk_mb) (0), C(reserved_host_cpus) (0),
        C(enabled) (true), C(virt_type) (C(auto), C(kvm) or C(qemu)), C(storage_pool)
        (C(nova_instances)) and C(storage_path) (C(/var/lib/novalite/instances)).
      - C(virt_type=auto) uses KVM only where libvirt offers it and a KVM guest was seen to boot on that
        host; otherwise plain QEMU (TCG).
      - When not given, the hosts of the inventory group O(hypervisor_group) are the hypervisors, with
        C(uri) from C(nova_libvirt_uri) or qemu+ssh to the host's C(ansible_host) as C(ansible_user) with
        its C(ansible_ssh_private_key_file) (and C(nova_libvirt_known_hosts)), and the other keys from
        the host variables C(nova_availability_zone), C(nova_aggregates), C(nova_cpu_allocation_ratio),
        C(nova_ram_allocation_ratio), C(nova_disk_allocation_ratio), C(nova_reserved_host_memory_mb),
        C(nova_reserved_host_disk_mb), C(nova_reserved_host_cpus), C(nova_enabled), C(nova_virt_type),
        C(nova_compute_storage_pool) and C(nova_compute_storage_path).
      - When neither is there, the local hypervisor C(qemu:///system).
    type: list
    elements: dict
    default: [{name: localhost, uri: "qemu:///system"}]
  hypervisor_group:
    description: Inventory group whose hosts are the hypervisors when O(hypervisors) is not given.
    type: str
    default: nova_compute
  connect_timeout:
    description: Seconds to wait for each hypervisor's libvirt; a silent host is treated as down.
    type: int
    default: 30
"""
