# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogs: flavors, images, keypairs, server groups and hypervisors, each entry checked and
the catalog keyed by name.

The entries come as their argument specs made them (nova_server's flavors and server_groups,
argument_specs' images and hypervisors): types converted, defaults set, required and unknown
keys and choices already checked, by AnsibleModule or, for hypervisor entries that do not come
through a module, by fields.check_options. What is checked here is what a spec cannot say:
names, ranges, text, paths and URIs, names unique in a catalog, an image's kernel and ramdisk in
the catalog, and a keypair's public key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from urllib.parse import urlsplit

from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    check_int, check_name, check_path, check_ratio, check_storage_path, check_text, fail)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_image_url, check_uri

PUBLIC_KEY_RE = re.compile(r"^(?:ssh-[A-Za-z0-9-]+|ecdsa-[A-Za-z0-9-]+|sk-[A-Za-z0-9@.-]+) "
                           r"[A-Za-z0-9+/]+={0,3}(?: [^\n]*)?\Z")


def _check_text_pairs(field, pairs):
    """Key/value text of extra_specs, image properties, aggregate metadata: keys and values of at
    most 255 characters with no control characters, values scalar; returned as strings."""
    for key, value in pairs.items():
        check_text(field, str(key), allow_empty=False)
        if isinstance(value, (dict, list)) or value is None:
            fail("%s.%s" % (field, key), "must be a string")
        check_text("%s.%s" % (field, key), str(value))
    return dict((str(k), str(v)) for k, v in pairs.items())


def check_flavor(field, flavor):
    return {
        "name": check_name(field + ".name", flavor["name"]),
        "vcpus": check_int(field + ".vcpus", flavor["vcpus"], 1, 1024),
        "ram": check_int(field + ".ram", flavor["ram"], 16, 16 * 1024 * 1024),
        "disk": check_int(field + ".disk", flavor["disk"], 0, 65536),
        "ephemeral": check_int(field + ".ephemeral", flavor["ephemeral"], 0, 65536),
        "swap": check_int(field + ".swap", flavor["swap"], 0, 1024 * 1024),
        "extra_specs": _check_text_pairs(field + ".extra_specs", flavor["extra_specs"] or {}),
    }


def check_image(field, image):
    """One image; its spec has made sure it has one of file and url."""
    checked = {"name": check_name(field + ".name", image["name"])}
    if image["file"] is not None:
        checked["file"] = check_path(field + ".file", image["file"])
    else:
        checked["url"] = check_image_url(field + ".url", image["url"])
    if image["checksum"] is not None:
        checksum = image["checksum"].lower()
        if not re.match(r"^(sha256:)?[0-9a-f]{64}\Z", checksum):
            fail(field + ".checksum", "must be a sha256 hex digest")
        checked["checksum"] = checksum.rsplit(":", maxsplit=1)[-1]
    checked["disk_format"] = image["disk_format"]
    checked["properties"] = _check_text_pairs(field + ".properties", image["properties"] or {})
    checked["min_ram"] = check_int(field + ".min_ram", image["min_ram"], 0, 16 * 1024 * 1024)
    checked["min_disk"] = check_int(field + ".min_disk", image["min_disk"], 0, 65536)
    for key in ("kernel_id", "ramdisk_id"):
        if image[key]:
            checked[key] = check_name(field + "." + key, image[key])
    if image["os_command_line"] is not None:
        checked["os_command_line"] = check_text(field + ".os_command_line", image["os_command_line"], 1024)
    return checked


def check_hypervisor(field, hv, field_names=None):
    """One hypervisor of the catalog. `field_names` maps an option to the name errors give it
    (the nova_compute role names the inventory variables instead)."""
    def name_of(key):
        if field_names and key in field_names:
            return field_names[key]
        return "%s.%s" % (field, key)

    checked = {
        "name": check_name(name_of("name"), hv["name"]),
        "uri": check_uri(name_of("uri"), hv["uri"]),
        "availability_zone": check_name(name_of("availability_zone"), hv["availability_zone"]),
        "cpu_allocation_ratio": check_ratio(name_of("cpu_allocation_ratio"), hv["cpu_allocation_ratio"]),
        "ram_allocation_ratio": check_ratio(name_of("ram_allocation_ratio"), hv["ram_allocation_ratio"]),
        "disk_allocation_ratio": check_ratio(name_of("disk_allocation_ratio"), hv["disk_allocation_ratio"]),
        "reserved_host_memory_mb": check_int(name_of("reserved_host_memory_mb"),
                                             hv["reserved_host_memory_mb"], 0, 1 << 30),
        "reserved_host_disk_mb": check_int(name_of("reserved_host_disk_mb"), hv["reserved_host_disk_mb"], 0, 1 << 40),
        "reserved_host_cpus": check_int(name_of("reserved_host_cpus"), hv["reserved_host_cpus"], 0, 4096),
        "enabled": hv["enabled"],
        "virt_type": hv["virt_type"],
        "storage_pool": check_name(name_of("storage_pool"), hv["storage_pool"]),
        "storage_path": check_storage_path(name_of("storage_path"), hv["storage_path"]),
        "aggregates": [],
    }
    for index, aggregate in enumerate(hv["aggregates"] or []):
        afield = "%s[%d]" % (name_of("aggregates"), index)
        checked["aggregates"].append({
            "name": check_name(afield + ".name", aggregate["name"]),
            "metadata": _check_text_pairs(afield + ".metadata", aggregate["metadata"] or {}),
        })
    return checked


def _machine(uri):
    """What a libvirt URI reaches: its host (and port) and driver path, whatever the transport."""
    parts = urlsplit(uri)
    return ((parts.hostname or "localhost").lower().rstrip("."), parts.port, parts.path)


def check_server_group(field, group):
    rules = {}
    limit = (group["rules"] or {}).get("max_server_per_host")
    if limit is not None:
        if group["policy"] != "anti-affinity":
            fail(field + ".rules", "max_server_per_host applies to the anti-affinity policy only")
        rules["max_server_per_host"] = check_int(field + ".rules.max_server_per_host", limit, 1, 1000)
    return {"name": check_name(field + ".name", group["name"]), "policy": group["policy"], "rules": rules}


def _by_name(field, items, checker):
    result = {}
    for index, item in enumerate(items):
        checked = checker("%s[%d]" % (field, index), item)
        if checked["name"] in result:
            fail("%s[%d].name" % (field, index), "%r is declared twice" % checked["name"])
        result[checked["name"]] = checked
    return result


def check_keypairs(keypairs):
    """Key pairs by name, each one OpenSSH public key line (a dictionary of names to keys: no
    suboptions can say that)."""
    checked = {}
    for name, key in keypairs.items():
        check_name("keypairs", name)
        check_text("keypairs.%s" % name, key, 16384, allow_empty=False)
        if not PUBLIC_KEY_RE.match(key.strip()):
            fail("keypairs.%s" % name, "is not an OpenSSH public key")
        checked[name] = key.strip()
    return checked


def check_catalogs(flavors, images, hypervisors, server_groups=None, keypairs=None):
    """The user's catalogs, validated and keyed by name."""
    catalogs = {
        "flavors": _by_name("flavors", flavors or [], check_flavor),
        "images": _by_name("images", images or [], check_image),
        "hypervisors": _by_name("hypervisors", hypervisors or [], check_hypervisor),
        "server_groups": _by_name("server_groups", server_groups or [], check_server_group),
    }
    if not catalogs["hypervisors"]:
        fail("hypervisors", "must name at least one hypervisor")
    machines = {}
    for index, hv in enumerate(catalogs["hypervisors"].values()):
        machine = _machine(hv["uri"])
        if machine in machines:
            fail("hypervisors[%d].uri" % index, "reaches the same libvirt as hypervisors[%d] (%s); one machine would "
                 "be counted twice" % (machines[machine], hv["uri"]))
        machines[machine] = index
    for name, image in catalogs["images"].items():
        for key in ("kernel_id", "ramdisk_id"):
            if image.get(key) and image[key] not in catalogs["images"]:
                fail("images.%s.%s" % (name, key), "%r is not in the images catalog" % image[key])
    catalogs["keypairs"] = check_keypairs(keypairs or {})
    return catalogs
