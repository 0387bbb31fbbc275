# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The image catalog, as module_utils.argument_specs.images_argument_spec() defines it; each
    module adds its default or makes it required."""

    DOCUMENTATION = r"""
options:
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
"""
