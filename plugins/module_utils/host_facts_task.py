# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What nova_host_facts does with its validated parameters: the module runs it, and so does its
action plugin, in the controller's own process, when the module would run there anyway
(see plugin_utils/hypervisor_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.compute import resource_tracker
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import orphans
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils import validation

REQUIRED_IF = []


def argument_spec():
    return dict(
        uri=dict(type="str", default=connection.DEFAULT_URI),
        storage_pool=dict(type="str", default=storage.DEFAULT_POOL),
        virt_type=dict(type="str", default="auto", choices=["auto", "kvm", "qemu"]),
        hypervisors=dict(type="list", elements="dict"),
        hypervisor_group=dict(type="str"),
        connect_timeout=dict(type="int", default=30),
    )


def missing_libraries():
    """[(library, import error)] of what the task needs and this Python lacks."""
    if not connection.HAS_LIBVIRT:
        return [("libvirt-python", connection.LIBVIRT_IMPORT_ERROR)]
    return []


def run(params, check_mode=False, diff=False):
    """The module's result for these parameters; a failure has failed=True and msg.
    (It only reads: check mode changes nothing, and there is no diff.)"""
    try:
        if params["hypervisors"] is not None:
            hypervisors = [hypervisor.Hypervisor(validation.check_hypervisor("hypervisors[%d]" % i, hv))
                           for i, hv in enumerate(params["hypervisors"])]
            hypervisor.gather_all(hypervisors, params["connect_timeout"])
            hosts = {}
            for hv in hypervisors:
                hosts[hv.name] = dict(hv.facts or {}, up=hv.up, error=hv.error, uri=hv.uri,
                                      availability_zone=hv.config["availability_zone"],
                                      capacity=resource_tracker.capacity(hv))
                if hv.up:
                    hosts[hv.name]["orphans"] = orphans.find_orphans(hv.conn, hv.config["storage_pool"])
            return dict(changed=False, ansible_facts={"nova_hosts": hosts})
        validation.check_uri("uri", params["uri"])
        validation.check_name("storage_pool", params["storage_pool"])
        conn = connection.connect(params["uri"])
        facts = libvirt_host.host_facts(conn, params["storage_pool"], params["virt_type"])
        facts["orphans"] = orphans.find_orphans(conn, params["storage_pool"])
    except (validation.InvalidRequest, connection.DriverError) as exc:
        return dict(failed=True, msg=str(exc))
    return dict(changed=False, ansible_facts={"nova_host": facts})
