#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_image_cache
short_description: Pre-cache images in the hypervisors' _base image caches
version_added: "0.1.0"
description:
  - Nova's image pre-caching (C(nova aggregate-cache-images)) for the hypervisors of an inventory.
    Each named image of the catalog (with its kernel and ramdisk images) is uploaded once into
    every hypervisor's C(_base) cache, named by its sha256, so the first boot of a server from it
    copies nothing.
  - Hypervisors are reached in parallel. Images already cached are not copied again.
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
extends_documentation_fragment:
  - novalite.compute.hypervisors
  - novalite.compute.hypervisors.inventory_group
  - novalite.compute.nova
attributes:
  check_mode:
    support: full
    description: Reports which images would be copied where.
  diff_mode:
    support: none
    description: Not supported.
options:
  names:
    description: Names of images of O(images) to cache; all of them when omitted.
    type: list
    elements: str
  images:
    required: true
  flavors:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
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
- name: Pre-cache the tiny image everywhere
  novalite.compute.nova_image_cache:
    names: [tiny]
    images: "{{ nova_images }}"
"""

RETURN = r"""
cached:
  description: Per hypervisor, the images copied in this run.
  returned: always
  type: dict
  sample: {compute1: [tiny, tiny-kernel, tiny-ramdisk], compute2: []}
hypervisors_down:
  description:
    - Hypervisors that could not be reached (or failed while copying), with the reason. (Not
      C(unreachable), which Ansible reserves for the host the task runs on.)
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import open_url

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import group_argument_spec
from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt import images as image_files
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest, fail


def main():
    spec = dict(names=dict(type="list", elements="str"))
    spec.update(group_argument_spec(images={"required": True}))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    p = module.params
    try:
        catalogs = check_catalogs([], p["images"], p["hypervisors"])
        wanted = p["names"] or sorted(catalogs["images"])
        files = {}
        for index, name in enumerate(wanted):
            if name not in catalogs["images"]:
                fail("names[%d]" % index, "%r is not in the images catalog" % name)
            image = catalogs["images"][name]
            parts = [name] + [image[key] for key in ("kernel_id", "ramdisk_id") if image.get(key)]
            for part in parts:
                entry = catalogs["images"][part]
                path, digest, _size = compute_images.verified_image(entry, open_url=open_url)
                files[part] = (path, digest)
        result = compute_images.cache_images(catalogs["hypervisors"], files, p["connect_timeout"], module.check_mode)
    except (InvalidRequest, image_files.ImageError, connection.DriverError) as exc:
        module.fail_json(msg=str(exc))
    changed = any(result["cached"].values())
    if result["hypervisors_down"]:
        module.fail_json(msg="hypervisors down: %s" % ", ".join(sorted(result["hypervisors_down"])),
                         changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
