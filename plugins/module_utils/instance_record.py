# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance record, kept in the libvirt domain's <metadata>.

The hypervisor is the record: every field Nova keeps in its instances table for a
server lives in one element of the domain XML, in the namespace below, and is read
back from there. Pure functions: dict <-> XML element, no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

NAMESPACE = "urn:novalite:compute:instance:1"
PREFIX = "novalite"

# Nova's vm_states / task_states / power_state values used by the create flow.
BUILDING = "building"
ACTIVE = "active"
ERROR = "error"
DELETED = "deleted"
SCHEDULING = "scheduling"
NETWORKING = "networking"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
SPAWNING = "spawning"
DELETING = "deleting"

POWER_STATES = {0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED"}
NOSTATE = 0
RUNNING = 1

# Scalar fields, stored as child elements with text.
_SCALARS = (
    "uuid", "name", "project_id", "user_id", "host", "availability_zone", "vm_state",
    "task_state", "power_state", "created_at", "launched_at", "image", "key_name",
    "server_group", "launch_index", "reservation_id", "config_drive", "owner",
    "updated_at", "lease_until",
)
# Structured fields, stored as JSON text (flavor, metadata, ports, fault).
_STRUCTURED = ("flavor", "metadata", "ports", "fault")


def _tag(name):
    return "{%s}%s" % (NAMESPACE, name)


def to_element(record):
    """Build the <novalite:instance> element for a record dict."""
    root = ET.Element(_tag("instance"))
    for key in _SCALARS:
        value = record.get(key)
        if value is None and key not in ("task_state", "launched_at"):
            continue
        ET.SubElement(root, _tag(key)).text = "" if value is None else str(value)
    for key in _STRUCTURED:
        value = record.get(key)
        if value is None:
            continue
        ET.SubElement(root, _tag(key)).text = json.dumps(value, sort_keys=True)
    return root


def to_xml(record):
    """The metadata element as a string, for virDomainSetMetadata."""
    ET.register_namespace(PREFIX, NAMESPACE)
    return ET.tostring(to_element(record), encoding="unicode")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def from_element(element):
    """Read a record dict back from an <instance> element, with or without its namespace
    (virDomainGetMetadata returns it without)."""
    record = {}
    for child in element:
        key = _local(child.tag)
        if key in _SCALARS:
            record[key] = child.text or ""
        elif key in _STRUCTURED and child.text:
            record[key] = json.loads(child.text)
    if "power_state" in record:
        record["power_state"] = int(record["power_state"])
    if "launch_index" in record:
        record["launch_index"] = int(record["launch_index"])
    for key in ("task_state", "launched_at"):
        if record.get(key) == "":
            record[key] = None
    if record.get("lease_until"):
        record["lease_until"] = float(record["lease_until"])
    return record


def from_domain_xml(domain_xml):
    """The record inside a whole domain XML document, or None when it has none."""
    root = ET.fromstring(domain_xml)
    element = root.find("metadata/" + _tag("instance"))
    if element is None:
        return None
    return from_element(element)


def from_xml(metadata_xml):
    return from_element(ET.fromstring(metadata_xml))


def is_complete(record):
    """A server whose build finished: no task in progress and past building."""
    return record.get("task_state") is None and record.get("vm_state") not in (BUILDING, None)


def build_in_progress(record, now):
    """An unfinished build whose run still holds its lease (lease_until, epoch
    seconds, renewed at each step of the build). A run that died stops renewing;
    past its lease the half-built server is abandoned and may be reaped."""
    if is_complete(record):
        return False
    lease = record.get("lease_until")
    return isinstance(lease, float) and lease > now


def status(record):
    """openstack.cloud's `status` (Nova API status) for a vm_state."""
    vm_state = record.get("vm_state")
    if vm_state == ACTIVE:
        return "ACTIVE"
    if vm_state == BUILDING:
        return "BUILD"
    if vm_state == ERROR:
        return "ERROR"
    if vm_state == DELETED:
        return "DELETED"
    return (vm_state or "UNKNOWN").upper()
