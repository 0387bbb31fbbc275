# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The hypervisor entries, as module_utils.argument_specs.hypervisors_argument_spec() defines
    them: DOCUMENTATION for every plugin that takes them, INVENTORY_GROUP for the modules that
    take them from an inventory group when the task gives none (it adds the default)."""

    DOCUMENTATION = r"""
options:
  hypervisors:
    description:
      - The compute nodes, one item per libvirt hypervisor, with the settings Nova reads from each
        compute host's C(nova.conf).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The hypervisor's name (its inventory name), as servers report it in C(hypervisor_hostname).
          - Letters, digits, C(.), C(_) and C(-), at most 63 characters; unique among the hypervisors.
        type: str
        required: true
      uri:
        description:
          - Its libvirt URI, to the QEMU driver, such as C(qemu:///system) or C(qemu+ssh://root@ADDRESS/system).
          - The scheme is C(qemu), C(qemu+ssh), C(qemu+libssh), C(qemu+libssh2), C(qemu+tls), C(qemu+tcp),
            C(qemu+unix) or C(test) and the path C(/system) or C(/session). A remote URI names a host (a host
            name or an IP address, never an option for ssh) and optionally a user name and a port, and no
            password.
          - The only query parameters taken are C(keyfile), C(known_hosts), C(socket) and C(pkipath) (plain
            absolute paths), C(known_hosts_verify), C(no_verify), C(no_tty), C(mode), C(proxy) (one of
            libvirt's values) and C(sshauth) (C(agent), C(privkey), C(password), C(keyboard-interactive));
            others, such as C(command) or C(netcat), are refused.
        type: str
        required: true
      availability_zone:
        description: The availability zone of the hypervisor (a name).
        type: str
        default: nova
      aggregates:
        description:
          - Host aggregates the hypervisor is in. Their metadata is matched against flavors' extra specs
            (AggregateInstanceExtraSpecsFilter) and may set weight multipliers for the host.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Aggregate name.
            type: str
            required: true
          metadata:
            description: Key/value pairs, keys and values of at most 255 characters with no control characters.
            type: dict
            default: {}
      cpu_allocation_ratio:
        description: vCPUs per host CPU Nova may allocate; above 0 and at most 1000.
        type: float
        default: 4.0
      ram_allocation_ratio:
        description: Memory Nova may allocate per MB of host memory; above 0 and at most 1000.
        type: float
        default: 1.0
      disk_allocation_ratio:
        description: Disk Nova may allocate per GB of the instance pool; above 0 and at most 1000.
        type: float
        default: 1.0
      reserved_host_memory_mb:
        description: Memory kept for the host, in MB (0 to 2^30).
        type: int
        default: 512
      reserved_host_disk_mb:
        description: Disk kept for the host, in MB (0 to 2^40).
        type: int
        default: 0
      reserved_host_cpus:
        description: CPUs kept for the host (0 to 4096).
        type: int
        default: 0
      enabled:
        description: Whether the hypervisor takes new servers (ComputeFilter passes disabled ones over).
        type: bool
        default: true
      virt_type:
        description:
          - C(auto) uses KVM only where libvirt offers it and a KVM guest was seen to boot on that host;
            otherwise plain QEMU (TCG). C(kvm) or C(qemu) force the choice.
        type: str
        choices: [auto, kvm, qemu]
        default: auto
      storage_pool:
        description: The libvirt storage pool of its instance disks (a name).
        type: str
        default: nova_instances
      storage_path:
        description:
          - The directory of that pool on the hypervisor, a directory of its own; an absolute path of
            letters, digits, C(/), C(.), C(_) and C(-) with no C(..), not a system or shared directory
            such as C(/etc) or C(/var/lib).
        type: str
        default: /var/lib/novalite/instances
  connect_timeout:
    description: Seconds to wait for each hypervisor's libvirt (1 to 3600); a silent host is treated as down.
    type: int
    default: 30
"""

    INVENTORY_GROUP = r"""
options:
  hypervisors:
    default: [{name: localhost, uri: "qemu:///system"}]
  hypervisor_group:
    description:
      - When O(hypervisors) is not given, the hosts of this inventory group are the hypervisors, with
        C(uri) from C(nova_libvirt_uri) or qemu+ssh to the host's C(ansible_host) as C(ansible_user) with
        its C(ansible_ssh_private_key_file) (and C(nova_libvirt_known_hosts)), and the other suboptions
        from the host variables C(nova_availability_zone), C(nova_aggregates), C(nova_cpu_allocation_ratio),
        C(nova_ram_allocation_ratio), C(nova_disk_allocation_ratio), C(nova_reserved_host_memory_mb),
        C(nova_reserved_host_disk_mb), C(nova_reserved_host_cpus), C(nova_enabled), C(nova_virt_type),
        C(nova_compute_storage_pool) and C(nova_compute_storage_path).
      - When neither is there, the local hypervisor C(qemu:///system).
    type: str
    default: nova_compute
"""
