# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.image_props_filter.ImagePropertiesFilter, with the version
helpers it takes from oslo (versionutils.convert_version_to_str, VersionPredicate)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import operator
import re

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import BaseHostFilter

# nova.objects.fields canonical names
_ARCH_ALIASES = {"i386": "i686", "i486": "i686", "i586": "i686", "x86_32": "i686", "x86_32p": "i686",
                 "amd64": "x86_64"}
_VM_MODE_ALIASES = {"pv": "xen", "hv": "hvm", "baremetal": "hvm"}
_HV_TYPE_ALIASES = {"xapi": "xen"}


def _canonical(value, aliases):
    if value is None or value == "":
        return None
    value = str(value).lower()
    return aliases.get(value, value)


def version_int_to_str(version):
    """oslo versionutils.convert_version_to_str: 8002001 -> '8.2.1'."""
    parts = []
    version = int(version)
    while version:
        parts.insert(0, str(version % 1000))
        version //= 1000
    return ".".join(parts)


def _version_tuple(text):
    parts = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        parts.append(int(match.group(0)) if match else 0)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


_PREDICATE = re.compile(r"^\s*(<=|>=|<|>|!=|==)\s*([^\s,]+)\s*$")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


def version_satisfies(version, predicate):
    """oslo VersionPredicate: '>= 6.0, < 9' against a version string."""
    have = _version_tuple(version)
    for clause in predicate.split(","):
        match = _PREDICATE.match(clause)
        if not match:
            raise ValueError("bad version predicate %r" % predicate)
        if not _COMPARE[match.group(1)](have, _version_tuple(match.group(2))):
            return False
    return True


def _wanted(image):
    """(arch, hv_type, vm_mode) the image asks for, canonical; None where it does not."""
    if image is None:
        return (None, None, None)
    return (_canonical(image.get("hw_architecture"), _ARCH_ALIASES),
            _canonical(image.get("img_hv_type"), _HV_TYPE_ALIASES),
            _canonical(image.get("hw_vm_mode"), _VM_MODE_ALIASES))


class ImagePropertiesFilter(BaseHostFilter):
    """The host supports the image's hw_architecture, img_hv_type and hw_vm_mode
    (legacy names architecture, hypervisor_type, vm_mode) and satisfies
    img_hv_requested_version. img_hv_type 'qemu' fits any QEMU host, 'kvm' only
    a host whose virt_type is kvm (see HostState.supported_instances)."""

    name = "ImagePropertiesFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return any(_wanted(spec_obj.image))

    def host_inputs(self, spec_obj):
        if spec_obj.image is not None and spec_obj.image.get("img_hv_requested_version"):
            return ("supported_instances", "hypervisor_version")
        return ("supported_instances",)

    def host_passes(self, host_state, spec_obj):
        arch, hv_type, vm_mode = _wanted(spec_obj.image)
        if arch is None and hv_type is None and vm_mode is None:
            return True
        for supported_arch, supported_hv_type, supported_vm_mode in host_state.supported_instances:
            if ((arch is None or arch == supported_arch) and (hv_type is None or hv_type == supported_hv_type)
                    and (vm_mode is None or vm_mode == supported_vm_mode)):
                return self._version_ok(host_state.hypervisor_version, spec_obj.image)
        return False

    @staticmethod
    def _version_ok(hypervisor_version, image):
        required = image.get("img_hv_requested_version")
        if not (hypervisor_version and required):
            return True
        try:
            return version_satisfies(version_int_to_str(hypervisor_version), str(required))
        except ValueError:
            return False

    def reason(self, spec_obj):
        return "does not support the image's properties"
