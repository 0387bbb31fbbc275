# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 1 of the flow, servers.Controller.create: the nova_server request checked against the
catalogs before anything is touched (names, counts, nics, metadata, user data, scheduler hints),
and the quotas and notifications file it comes with.

The parameters come as nova_server's argument spec made them (AnsibleModule has converted the
types, set the defaults and refused unknown suboptions and choices); what is checked here is
what a spec cannot say: names, ranges and sizes, references into the catalogs, a name's length
with max_count, fixed IPs with one server only, and the shapes a spec cannot give (nics items
that are a name or a dictionary, metadata of any keys, scheduler hints that are a name or a
list)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    MAX_NAME_LENGTH, MAX_TEXT_LENGTH, NAME_RE, check_int, check_name, check_text, fail, is_control,
    plain_absolute, text_problem)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import SCHEDULER_HINTS

MAX_COUNT = 1000
# Nova's MAX_USERDATA_SIZE: the API takes user data base64-encoded and refuses more than
# 65535 bytes of that encoding (openstack.cloud.server encodes it for the user), so at most
# 49149 bytes of data.
MAX_USER_DATA = 65535
MAX_USER_DATA_RAW = MAX_USER_DATA // 4 * 3
MAX_META_ITEMS = 128
# Nova's API sets no count of networks (Neutron's port quota does); each NIC here takes a PCI
# slot of the guest's root bus (32, some taken by the machine's own devices).
MAX_NICS = 28
# Nova's adminPass has no maxLength; here a password is at most this many characters.
MAX_ADMIN_PASSWORD = 255


def text_size(value):
    """The UTF-8 size of a text, without encoding it when it is ASCII (str.isascii costs nothing
    in CPython: the string knows it)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-8"))


def check_nics(nics):
    """[{network, fixed_ip}] from openstack.cloud-style nics entries: a network name, or a
    dictionary with net-name (or net-id, network) and fixed_ip (or v4-fixed-ip)."""
    result = []
    if len(nics or []) > MAX_NICS:
        fail("nics", "has %d items, more than %d" % (len(nics), MAX_NICS))
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
        fixed_ip = nic.get("fixed_ip") or nic.get("v4-fixed-ip")
        if fixed_ip is not None:
            try:
                fixed_ip = str(ipaddress.IPv4Address(str(fixed_ip)))
            except ValueError:
                fail(field + ".fixed_ip", "%r is not an IPv4 address" % (fixed_ip,))
        result.append({"network": name, "fixed_ip": fixed_ip})
    return result


def check_meta(meta, field="meta"):
    """Server metadata as Nova takes it: at most 128 items, keys of 1 to 255 and values of at
    most 255 characters, no control characters, values scalar. `field`: the option's name as
    given (metadata, or its alias meta)."""
    if len(meta) > MAX_META_ITEMS:
        fail(field, "has %d items, more than %d" % (len(meta), MAX_META_ITEMS))
    checked = {}
    for key, value in meta.items():
        key = str(key)
        problem = text_problem(key, MAX_TEXT_LENGTH, allow_empty=False)
        if problem:
            fail(field, "key %r %s" % (key[:40] + ("..." if len(key) > 40 else ""), problem))
        if value is None or isinstance(value, (dict, list)):
            fail("%s.%s" % (field, key), "must be a string, not %s" % type(value).__name__)
        checked[key] = check_text("%s.%s" % (field, key), str(value))
    return checked


def check_userdata(field, value):
    """User data within Nova's limit (counted on its base64 encoding). The message never
    repeats the data: it may hold secrets."""
    if value is None:
        return None
    try:
        size = text_size(value)
    except UnicodeError:
        fail(field, "is not valid UTF-8 text")
    encoded = 4 * ((size + 2) // 3)
    if encoded > MAX_USER_DATA:
        fail(field, "is %d bytes, %d once base64-encoded, more than Nova's limit of %d base64-encoded bytes "
                    "(%d bytes of data)" % (size, encoded, MAX_USER_DATA, MAX_USER_DATA_RAW))
    return value


def check_admin_password(field, value):
    """At most MAX_ADMIN_PASSWORD characters, no control characters; never quoted."""
    if value is None:
        return None
    if len(value) > MAX_ADMIN_PASSWORD:
        fail(field, "is %d characters long, more than the maximum of %d" % (len(value), MAX_ADMIN_PASSWORD))
    if any(is_control(ch) for ch in value):
        fail(field, "contains control characters")
    return value


def check_quotas(quotas):
    """Per-project limits (compute.quota.QUOTA_RESOURCES, the suboptions of quotas): -1 or null
    is unlimited. Returns the limits set."""
    checked = {}
    for key, value in (quotas or {}).items():
        if value is not None:
            checked[key] = check_int("quotas.%s" % key, value, -1, 1 << 40)
    return checked


def check_notifications_file(field, value):
    """A plain absolute path to a file in an existing directory (notifications are appended)."""
    if value is None:
        return None
    if not plain_absolute(value) or any(is_control(ch) for ch in value):
        fail(field, "%r is not a plain absolute path (no '..')" % (value,))
    if os.path.isdir(value):
        fail(field, "%r is a directory" % value)
    if not os.path.isdir(os.path.dirname(value) or "/"):
        fail(field, "the directory of %r does not exist" % value)
    return value


MAX_HINT_SERVERS = 1000


def check_scheduler_hints(hints, server_groups):
    """Nova's hints (request_spec.SCHEDULER_HINTS): servers by name or uuid, one or a list, for
    same_host and different_host; a server group of the catalog for group."""
    for key in hints:
        if not isinstance(key, str) or key not in SCHEDULER_HINTS:
            fail("scheduler_hints.%s" % key, "is not a known hint (known: %s)" % ", ".join(SCHEDULER_HINTS))
    checked = {}
    for key in ("same_host", "different_host"):
        if key in hints:
            values = hints[key]
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not values:
                fail("scheduler_hints.%s" % key, "must be a server name or uuid, or a list of them")
            if len(values) > MAX_HINT_SERVERS:
                fail("scheduler_hints.%s" % key, "names %d servers; at most %d" % (len(values), MAX_HINT_SERVERS))
            checked[key] = [check_text("scheduler_hints.%s" % key, v, 63, allow_empty=False) for v in values]
            for value in checked[key]:
                if not NAME_RE.match(value):
                    fail("scheduler_hints.%s" % key, "%r is not a server name or uuid" % value)
    if "group" in hints:
        group = check_name("scheduler_hints.group", hints["group"])
        if group not in server_groups:
            fail("scheduler_hints.group", "%r is not in the server_groups catalog" % (group,))
        checked["group"] = group
    return checked


def check_server_request(params, catalogs):
    """The nova_server arguments checked against the catalogs; returns the request."""
    name = check_name("name", params["name"])
    min_count = check_int("min_count", params["min_count"], 1, MAX_COUNT)
    max_count = check_int("max_count", params["max_count"] or min_count, 1, MAX_COUNT)
    if min_count > max_count:
        fail("min_count", "%d is greater than max_count %d" % (min_count, max_count))
    if max_count > 1 and len("%s-%d" % (name, max_count)) > MAX_NAME_LENGTH:
        fail("name", "%r with max_count %d gives names up to %r, longer than %d characters"
             % (name, max_count, "%s-%d" % (name, max_count), MAX_NAME_LENGTH))
    request = {"name": name, "min_count": min_count, "max_count": max_count,
               "purge_orphans": params["purge_orphans"]}
    if params["state"] == "absent":
        return request
    if request["purge_orphans"]:
        fail("purge_orphans", "only applies with state=absent")
    flavor = params["flavor"]
    if flavor not in catalogs["flavors"]:
        fail("flavor", "%r is not in the flavors catalog (known: %s)"
             % (flavor, ", ".join(sorted(catalogs["flavors"])) or "none"))
    image = params["image"]
    if image not in catalogs["images"]:
        fail("image", "%r is not in the images catalog (known: %s)"
             % (image, ", ".join(sorted(catalogs["images"])) or "none"))
    if catalogs["images"][image]["disk_format"] in ("aki", "ari"):
        fail("image", "%r is a kernel or ramdisk image, not a bootable one" % image)
    request.update(flavor=catalogs["flavors"][flavor], image=catalogs["images"][image])
    zones = sorted(set(hv["availability_zone"] for hv in catalogs["hypervisors"].values()))
    zone = params["availability_zone"]
    if zone is not None and zone not in zones:
        fail("availability_zone", "%r is not the zone of any hypervisor (zones: %s)" % (zone, ", ".join(zones)))
    request["availability_zone"] = zone
    key_name = params["key_name"]
    if key_name is not None and key_name not in catalogs["keypairs"]:
        fail("key_name", "%r is not in the keypairs catalog" % (key_name,))
    request["key_name"] = key_name
    # An option given by its alias is named so (AnsibleModule keeps the alias beside the option).
    request["meta"] = check_meta(params["metadata"] or {}, "meta" if "meta" in params else "metadata")
    request["userdata"] = check_userdata("user_data" if "user_data" in params else "userdata", params["userdata"])
    request["scheduler_hints"] = check_scheduler_hints(params["scheduler_hints"] or {}, catalogs["server_groups"])
    request["network"] = params.get("network")
    if request["network"] is not None:
        # openstack.cloud.server's network: one network, a simpler nics.
        if params["nics"]:
            fail("network", "give either network or nics, not both")
        request["nics"] = [{"network": check_name("network", request["network"]), "fixed_ip": None}]
    else:
        request["nics"] = check_nics(params["nics"])
    if max_count > 1 and any(nic["fixed_ip"] for nic in request["nics"]):
        fail("nics", "fixed_ip cannot be used when creating more than one server")
    request["config_drive"] = params["config_drive"]
    request["admin_password"] = check_admin_password("admin_password", params["admin_password"])
    return request
