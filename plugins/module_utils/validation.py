# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 1 of the flow, servers.Controller.create: the request is checked before anything
is touched. Pure functions; each error names the field it is about.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
NAME_RULE = "letters, digits, '.', '_' and '-', at most 63 characters, starting with a letter or digit"
MAX_COUNT = 1000
MAX_USER_DATA = 65535
MAX_META_ITEMS = 128
MAX_META_LENGTH = 255
URI_SCHEMES = ("qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "qemu+libssh", "qemu+libssh2", "test")
IMAGE_FORMATS = ("qcow2", "raw", "aki", "ari")
SCHEDULER_HINTS = ("same_host", "different_host", "group")
SERVER_GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
VIRT_TYPES = ("auto", "kvm", "qemu")


class InvalidRequest(ValueError):
    """Bad input; the message starts with the field it is about."""


def fail(field, message):
    raise InvalidRequest("%s: %s" % (field, message))


def check_name(field, value):
    if not isinstance(value, str) or not NAME_RE.match(value):
        fail(field, "%r is not a valid name: use %s" % (value, NAME_RULE))
    return value


def check_int(field, value, minimum=0, maximum=None):
    if isinstance(value, bool):
        fail(field, "%r is not a whole number" % (value,))
    try:
        number = int(value)
    except (TypeError, ValueError):
        fail(field, "%r is not a whole number" % (value,))
    if isinstance(value, float) and value != number:
        fail(field, "%r is not a whole number" % (value,))
    if number < minimum:
        fail(field, "%s is below the minimum of %s" % (number, minimum))
    if maximum is not None and number > maximum:
        fail(field, "%s is above the maximum of %s" % (number, maximum))
    return number


def check_ratio(field, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(field, "%r is not a number" % (value,))
    if number <= 0 or number > 1000:
        fail(field, "%r must be above 0 and at most 1000" % (value,))
    return number


def check_text(field, value, maximum=MAX_META_LENGTH, allow_empty=True):
    if not isinstance(value, str):
        fail(field, "%r is not a string" % (value,))
    if not allow_empty and not value:
        fail(field, "must not be empty")
    if len(value) > maximum:
        fail(field, "is %d characters long, more than the maximum of %d" % (len(value), maximum))
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        fail(field, "contains control characters")
    return value


def check_path(field, value):
    """An absolute, normalised path to an existing regular file."""
    if not isinstance(value, str) or not value:
        fail(field, "must be an absolute path to a file")
    if "\x00" in value:
        fail(field, "contains a NUL byte")
    if not os.path.isabs(value):
        fail(field, "%r is not an absolute path" % value)
    if ".." in value.split("/") or os.path.normpath(value) != value.rstrip("/"):
        fail(field, "%r is not a normalised path ('..' and '.' components are refused)" % value)
    if not os.path.isfile(value):
        fail(field, "%r is not an existing file" % value)
    return value


URI_PARAMETERS = ("keyfile", "known_hosts", "known_hosts_verify", "no_verify", "no_tty", "sshauth",
                  "mode", "socket", "proxy", "pkipath")
URI_VALUE_RE = re.compile(r"^[A-Za-z0-9/._,:+-]*$")


def check_uri(field, value):
    """A libvirt URI to a QEMU driver; query parameters that run commands are refused."""
    if not isinstance(value, str) or not value:
        fail(field, "must be a libvirt URI such as qemu:///system or qemu+ssh://root@host/system")
    if any(ch.isspace() for ch in value) or any(ch in value for ch in "<>\"'`;|$\\#"):
        fail(field, "%r is not a valid libvirt URI" % value)
    parts = urlsplit(value)
    if parts.scheme not in URI_SCHEMES:
        fail(field, "%r has scheme %r; expected one of %s" % (value, parts.scheme, ", ".join(URI_SCHEMES)))
    if parts.scheme != "test" and parts.path not in ("/system", "/session"):
        fail(field, "%r must end in /system or /session" % value)
    if "+" in parts.scheme and parts.scheme != "qemu+unix" and not parts.hostname:
        fail(field, "%r names no host" % value)
    if parts.query:
        for pair in parts.query.split("&"):
            key, _sep, val = pair.partition("=")
            if key not in URI_PARAMETERS:
                fail(field, "%r has query parameter %r; allowed: %s" % (value, key, ", ".join(URI_PARAMETERS)))
            if not URI_VALUE_RE.match(val):
                fail(field, "%r has an unsafe value for %s" % (value, key))
    return value


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
        check_text("%s.extra_specs.%s" % (field, key), str(key))
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
        url = image["url"]
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https", "file"):
            fail(field + ".url", "%r is not an http, https or file URL" % (url,))
        checked["url"] = url
    if image.get("checksum") is not None:
        checksum = str(image["checksum"]).lower()
        if not re.match(r"^(sha256:)?[0-9a-f]{64}$", checksum):
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


def check_hypervisor(field, hv):
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
        "name": check_name(field + ".name", hv.get("name")),
        "uri": check_uri(field + ".uri", hv.get("uri")),
        "availability_zone": check_name(field + ".availability_zone", hv.get("availability_zone") or "nova"),
        "cpu_allocation_ratio": check_ratio(field + ".cpu_allocation_ratio", hv.get("cpu_allocation_ratio", 4.0)),
        "ram_allocation_ratio": check_ratio(field + ".ram_allocation_ratio", hv.get("ram_allocation_ratio", 1.0)),
        "disk_allocation_ratio": check_ratio(field + ".disk_allocation_ratio", hv.get("disk_allocation_ratio", 1.0)),
        "reserved_host_memory_mb": check_int(field + ".reserved_host_memory_mb",
                                             hv.get("reserved_host_memory_mb", 512), 0, 1 << 30),
        "reserved_host_disk_mb": check_int(field + ".reserved_host_disk_mb",
                                           hv.get("reserved_host_disk_mb", 0), 0, 1 << 40),
        "reserved_host_cpus": check_int(field + ".reserved_host_cpus", hv.get("reserved_host_cpus", 0), 0, 4096),
        "enabled": hv.get("enabled", True),
        "virt_type": hv.get("virt_type", "auto"),
        "storage_pool": check_name(field + ".storage_pool", hv.get("storage_pool") or "nova_instances"),
        "storage_path": hv.get("storage_path") or "/var/lib/novalite/instances",
        "aggregates": [],
    }
    if not isinstance(checked["enabled"], bool):
        fail(field + ".enabled", "must be true or false")
    if checked["virt_type"] not in VIRT_TYPES:
        fail(field + ".virt_type", "%r is not one of %s" % (checked["virt_type"], ", ".join(VIRT_TYPES)))
    path = checked["storage_path"]
    if not isinstance(path, str) or not os.path.isabs(path) or ".." in path.split("/") or \
            not re.match(r"^[A-Za-z0-9/._-]+$", path):
        fail(field + ".storage_path", "%r is not a plain absolute path" % (path,))
    for index, aggregate in enumerate(hv.get("aggregates") or []):
        afield = "%s.aggregates[%d]" % (field, index)
        if not isinstance(aggregate, dict):
            fail(afield, "must be a dictionary with name and metadata")
        metadata = aggregate.get("metadata") or {}
        if not isinstance(metadata, dict):
            fail(afield + ".metadata", "must be a dictionary")
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
        if not re.match(r"^(ssh|ecdsa)-[A-Za-z0-9-]+ [A-Za-z0-9+/=]+( [^\n]*)?$", key.strip()):
            fail("keypairs.%s" % name, "is not an OpenSSH public key")
        catalogs["keypairs"][name] = key.strip()
    return catalogs


def check_nics(nics, known_networks=None):
    """[{network, fixed_ip}] from openstack.cloud-style nics entries."""
    result = []
    for index, nic in enumerate(nics or []):
        field = "nics[%d]" % index
        if isinstance(nic, str):
            nic = {"net-name": nic}
        if not isinstance(nic, dict):
            fail(field, "must be a dictionary such as {net-name: NAME}")
        unknown = set(nic) - {"net-name", "net-id", "network", "fixed_ip", "v4-fixed-ip"}
        if unknown:
            fail(field, "unknown keys %s" % ", ".join(sorted(unknown)))
        name = nic.get("net-name") or nic.get("net-id") or nic.get("network")
        check_name(field + ".net-name", name)
        if known_networks is not None and name not in known_networks:
            fail(field + ".net-name", "network %r does not exist on any reachable hypervisor" % name)
        fixed_ip = nic.get("fixed_ip") or nic.get("v4-fixed-ip")
        if fixed_ip is not None:
            try:
                fixed_ip = str(ipaddress.IPv4Address(str(fixed_ip)))
            except ValueError:
                fail(field + ".fixed_ip", "%r is not an IPv4 address" % (fixed_ip,))
        result.append({"network": name, "fixed_ip": fixed_ip})
    return result


def check_server_request(params, catalogs):
    """The nova_server arguments checked against the catalogs; returns the request."""
    name = check_name("name", params.get("name"))
    min_count = check_int("min_count", params.get("min_count", 1), 1, MAX_COUNT)
    max_count = check_int("max_count", params.get("max_count", min_count) or min_count, 1, MAX_COUNT)
    if min_count > max_count:
        fail("min_count", "%d is greater than max_count %d" % (min_count, max_count))
    request = {"name": name, "min_count": min_count, "max_count": max_count,
               "purge_orphans": bool(params.get("purge_orphans"))}
    if params.get("state", "present") == "absent":
        return request
    if request["purge_orphans"]:
        fail("purge_orphans", "only applies with state=absent")
    flavor = params.get("flavor")
    if flavor not in catalogs["flavors"]:
        fail("flavor", "%r is not in the flavors catalog (known: %s)"
             % (flavor, ", ".join(sorted(catalogs["flavors"])) or "none"))
    image = params.get("image")
    if image not in catalogs["images"]:
        fail("image", "%r is not in the images catalog (known: %s)"
             % (image, ", ".join(sorted(catalogs["images"])) or "none"))
    if catalogs["images"][image]["disk_format"] in ("aki", "ari"):
        fail("image", "%r is a kernel or ramdisk image, not a bootable one" % image)
    request.update(flavor=catalogs["flavors"][flavor], image=catalogs["images"][image])
    zones = sorted(set(hv["availability_zone"] for hv in catalogs["hypervisors"].values()))
    zone = params.get("availability_zone")
    if zone is not None and zone not in zones:
        fail("availability_zone", "%r is not the zone of any hypervisor (zones: %s)" % (zone, ", ".join(zones)))
    request["availability_zone"] = zone
    key_name = params.get("key_name")
    if key_name is not None and key_name not in catalogs["keypairs"]:
        fail("key_name", "%r is not in the keypairs catalog" % (key_name,))
    request["key_name"] = key_name
    meta = params.get("meta") or {}
    if not isinstance(meta, dict):
        fail("meta", "must be a dictionary")
    if len(meta) > MAX_META_ITEMS:
        fail("meta", "has %d items, more than %d" % (len(meta), MAX_META_ITEMS))
    request["meta"] = dict((check_text("meta key", str(k), allow_empty=False),
                            check_text("meta.%s" % k, str(v))) for k, v in meta.items())
    userdata = params.get("userdata")
    if userdata is not None:
        if not isinstance(userdata, str):
            fail("userdata", "must be a string")
        if len(userdata.encode("utf-8")) > MAX_USER_DATA:
            fail("userdata", "is %d bytes, more than the maximum of %d"
                 % (len(userdata.encode("utf-8")), MAX_USER_DATA))
    request["userdata"] = userdata
    hints = params.get("scheduler_hints") or {}
    if not isinstance(hints, dict):
        fail("scheduler_hints", "must be a dictionary")
    for key in hints:
        if key not in SCHEDULER_HINTS:
            fail("scheduler_hints.%s" % key, "is not a known hint (known: %s)" % ", ".join(SCHEDULER_HINTS))
    checked_hints = {}
    for key in ("same_host", "different_host"):
        if key in hints:
            values = hints[key]
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not values:
                fail("scheduler_hints.%s" % key, "must be a server name or uuid, or a list of them")
            checked_hints[key] = [check_text("scheduler_hints.%s" % key, v, 63, allow_empty=False)
                                  for v in values]
            for value in checked_hints[key]:
                if not NAME_RE.match(value):
                    fail("scheduler_hints.%s" % key, "%r is not a server name or uuid" % value)
    if "group" in hints:
        group = hints["group"]
        if group not in catalogs["server_groups"]:
            fail("scheduler_hints.group", "%r is not in the server_groups catalog" % (group,))
        checked_hints["group"] = group
    request["scheduler_hints"] = checked_hints
    request["nics"] = check_nics(params.get("nics"))
    if max_count > 1 and any(nic["fixed_ip"] for nic in request["nics"]):
        fail("nics", "fixed_ip cannot be used when creating more than one server")
    request["config_drive"] = bool(params.get("config_drive", True))
    request["admin_password"] = params.get("admin_password")
    return request
