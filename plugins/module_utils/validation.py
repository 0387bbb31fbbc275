# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 1 of the flow, servers.Controller.create: the request is checked before anything
is touched. Pure functions; each error names the field it is about.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import os
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit

# \Z, not $: $ also matches before a trailing newline.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")
MAX_NAME_LENGTH = 63
NAME_RULE = "letters, digits, '.', '_' and '-', at most 63 characters, starting with a letter or digit"
MAX_COUNT = 1000
# Nova's MAX_USERDATA_SIZE: the API takes user data base64-encoded and refuses more than
# 65535 bytes of that encoding (openstack.cloud.server encodes it for the user), so at most
# 49149 bytes of data.
MAX_USER_DATA = 65535
MAX_USER_DATA_RAW = MAX_USER_DATA // 4 * 3
MAX_META_ITEMS = 128
MAX_META_LENGTH = 255
URI_SCHEMES = ("qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "qemu+libssh", "qemu+libssh2", "test")
IMAGE_FORMATS = ("qcow2", "raw", "aki", "ari")
QUOTA_RESOURCES = ("instances", "cores", "ram")
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
    if isinstance(value, bool):
        fail(field, "%r is not a number" % (value,))
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(field, "%r is not a number" % (value,))
    if not math.isfinite(number) or number <= 0 or number > 1000:
        fail(field, "%r must be above 0 and at most 1000" % (value,))
    return number


def _is_control(ch):
    code = ord(ch)
    return (code < 32 and ch != "\t") or 0x7f <= code < 0xa0 or 0xd800 <= code < 0xe000 \
        or code in (0xfffe, 0xffff)


def _text_problem(value, maximum, allow_empty=True):
    """Why `value` is not acceptable text, or None."""
    if not isinstance(value, str):
        return "%r is not a string" % (value,)
    if not allow_empty and not value:
        return "must not be empty"
    if len(value) > maximum:
        return "is %d characters long, more than the maximum of %d" % (len(value), maximum)
    if any(_is_control(ch) for ch in value):
        return "contains control characters"
    return None


def check_text(field, value, maximum=MAX_META_LENGTH, allow_empty=True):
    problem = _text_problem(value, maximum, allow_empty)
    if problem:
        fail(field, problem)
    return value


def check_bool(field, value):
    """true/false, also as the strings an INI inventory gives (yes, no, on, off, 1, 0)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in ("true", "yes", "on", "1", "y"):
        return True
    if text in ("false", "no", "off", "0", "n"):
        return False
    fail(field, "%r must be true or false" % (value,))


def _plain_absolute(value):
    """Whether `value` is an absolute path with no '..' or '.' component and no NUL."""
    return isinstance(value, str) and value.startswith("/") and "\x00" not in value \
        and not any(part in ("..", ".") for part in value.split("/")) \
        and os.path.normpath(value) == (value.rstrip("/") or "/")


def check_path(field, value):
    """An absolute, normalised path to an existing regular file."""
    if not isinstance(value, str) or not value:
        fail(field, "must be an absolute path to a file")
    if "\x00" in value:
        fail(field, "contains a NUL byte")
    if not os.path.isabs(value):
        fail(field, "%r is not an absolute path" % value)
    if not _plain_absolute(value):
        fail(field, "%r is not a normalised path ('..' and '.' components are refused)" % value)
    if not os.path.isfile(value):
        fail(field, "%r is not an existing file" % value)
    return value


# Directories a storage pool must never be: building a pool sets its directory's mode (0700).
SYSTEM_DIRECTORIES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                      "/run", "/sbin", "/sys", "/usr")
SHARED_DIRECTORIES = ("/home", "/opt", "/root", "/srv", "/tmp", "/var", "/var/cache", "/var/lib",
                      "/var/lib/libvirt", "/var/log", "/var/mail", "/var/spool", "/var/tmp")
STORAGE_PATH_RE = re.compile(r"^[A-Za-z0-9/._-]+\Z")


def check_storage_path(field, value):
    """A directory of its own for a storage pool: absolute, plain, not a system or shared one."""
    if not isinstance(value, str) or not STORAGE_PATH_RE.match(value) or not _plain_absolute(value):
        fail(field, "%r is not a plain absolute path (letters, digits, '/', '.', '_', '-'; no '..')" % (value,))
    path = value.rstrip("/")
    if not path or path in SHARED_DIRECTORIES or \
            any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRECTORIES):
        fail(field, "%r is a system or shared directory; give the pool a directory of its own, "
                    "such as /var/lib/novalite/instances" % (value,))
    return value


URI_PARAMETERS = ("keyfile", "known_hosts", "known_hosts_verify", "no_verify", "no_tty", "sshauth",
                  "mode", "socket", "proxy", "pkipath")
URI_VALUE_RE = re.compile(r"^[A-Za-z0-9/._,:+-]*\Z")
URI_PATH_PARAMETERS = ("keyfile", "known_hosts", "socket", "pkipath")
URI_CHOICES = {
    "known_hosts_verify": ("normal", "auto", "ignore"),
    "no_verify": ("0", "1"),
    "no_tty": ("0", "1"),
    "mode": ("auto", "legacy", "direct"),
    "proxy": ("auto", "netcat", "native"),
}
SSH_AUTH_METHODS = ("agent", "privkey", "password", "keyboard-interactive")
HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOST_RE = re.compile(r"^%s(?:\.%s)*\.?\Z" % (HOST_LABEL, HOST_LABEL))
USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\Z")


def _check_uri_authority(field, value, parts):
    """Host, user and port of a remote URI: a host name or address, never an option for ssh."""
    try:
        port = parts.port
    except ValueError:
        fail(field, "%r has an invalid port" % value)
    host = parts.hostname
    if host is not None:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if len(host) > 253 or not HOST_RE.match(host):
                fail(field, "%r names host %r, which is not a host name or IP address" % (value, host))
    if parts.username is not None and not USER_RE.match(parts.username):
        fail(field, "%r names user %r, which is not a user name" % (value, parts.username))
    if parts.password is not None:
        fail(field, "%r carries a password; use a key (keyfile) instead" % value)
    return port


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
    if parts.fragment:
        fail(field, "%r has a fragment" % value)
    _check_uri_authority(field, value, parts)
    if parts.query:
        for pair in parts.query.split("&"):
            key, _sep, val = pair.partition("=")
            if key not in URI_PARAMETERS:
                fail(field, "%r has query parameter %r; allowed: %s" % (value, key, ", ".join(URI_PARAMETERS)))
            if not URI_VALUE_RE.match(val):
                fail(field, "%r has an unsafe value for %s" % (value, key))
            if key in URI_PATH_PARAMETERS and not _plain_absolute(val):
                fail(field, "%r: %s must be a plain absolute path (no '..')" % (value, key))
            if key in URI_CHOICES and val not in URI_CHOICES[key]:
                fail(field, "%r: %s must be one of %s" % (value, key, ", ".join(URI_CHOICES[key])))
            if key == "sshauth" and not all(m in SSH_AUTH_METHODS for m in val.split(",")):
                fail(field, "%r: sshauth takes %s" % (value, ", ".join(SSH_AUTH_METHODS)))
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


def check_image_url(field, url):
    """An http(s) URL with a host, or a file URL to a plain absolute path."""
    problem = _text_problem(url, 2048, allow_empty=False)
    if problem or any(ch.isspace() for ch in url):
        fail(field, "%r is not an http, https or file URL" % (url,))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        fail(field, "%r is not an http, https or file URL" % (url,))
    if parts.scheme in ("http", "https"):
        if not parts.hostname or (port is not None and not 0 < port < 65536):
            fail(field, "%r names no host" % (url,))
        _check_uri_authority(field, url, parts)
    elif parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not _plain_absolute(parts.path):
            fail(field, "%r is not a file URL to a plain absolute path (no '..')" % (url,))
    else:
        fail(field, "%r is not an http, https or file URL" % (url,))
    return url


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


def check_meta(meta):
    """Server metadata as Nova takes it: at most 128 items, keys of 1 to 255 and values of at
    most 255 characters, no control characters, values scalar."""
    if not isinstance(meta, dict):
        fail("meta", "must be a dictionary")
    if len(meta) > MAX_META_ITEMS:
        fail("meta", "has %d items, more than %d" % (len(meta), MAX_META_ITEMS))
    checked = {}
    for key, value in meta.items():
        key = str(key)
        problem = _text_problem(key, MAX_META_LENGTH, allow_empty=False)
        if problem:
            fail("meta", "key %r %s" % (key[:40] + ("..." if len(key) > 40 else ""), problem))
        if value is None or isinstance(value, (dict, list)):
            fail("meta.%s" % key, "must be a string, not %s" % type(value).__name__)
        checked[key] = check_text("meta.%s" % key, str(value))
    return checked


def check_userdata(field, value):
    """User data within Nova's limit (counted on its base64 encoding). The message never
    repeats the data: it may hold secrets."""
    if value is None:
        return None
    if not isinstance(value, str):
        fail(field, "must be a string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeError:
        fail(field, "is not valid UTF-8 text")
    encoded = 4 * ((size + 2) // 3)
    if encoded > MAX_USER_DATA:
        fail(field, "is %d bytes, %d once base64-encoded, more than Nova's limit of %d base64-encoded bytes "
                    "(%d bytes of data)" % (size, encoded, MAX_USER_DATA, MAX_USER_DATA_RAW))
    return value


def check_quotas(quotas):
    """Per-project limits: instances, cores, ram; -1 or null is unlimited."""
    if not isinstance(quotas, dict):
        fail("quotas", "must be a dictionary")
    checked = {}
    for key, value in quotas.items():
        if key not in QUOTA_RESOURCES:
            fail("quotas.%s" % key, "is not a known quota (known: %s)" % ", ".join(QUOTA_RESOURCES))
        if value is None:
            continue
        checked[key] = check_int("quotas.%s" % key, value, -1, 1 << 40)
    return checked


def check_notifications_file(field, value):
    """A plain absolute path to a file in an existing directory (notifications are appended)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _plain_absolute(value) or any(_is_control(ch) for ch in value):
        fail(field, "%r is not a plain absolute path (no '..')" % (value,))
    if os.path.isdir(value):
        fail(field, "%r is a directory" % value)
    if not os.path.isdir(os.path.dirname(value) or "/"):
        fail(field, "the directory of %r does not exist" % value)
    return value


def check_server_request(params, catalogs):
    """The nova_server arguments checked against the catalogs; returns the request."""
    name = check_name("name", params.get("name"))
    min_count = check_int("min_count", params.get("min_count", 1), 1, MAX_COUNT)
    max_count = check_int("max_count", params.get("max_count", min_count) or min_count, 1, MAX_COUNT)
    if min_count > max_count:
        fail("min_count", "%d is greater than max_count %d" % (min_count, max_count))
    if max_count > 1 and len("%s-%d" % (name, max_count)) > MAX_NAME_LENGTH:
        fail("name", "%r with max_count %d gives names up to %r, longer than %d characters"
             % (name, max_count, "%s-%d" % (name, max_count), MAX_NAME_LENGTH))
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
    meta = params.get("meta")
    request["meta"] = check_meta({} if meta is None else meta)
    request["userdata"] = check_userdata("userdata", params.get("userdata"))
    hints = params.get("scheduler_hints") or {}
    if not isinstance(hints, dict):
        fail("scheduler_hints", "must be a dictionary")
    for key in hints:
        if not isinstance(key, str) or key not in SCHEDULER_HINTS:
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
        group = check_name("scheduler_hints.group", hints["group"])
        if group not in catalogs["server_groups"]:
            fail("scheduler_hints.group", "%r is not in the server_groups catalog" % (group,))
        checked_hints["group"] = group
    request["scheduler_hints"] = checked_hints
    request["nics"] = check_nics(params.get("nics"))
    if max_count > 1 and any(nic["fixed_ip"] for nic in request["nics"]):
        fail("nics", "fixed_ip cannot be used when creating more than one server")
    request["config_drive"] = bool(params.get("config_drive", True))
    admin_password = params.get("admin_password")
    if admin_password is not None and not isinstance(admin_password, str):
        fail("admin_password", "must be a string")
    request["admin_password"] = admin_password
    return request


# ------------------------------------------------------------------ compute nodes
# hypervisor option -> the inventory (host) variable it comes from
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
BRIDGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,15}\Z")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+~:-]+)?\Z")
POSIX_ACCOUNT_RE = re.compile(r"^(?:[a-z_][a-z0-9_-]{0,31}|\+[0-9]{1,10})\Z")
AUTHORIZED_KEY_RE = re.compile(r"(?:^|\s)(?:ssh-[A-Za-z0-9-]+|ecdsa-[A-Za-z0-9-]+|sk-[A-Za-z0-9@.-]+) "
                               r"[A-Za-z0-9+/]+={0,3}(?:\s|\Z)")
NETWORK_KEYS = ("name", "cidr", "bridge")
# Ranges a guest network must not take: the host's own, multicast, reserved.
FORBIDDEN_NETWORKS = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"))


def check_bridge(field, value):
    if not isinstance(value, str) or not BRIDGE_RE.match(value):
        fail(field, "%r is not a valid bridge name (at most 15 letters, digits, '-', '_')" % (value,))
    return value


def check_cidr(field, value):
    """An IPv4 subnet for an isolated network with DHCP: /8 to /29, not a host-reserved range."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        fail(field, "%r is not an IPv4 subnet such as 10.213.7.0/24" % (value,))
    if net.prefixlen < 8:
        fail(field, "%r is larger than a /8" % value)
    if net.num_addresses < 8:
        fail(field, "%r is too small for a DHCP range (at most /29)" % value)
    for forbidden in FORBIDDEN_NETWORKS:
        if net.overlaps(forbidden):
            fail(field, "%r overlaps %s, which guests must not use" % (value, forbidden))
    return str(net)


def check_network(field, network):
    """One network of the nova_compute role / nova_network: name, cidr, optional bridge."""
    if not isinstance(network, dict):
        fail(field, "must be a dictionary with name, cidr and bridge")
    unknown = sorted(str(k) for k in set(network) - set(NETWORK_KEYS))
    if unknown:
        fail(field, "unknown keys %s" % ", ".join(unknown))
    checked = {"name": check_name(field + ".name", network.get("name")),
               "cidr": check_cidr(field + ".cidr", network.get("cidr")), "bridge": None}
    if network.get("bridge") is not None:
        checked["bridge"] = check_bridge(field + ".bridge", network["bridge"])
    return checked


def _check_list(field, value):
    if not isinstance(value, list):
        fail(field, "must be a list")
    return value


def check_compute_variables(variables, is_file=os.path.isfile):
    """The nova_compute role's variables and the nova_* host variables the scheduler reads,
    checked before the role changes anything. Errors name the variable.

    `is_file` tells whether a path exists on the control node (the probe guest is copied
    from there)."""
    var = dict((k, v) for k, v in (variables or {}).items() if v is not None)
    for index, package in enumerate(_check_list("nova_compute_packages", var.get("nova_compute_packages", []))):
        if not isinstance(package, str) or not PACKAGE_RE.match(package):
            fail("nova_compute_packages[%d]" % index, "%r is not a Debian package name" % (package,))
    if "nova_compute_apt_cache_valid_time" in var:
        check_int("nova_compute_apt_cache_valid_time", var["nova_compute_apt_cache_valid_time"], 0, 10 * 365 * 86400)
    if var.get("nova_compute_virt_type", "auto") not in VIRT_TYPES:
        fail("nova_compute_virt_type", "%r is not one of %s" % (var["nova_compute_virt_type"], ", ".join(VIRT_TYPES)))
    probe = {}
    for key in ("nova_compute_kvm_probe_kernel", "nova_compute_kvm_probe_initrd"):
        path = var.get(key) or ""
        if path:
            if not isinstance(path, str) or not _plain_absolute(path) or any(_is_control(ch) for ch in path):
                fail(key, "%r is not a plain absolute path on the control node (no '..')" % (path,))
            if not is_file(path):
                fail(key, "%r is not an existing file on the control node" % path)
        probe[key] = path
    if bool(probe["nova_compute_kvm_probe_kernel"]) != bool(probe["nova_compute_kvm_probe_initrd"]):
        missing = [k for k, v in sorted(probe.items()) if not v][0]
        fail(missing, "the KVM probe needs both nova_compute_kvm_probe_kernel and nova_compute_kvm_probe_initrd")
    if "nova_compute_kvm_probe_marker" in var:
        check_text("nova_compute_kvm_probe_marker", var["nova_compute_kvm_probe_marker"], 255, allow_empty=False)
    if "nova_compute_kvm_probe_timeout" in var:
        check_int("nova_compute_kvm_probe_timeout", var["nova_compute_kvm_probe_timeout"], 1, 3600)
    for key in ("nova_compute_qemu_user", "nova_compute_qemu_group"):
        if key in var and (not isinstance(var[key], str) or not POSIX_ACCOUNT_RE.match(var[key])):
            fail(key, "%r is not a user or group name (or +UID)" % (var[key],))
    if "nova_compute_no_cgroups" in var:
        check_bool("nova_compute_no_cgroups", var["nova_compute_no_cgroups"])
    networks = _check_list("nova_compute_networks", var.get("nova_compute_networks", []))
    seen = []
    for index, network in enumerate(networks):
        field = "nova_compute_networks[%d]" % index
        checked = check_network(field, network)
        for other_index, other in seen:
            if checked["name"] == other["name"]:
                fail(field + ".name", "%r is also the name of nova_compute_networks[%d]" % (checked["name"], other_index))
            if checked["bridge"] and checked["bridge"] == other["bridge"]:
                fail(field + ".bridge", "%r is also the bridge of nova_compute_networks[%d]"
                     % (checked["bridge"], other_index))
            if ipaddress.IPv4Network(checked["cidr"]).overlaps(ipaddress.IPv4Network(other["cidr"])):
                fail(field + ".cidr", "%r overlaps nova_compute_networks[%d] (%s)"
                     % (checked["cidr"], other_index, other["cidr"]))
        seen.append((index, checked))
    keys = _check_list("nova_compute_authorized_keys", var.get("nova_compute_authorized_keys", []))
    for index, key in enumerate(keys):
        field = "nova_compute_authorized_keys[%d]" % index
        check_text(field, key, 16384, allow_empty=False)
        if not AUTHORIZED_KEY_RE.search(key):
            fail(field, "is not an OpenSSH public key line")
    # The host variables nova_server reads from the inventory, named as the inventory names them.
    hv = {"name": "compute", "uri": "qemu:///system"}
    for option, variable in HOST_VARIABLES.items():
        if variable in var:
            hv[option] = var[variable]
    field_names = dict((option, variable) for option, variable in HOST_VARIABLES.items())
    field_names["uri"] = "nova_libvirt_uri"
    if var.get("nova_libvirt_uri"):
        hv["uri"] = var["nova_libvirt_uri"]
    check_hypervisor("hypervisor", hv, field_names)
    known_hosts = var.get("nova_libvirt_known_hosts")
    if known_hosts and (not isinstance(known_hosts, str) or not _plain_absolute(known_hosts)
                        or not URI_VALUE_RE.match(known_hosts)):
        fail("nova_libvirt_known_hosts", "%r is not a plain absolute path (no '..')" % (known_hosts,))
    return var
