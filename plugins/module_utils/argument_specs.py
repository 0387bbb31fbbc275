# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs several plugins share, defined once, each with the doc fragment that
documents it: the hypervisor entries (novalite.compute.hypervisors, and .inventory_group for
the modules that take their hypervisors from an inventory group), and the options every module
of the action group novalite.compute.nova accepts (group_argument_spec, doc fragment
novalite.compute.nova): the catalogs (flavors, images, keypairs, server groups), quotas, the
scheduler's settings and the notifications file, so that module_defaults for
group/novalite.compute.nova may carry them. A module that does not use one says so in its
DOCUMENTATION.

AnsibleModule validates them for the modules. Hypervisor entries that come another way (the
nova inventory plugin's, the nova_compute role's host variables) are validated with the same
specs by ansible's ArgumentSpecValidator (validation.fields.check_options). The engine
(validation.catalogs) then checks what a spec cannot say. Each call returns new dictionaries,
so that no default list or dictionary is shared between two validations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute.quota import QUOTA_RESOURCES
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import SERVER_GROUP_POLICIES
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


# The options of the action group novalite.compute.nova (meta/runtime.yml) beyond hypervisors,
# connect_timeout and hypervisor_group: every module of the group accepts them.
GROUP_OPTIONS = ("flavors", "images", "keypairs", "server_groups", "quotas", "scheduler", "notifications_file")


def group_argument_spec(inventory_group=True, images=None):
    """The options every module of the action group novalite.compute.nova accepts (doc fragments
    novalite.compute.nova and novalite.compute.hypervisors): GROUP_OPTIONS, hypervisors and
    connect_timeout (with inventory_group, also hypervisor_group and the local default, as in
    hypervisors_argument_spec). `images`: the module's own settings of the image catalog
    (default: an empty catalog)."""
    spec = dict(
        flavors=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            vcpus=dict(type="int", required=True),
            ram=dict(type="int", required=True),
            disk=dict(type="int", default=0),
            ephemeral=dict(type="int", default=0),
            swap=dict(type="int", default=0),
            extra_specs=dict(type="dict", default={}),
            id=dict(type="raw"),
        )),
        # Key pairs by name (any names): no suboptions; check_keypairs checks them.
        keypairs=dict(type="dict", default={}, no_log=False),
        server_groups=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            policy=dict(type="str", required=True, choices=list(SERVER_GROUP_POLICIES)),
            rules=dict(type="dict", options=dict(max_server_per_host=dict(type="int"))),
        )),
        quotas=dict(type="dict", default={}, options=dict(
            (resource, dict(type="int")) for resource in QUOTA_RESOURCES)),
        scheduler=dict(type="dict", default={}, options=dict(
            enabled_filters=dict(type="list", elements="str"),
            max_attempts=dict(type="int"),
            host_subset_size=dict(type="int"),
            ram_weight_multiplier=dict(type="float"),
            cpu_weight_multiplier=dict(type="float"),
            disk_weight_multiplier=dict(type="float"),
            num_instances_weight_multiplier=dict(type="float"),
            soft_affinity_weight_multiplier=dict(type="float"),
            soft_anti_affinity_weight_multiplier=dict(type="float"),
            build_failure_weight_multiplier=dict(type="float"),
        )),
        notifications_file=dict(type="path"),
    )
    spec.update(images_argument_spec(**(images or {"default": []})))
    spec.update(hypervisors_argument_spec(inventory_group=inventory_group))
    return spec
