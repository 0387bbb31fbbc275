# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options every module of the action group novalite.compute.nova accepts, as
    module_utils.argument_specs.group_argument_spec() defines them (with the hypervisors and
    connect_timeout of the novalite.compute.hypervisors fragment), so that module_defaults for
    group/novalite.compute.nova can carry them. A module that does not use one says so in its
    own DOCUMENTATION; a module may add its default or make one required."""

    DOCUMENTATION = r"""
options:
  flavors:
    description: The flavor catalog. Names must be unique.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Flavor name (letters, digits, C(.), C(_) and C(-), at most 63 characters).
        type: str
        required: true
      vcpus:
        description: Virtual CPUs (1 to 1024).
        type: int
        required: true
      ram:
        description: Memory in MB (16 to 16777216).
        type: int
        required: true
      disk:
        description: Root disk in GB (0 to 65536); 0 means the image's size.
        type: int
        default: 0
      ephemeral:
        description: Ephemeral disk in GB (0 to 65536), attached unformatted.
        type: int
        default: 0
      swap:
        description: Swap disk in MB (0 to 1048576), attached unformatted.
        type: int
        default: 0
      extra_specs:
        description:
          - Extra specs, matched against the hypervisors' aggregate metadata by
            AggregateInstanceExtraSpecsFilter. Keys and values of at most 255 characters with no control
            characters; values are strings (numbers and booleans are turned into strings).
        type: dict
        default: {}
      id:
        description: Accepted and not used, so that a flavor list exported from OpenStack can be given as is.
        type: raw
  images:
    description:
      - The image catalog. Names must be unique. Each image has exactly one of C(file) and C(url).
    type: list
    elements: dict
    suboptions:
      name:
        description: Image name (letters, digits, C(.), C(_) and C(-), at most 63 characters).
        type: str
        required: true
      file:
        description: The image file on the control node, an absolute path with no C(..) or C(.) component.
        type: str
      url:
        description:
          - An C(http), C(https) or C(file) URL of the image, downloaded once into C(~/.cache/novalite/images).
          - An http(s) URL names a host (a host name or an IP address) and no password; a file URL a plain
            absolute path.
        type: str
      checksum:
        description:
          - The image's sha256, 64 hex digits (optionally after C(sha256:)). It must match the digest of the
            image's bytes.
        type: str
      disk_format:
        description:
          - The image's format. C(aki) and C(ari) are kernel and ramdisk images, for direct kernel boot
            (O(images[].kernel_id), O(images[].ramdisk_id)); they do not boot by themselves.
        type: str
        choices: [qcow2, raw, aki, ari]
        default: qcow2
      properties:
        description:
          - Image properties, for example C(architecture) or C(hypervisor_type) (ImagePropertiesFilter).
            Keys and values of at most 255 characters with no control characters.
        type: dict
        default: {}
      min_ram:
        description: The least memory, in MB, a flavor must have to boot the image.
        type: int
        default: 0
      min_disk:
        description: The least root disk, in GB, a flavor must have to boot the image.
        type: int
        default: 0
      kernel_id:
        description: Name of an C(aki) image of the catalog to boot the image with, directly.
        type: str
      ramdisk_id:
        description: Name of an C(ari) image of the catalog, the initramfs for O(images[].kernel_id).
        type: str
      os_command_line:
        description: The kernel command line for direct kernel boot (at most 1024 characters).
        type: str
      id:
        description: Accepted and not used, so that an image list exported from OpenStack can be given as is.
        type: raw
  keypairs:
    description:
      - Key pairs by name (letters, digits, C(.), C(_) and C(-), at most 63 characters), each one
        OpenSSH public key line. The names are the keys of the dictionary, so it has no suboptions.
    type: dict
    default: {}
  server_groups:
    description:
      - Server groups. Names must be unique.
      - Membership is recorded in each server's metadata on its hypervisor.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Group name (letters, digits, C(.), C(_) and C(-), at most 63 characters).
        type: str
        required: true
      policy:
        description: The group's policy, as Nova's.
        type: str
        required: true
        choices: [affinity, anti-affinity, soft-affinity, soft-anti-affinity]
      rules:
        description: The policy's rules; only the anti-affinity policy takes one.
        type: dict
        suboptions:
          max_server_per_host:
            description: How many members of the group one host may hold (1 to 1000).
            type: int
  quotas:
    description: Per-project limits, whole numbers (up to 2^40); missing, null or -1 is unlimited.
    type: dict
    default: {}
    suboptions:
      instances:
        description: Servers.
        type: int
      cores:
        description: vCPUs, as the flavors count them.
        type: int
      ram:
        description: Memory in MB, as the flavors count it.
        type: int
  scheduler:
    description: Scheduler settings with Nova's option names; an option left out has Nova's default.
    type: dict
    default: {}
    suboptions:
      enabled_filters:
        description:
          - The filters, in order, by Nova's names (C(ComputeFilter), C(AvailabilityZoneFilter),
            C(AggregateInstanceExtraSpecsFilter), C(ImagePropertiesFilter), C(ServerGroupAntiAffinityFilter),
            C(ServerGroupAffinityFilter), C(SameHostFilter), C(DifferentHostFilter)), each at most once.
            All of them when left out.
          - Before them, always, placement's capacity check keeps the hosts with room for the flavor
            (VCPU, MEMORY_MB, DISK_GB within (total - reserved) x allocation ratio), as in Nova 34.
            C(RamFilter), C(DiskFilter) and C(CoreFilter), which Nova removed in Train for that check,
            are refused.
        type: list
        elements: str
      max_attempts:
        description:
          - Hosts a server's build is tried on before it fails, the selected one and its alternates
            (at least 1, default 3).
        type: int
      host_subset_size:
        description: The server goes to a random one of this many best weighed hosts (at least 1, default 1).
        type: int
      ram_weight_multiplier:
        description: Weight of free RAM (default 1.0); negative packs servers instead of spreading them.
        type: float
      cpu_weight_multiplier:
        description: Weight of free vCPUs (default 1.0).
        type: float
      disk_weight_multiplier:
        description: Weight of free disk (default 1.0).
        type: float
      num_instances_weight_multiplier:
        description: Weight of the number of instances on the host (default 0.0); negative prefers emptier hosts.
        type: float
      soft_affinity_weight_multiplier:
        description: Weight of a soft-affinity group's members on the host (default 1.0).
        type: float
      soft_anti_affinity_weight_multiplier:
        description: Weight against a soft-anti-affinity group's members on the host (default 1.0).
        type: float
      build_failure_weight_multiplier:
        description: Weight against the host's recent failed builds (default 1000000.0).
        type: float
  notifications_file:
    description:
      - Append each notification (C(compute.instance.create.start) ...) as a JSON line to this file, on the
        control node. An absolute path with no C(..) component, in an existing directory.
    type: path
notes:
  - The options O(flavors), O(images), O(keypairs), O(server_groups), O(quotas), O(scheduler) and
    O(notifications_file), with O(hypervisors), O(connect_timeout) and O(hypervisor_group), are the
    options of the action group C(novalite.compute.nova) - every module of the group accepts them,
    so C(module_defaults) for C(group/novalite.compute.nova) can set them once, as C(cloud) and
    C(auth) are set once for the modules of C(openstack.cloud). A module that does not use one says so.
"""
