#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_compute_node
short_description: Prepare a libvirt hypervisor's instance storage and record its virt type
version_added: "0.1.0"
description:
  - Ensures the instance storage pool and its C(_base) image cache pool exist, are started and
    autostarted.
  - Decides the host's virt type and records it on the hypervisor itself, in a small volume of the
    instance pool that M(novalite.compute.nova_server) and M(novalite.compute.nova_host_facts) read.
    With O(virt_type=auto), KVM is chosen only when libvirt offers it and a probe guest given by
    O(kvm_probe_kernel) and O(kvm_probe_initrd) prints O(kvm_probe_marker) on its console under KVM
    within O(kvm_probe_timeout) seconds; otherwise plain QEMU.
  - Runs on the hypervisor (the probe reads its console file locally). Used by the nova_compute role.
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
attributes:
  check_mode:
    support: full
    description: Reports what would change.
  diff_mode:
    support: none
    description: Not supported.
options:
  uri:
    description: libvirt URI of the local hypervisor.
    type: str
    default: qemu:///system
  storage_pool:
    description: Name of the instance storage pool.
    type: str
    default: nova_instances
  storage_path:
    description:
      - Directory of the instance storage pool, a directory of its own (building the pool sets its mode
        to 0700); an absolute path with no C(..), not a system or shared directory such as C(/etc) or C(/var/lib).
    type: path
    default: /var/lib/novalite/instances
  virt_type:
    description: C(auto) probes as described above; C(kvm) or C(qemu) force the choice.
    type: str
    choices: [auto, kvm, qemu]
    default: auto
  kvm_probe_kernel:
    description: Path on the hypervisor of the probe guest's kernel.
    type: path
  kvm_probe_initrd:
    description: Path on the hypervisor of the probe guest's initramfs.
    type: path
  kvm_probe_marker:
    description: Text the probe guest prints on its serial console once its kernel runs.
    type: str
    default: NOVALITE-GUEST-BOOTED
  kvm_probe_timeout:
    description: Seconds to wait for the probe's marker (1 to 3600).
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Prepare instance storage and record the virt type
  novalite.compute.nova_compute_node:
    virt_type: auto
    kvm_probe_kernel: /var/lib/novalite/probe/vmlinuz
    kvm_probe_initrd: /var/lib/novalite/probe/initrd.img
"""

RETURN = r"""
host_record:
  description: The record kept on the hypervisor (virt_type, kvm_available, kvm_boot_verified).
  returned: always
  type: dict
  sample: {virt_type: qemu, kvm_available: true, kvm_boot_verified: false}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import VIRT_TYPES
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import host as libvirt_host
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    InvalidRequest, check_int, check_name, check_path, check_storage_path, check_text)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_uri


def kvm_available(conn):
    try:
        conn.getDomainCapabilities(None, None, None, "kvm")
        return True
    except connection.libvirt.libvirtError:
        return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default=connection.DEFAULT_URI),
            storage_pool=dict(type="str", default=storage.DEFAULT_POOL),
            storage_path=dict(type="path", default=storage.DEFAULT_POOL_PATH),
            virt_type=dict(type="str", default="auto", choices=list(VIRT_TYPES)),
            kvm_probe_kernel=dict(type="path"),
            kvm_probe_initrd=dict(type="path"),
            kvm_probe_marker=dict(type="str", default="NOVALITE-GUEST-BOOTED"),
            kvm_probe_timeout=dict(type="int", default=60),
        ),
        required_together=[("kvm_probe_kernel", "kvm_probe_initrd")],
        supports_check_mode=True,
    )
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    p = module.params
    try:
        check_uri("uri", p["uri"])
        check_name("storage_pool", p["storage_pool"])
        check_storage_path("storage_path", p["storage_path"])
        check_text("kvm_probe_marker", p["kvm_probe_marker"], 255, allow_empty=False)
        check_int("kvm_probe_timeout", p["kvm_probe_timeout"], 1, 3600)
        for key in ("kvm_probe_kernel", "kvm_probe_initrd"):
            if p[key]:
                check_path(key, p[key])
        conn = connection.connect(p["uri"])
        changed = False
        pools = [p["storage_pool"], p["storage_pool"] + storage.BASE_SUFFIX]
        missing = [name for name in pools if storage.find_pool(conn, name) is None
                   or not storage.find_pool(conn, name).isActive()]
        if missing:
            changed = True
            if module.check_mode:
                module.exit_json(changed=True, host_record={})
        pool = storage.ensure_pool(conn, p["storage_pool"], p["storage_path"])
        storage.base_pool(conn, pool)
        current = libvirt_host.host_record(conn, p["storage_pool"])
        available = kvm_available(conn)
        wanted = {"virt_type_setting": p["virt_type"], "kvm_available": available,
                  "probe": bool(p["kvm_probe_kernel"])}
        if current.get("inputs") == wanted:
            module.exit_json(changed=changed, host_record=current)
        verified = False
        if p["virt_type"] == "kvm":
            virt = "kvm"
        elif p["virt_type"] == "qemu" or not available:
            virt = "qemu"
        elif p["kvm_probe_kernel"] and not module.check_mode:
            verified = libvirt_host.probe_kvm_boot(conn, p["kvm_probe_kernel"], p["kvm_probe_initrd"],
                                                   p["kvm_probe_marker"], p["kvm_probe_timeout"],
                                                   storage.pool_path(pool))
            virt = "kvm" if verified else "qemu"
        else:
            virt = "qemu"
        record = {"virt_type": virt, "kvm_available": available, "kvm_boot_verified": verified,
                  "inputs": wanted}
        if not module.check_mode:
            libvirt_host.write_host_record(conn, pool, record)
    except (InvalidRequest, connection.DriverError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, host_record=record)


if __name__ == "__main__":
    main()
