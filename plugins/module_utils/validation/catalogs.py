# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogs: flavors, images, keypairs, server groups and hypervisors, each entry checked and
the catalog keyed by name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    check_bool, check_int, check_name, check_path, check_ratio, check_storage_path, check_text, fail)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_image_url, check_uri

IMAGE_FORMATS = ("qcow2", "raw", "aki", "ari")
SERVER_GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
VIRT_TYPES = ("auto", "kvm", "qemu")


def check_flavor(field, flavor):
    if not isinstance(flavor, dict):
        fail(field, "must be a dictionary")
    unknown = set(flavor) - {"name", "vcpus", "ram", "disk", "ephemeral", "swap", "extra_specs", "id"}
    if unknown:
        fail(field, "unknown keys %s" % ", ".join(sorted(unknown)))
    extra_specs = flavor.get("extra_specs") or {}
    if not isinstance(extra_specs, dict):
        fail(field + ".extra_specs", "must be a dictionary")
    for key, value in extra_specs.items():
        check_text(field + ".extra_specs", str(key), allow_empty=False)
        if isinstance(value, (dict, list)) or value is None:
            fail("%s.extra_specs.%s" % (field, key), "must be a string")
        check_text("%s.extra_specs.%s" % (field, key), str(value))
    return {
        "name": check_name(field + ".name", flavor.get("name")),
        "vcpus": check_int(field + ".vcpus", flavor.get("vcpus"), 1, 1024),
        "ram": check_int(field + ".ram", flavor.get("ram"), 16, 16 * 1024 * 1024),
        "disk": check_int(field + ".disk", flavor.get("disk", 0), 0, 65536),
        "ephemeral": check_int(field + ".ephemeral", flavor.get("ephemeral", 0), 0, 65536),
        "swap": check_int(field + ".swap", flavor.get("swap", 0), 0, 1024 * 1024),
        "extra_specs": dict((str(k), str(v)) for k, v in extra_specs.items()),
    }


def check_image(field, image):
    if not isinstance(image, dict):
        fail(field, "must be a dictionary")
    unknown = set(image) - {"name", "file", "url", "checksum", "disk_format", "properties",
                            "min_ram", "min_disk", "kernel_id", "ramdisk_id", "os_command_line", "id"}
    if unknown:
        fail(field, "unknown keys %s" % ", ".join(sorted(unknown)))
    name = check_name(field + ".name", image.get("name"))
    if bool(image.get("file")) == bool(image.get("url")):
        fail(field, "give exactly one of file or url")
    checked = {"name": name}
    if image.get("file"):
        checked["file"] = check_path(field + ".file", image["file"])
    else:
        checked["url"] = check_image_url(field + ".url", image["url"])
    if image.get("checksum") is not None:
        checksum = str(image["checksum"]).lower()
        if not re.match(r"^(sha256:)?[0-9a-f]{64}\Z", checksum):
            fail(field + ".checksum", "must be a sha256 hex digest")
        checked["checksum"] = checksum.rsplit(":", maxsplit=1)[-1]
    fmt = image.get("disk_format", "qcow2")
    if fmt not in IMAGE_FORMATS:
        fail(field + ".disk_format", "%r is not one of %s" % (fmt, ", ".join(IMAGE_FORMATS)))
    checked["disk_format"] = fmt
    properties = image.get("properties") or {}
    if not isinstance(properties, dict):
        fail(field + ".properties", "must be a dictionary")
    for key, value in properties.items():
        check_text(field + ".properties", str(key), allow_empty=False)
        if isinstance(value, (dict, list)) or value is None:
            fail("%s.properties.%s" % (field, key), "must be a string")
        check_text("%s.properties.%s" % (field, key), str(value))
    checked["properties"] = dict((str(k), str(v)) for k, v in properties.items())
    checked["min_ram"] = check_int(field + ".min_ram", image.get("min_ram", 0), 0, 16 * 1024 * 1024)
    checked["min_disk"] = check_int(field + ".min_disk", image.get("min_disk", 0), 0, 65536)
    for key in ("kernel_id", "ramdisk_id"):
        if image.get(key):
            checked[key] = check_name(field + "." + key, image[key])
    if image.get("os_command_line") is not None:
        checked["os_command_line"] = check_text(field + ".os_command_line", image["os_command_line"], 1024)
    return checked


def check_hypervisor(field, hv, field_names=None):
    """One hypervisor of the catalog. `field_names` maps an option to the name errors give it
    (the nova_compute role names the inventory variables instead)."""
    def name_of(key):
        if field_names and key in field_names:
            return field_names[key]
        return "%s.%s" % (field, key)

    if not isinstance(hv, dict):
        fail(field, "must be a dictionary")
    known = {"name", "uri", "availability_zone", "aggregates", "cpu_allocation_ratio",
             "ram_allocation_ratio", "disk_allocation_ratio", "reserved_host_memory_mb",
             "reserved_host_disk_mb", "reserved_host_cpus", "enabled", "virt_type",
             "storage_pool", "storage_path"}
    unknown = set(hv) - known
    if unknown:
        fail(field, "unknown keys %s" % ", ".join(sorted(unknown)))
    checked = {
        "name": check_name(name_of("name"), hv.get("name")),
        "uri": check_uri(name_of("uri"), hv.get("uri")),
        "availability_zone": check_name(name_of("availability_zone"), hv.get("availability_zone") or "nova"),
        "cpu_allocation_ratio": check_ratio(name_of("cpu_allocation_ratio"), hv.get("cpu_allocation_ratio", 4.0)),
        "ram_allocation_ratio": check_ratio(name_of("ram_allocation_ratio"), hv.get("ram_allocation_ratio", 1.0)),
        "disk_allocation_ratio": check_ratio(name_of("disk_allocation_ratio"),
                                             hv.get("disk_allocation_ratio", 1.0)),
        "reserved_host_memory_mb": check_int(name_of("reserved_host_memory_mb"),
                                             hv.get("reserved_host_memory_mb", 512), 0, 1 << 30),
        "reserved_host_disk_mb": check_int(name_of("reserved_host_disk_mb"),
                                           hv.get("reserved_host_disk_mb", 0), 0, 1 << 40),
        "reserved_host_cpus": check_int(name_of("reserved_host_cpus"), hv.get("reserved_host_cpus", 0), 0, 4096),
        "enabled": check_bool(name_of("enabled"), hv.get("enabled", True)),
        "virt_type": hv.get("virt_type", "auto"),
        "storage_pool": check_name(name_of("storage_pool"), hv.get("storage_pool") or "nova_instances"),
        "storage_path": check_storage_path(name_of("storage_path"),
                                           hv.get("storage_path") or "/var/lib/novalite/instances"),
        "aggregates": [],
    }
    if not isinstance(checked["virt_type"], str) or checked["virt_type"] not in VIRT_TYPES:
        fail(name_of("virt_type"), "%r is not one of %s" % (checked["virt_type"], ", ".join(VIRT_TYPES)))
    aggregates = hv.get("aggregates") or []
    if not isinstance(aggregates, list):
        fail(name_of("aggregates"), "must be a list of dictionaries with name and metadata")
    for index, aggregate in enumerate(aggregates):
        afield = "%s[%d]" % (name_of("aggregates"), index)
        if not isinstance(aggregate, dict):
            fail(afield, "must be a dictionary with name and metadata")
        metadata = aggregate.get("metadata") or {}
        if not isinstance(metadata, dict):
            fail(afield + ".metadata", "must be a dictionary")
        for key in metadata:
            check_text(afield + ".metadata", str(key), allow_empty=False)
        checked["aggregates"].append({
            "name": check_name(afield + ".name", aggregate.get("name")),
            "metadata": dict((str(k), check_text("%s.metadata.%s" % (afield, k), str(v)))
                             for k, v in metadata.items()),
        })
    return checked


def check_server_group(field, group):
    if not isinstance(group, dict):
        fail(field, "must be a dictionary with name and policy")
    policy = group.get("policy")
    if policy not in SERVER_GROUP_POLICIES:
        fail(field + ".policy", "%r is not one of %s" % (policy, ", ".join(SERVER_GROUP_POLICIES)))
    rules = group.get("rules") or {}
    if not isinstance(rules, dict) or set(rules) - {"max_server_per_host"}:
        fail(field + ".rules", "only max_server_per_host is understood")
    if rules:
        if policy != "anti-affinity":
            fail(field + ".rules", "max_server_per_host applies to the anti-affinity policy only")
        rules = {"max_server_per_host": check_int(field + ".rules.max_server_per_host",
                                                  rules["max_server_per_host"], 1, 1000)}
    return {"name": check_name(field + ".name", group.get("name")), "policy": policy, "rules": rules}


def _by_name(field, items, checker):
    if isinstance(items, dict):
        items = [dict(value, name=key) for key, value in items.items()]
    if not isinstance(items, list):
        fail(field, "must be a list of dictionaries")
    result = {}
    for index, item in enumerate(items):
        checked = checker("%s[%d]" % (field, index), item)
        if checked["name"] in result:
            fail("%s[%d].name" % (field, index), "%r is declared twice" % checked["name"])
        result[checked["name"]] = checked
    return result


PUBLIC_KEY_RE = re.compile(r"^(?:ssh-[A-Za-z0-9-]+|ecdsa-[A-Za-z0-9-]+|sk-[A-Za-z0-9@.-]+) "
                           r"[A-Za-z0-9+/]+={0,3}(?: [^\n]*)?\Z")


def check_catalogs(flavors, images, hypervisors, server_groups=None, keypairs=None):
    """The user's catalogs, validated and keyed by name."""
    catalogs = {
        "flavors": _by_name("flavors", flavors or [], check_flavor),
        "images": _by_name("images", images or [], check_image),
        "hypervisors": _by_name("hypervisors", hypervisors or [], check_hypervisor),
        "server_groups": _by_name("server_groups", server_groups or [], check_server_group),
        "keypairs": {},
    }
    if not catalogs["hypervisors"]:
        fail("hypervisors", "must name at least one hypervisor")
    for name, image in catalogs["images"].items():
        for key in ("kernel_id", "ramdisk_id"):
            if image.get(key) and image[key] not in catalogs["images"]:
                fail("images.%s.%s" % (name, key), "%r is not in the images catalog" % image[key])
    for name, key in (keypairs or {}).items():
        check_name("keypairs", name)
        check_text("keypairs.%s" % name, key, 16384, allow_empty=False)
        if not PUBLIC_KEY_RE.match(key.strip()):
            fail("keypairs.%s" % name, "is not an OpenSSH public key")
        catalogs["keypairs"][name] = key.strip()
    return catalogs
