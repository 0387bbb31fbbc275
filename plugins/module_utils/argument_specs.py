# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs several plugins share, defined once, each with the doc fragment that
documents it: the hypervisor entries (novalite.compute.hypervisors, and .inventory_group for
the modules that take their hypervisors from an inventory group) and the image catalog
(novalite.compute.images).

AnsibleModule validates them for the modules. Hypervisor entries that come another way (the
nova inventory plugin's, the nova_compute role's host variables) are validated with the same
specs by ansible's ArgumentSpecValidator (validation.fields.check_options). The engine
(validation.catalogs) then checks what a spec cannot say. Each call returns new dictionaries,
so that no default list or dictionary is shared between two validations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

# A hypervisor's virt type: auto (KVM where a probe guest was seen to boot under it), kvm, qemu.
VIRT_TYPES = ("auto", "kvm", "qemu")

# hypervisor option -> the inventory (host) variable it comes from, when the hypervisors are the
# hosts of an inventory group (plugin_utils.inventory_hypervisors; the nova_compute role's checks).
HOST_VARIABLES = {
    "availability_zone": "nova_availability_zone",
    "aggregates": "nova_aggregates",
    "cpu_allocation_ratio": "nova_cpu_allocation_ratio",
    "ram_allocation_ratio": "nova_ram_allocation_ratio",
    "disk_allocation_ratio": "nova_disk_allocation_ratio",
    "reserved_host_memory_mb": "nova_reserved_host_memory_mb",
    "reserved_host_disk_mb": "nova_reserved_host_disk_mb",
    "reserved_host_cpus": "nova_reserved_host_cpus",
    "enabled": "nova_enabled",
    "virt_type": "nova_virt_type",
    "storage_pool": "nova_compute_storage_pool",
    "storage_path": "nova_compute_storage_path",
}


def hypervisor_options():
    """The suboptions of one hypervisor entry (doc fragment novalite.compute.hypervisors)."""
    return dict(
        name=dict(type="str", required=True),
        uri=dict(type="str", required=True),
        availability_zone=dict(type="str", default="nova"),
        aggregates=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            metadata=dict(type="dict", default={}),
        )),
        cpu_allocation_ratio=dict(type="float", default=4.0),
        ram_allocation_ratio=dict(type="float", default=1.0),
        disk_allocation_ratio=dict(type="float", default=1.0),
        reserved_host_memory_mb=dict(type="int", default=512),
        reserved_host_disk_mb=dict(type="int", default=0),
        reserved_host_cpus=dict(type="int", default=0),
        enabled=dict(type="bool", default=True),
        virt_type=dict(type="str", default="auto", choices=list(VIRT_TYPES)),
        storage_pool=dict(type="str", default=storage.DEFAULT_POOL),
        storage_path=dict(type="str", default=storage.DEFAULT_POOL_PATH),
    )


def hypervisors_argument_spec(inventory_group=False):
    """`hypervisors` and `connect_timeout` (doc fragment novalite.compute.hypervisors); with
    inventory_group, also `hypervisor_group` and the local hypervisor as the default
    (novalite.compute.hypervisors.inventory_group)."""
    spec = dict(
        hypervisors=dict(type="list", elements="dict", options=hypervisor_options()),
        connect_timeout=dict(type="int", default=30),
    )
    if inventory_group:
        spec["hypervisors"]["default"] = [{"name": "localhost", "uri": connection.DEFAULT_URI}]
        spec["hypervisor_group"] = dict(type="str", default="nova_compute")
    return spec


def images_argument_spec(**settings):
    """The `images` option, the image catalog (doc fragment novalite.compute.images), with the
    module's own settings (its default, or required)."""
    option = dict(
        type="list", elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            file=dict(type="str"),
            url=dict(type="str"),
            checksum=dict(type="str"),
            disk_format=dict(type="str", default="qcow2", choices=list(images.QEMU_FORMATS)),
            properties=dict(type="dict", default={}),
            min_ram=dict(type="int", default=0),
            min_disk=dict(type="int", default=0),
            kernel_id=dict(type="str"),
            ramdisk_id=dict(type="str"),
            os_command_line=dict(type="str"),
            id=dict(type="raw"),
        ),
        mutually_exclusive=[["file", "url"]],
        required_one_of=[["file", "url"]],
    )
    option.update(settings)
    return dict(images=option)
