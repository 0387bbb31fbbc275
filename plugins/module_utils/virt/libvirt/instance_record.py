# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance record, kept in the libvirt domain's <metadata>.

The hypervisor is the record: every field Nova keeps in its instances table for a
server lives in one element of the domain XML, in the namespace below, and is read
back from there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import libvirt


NAMESPACE = "urn:novalite:compute:instance:1"

PREFIX = "novalite"

# Scalar fields, stored as child elements with text.
_SCALARS = (
    "uuid", "name", "project_id", "user_id", "host", "availability_zone", "vm_state",
    "task_state", "power_state", "created_at", "launched_at", "image", "key_name",
    "server_group", "launch_index", "reservation_id", "config_drive", "owner",
    "updated_at", "lease_until", "user_data_digest", "locked", "locked_by", "rescue_image",
    "replica_host",
)

# Structured fields, stored as JSON text: flavor, metadata, ports, fault; request_spec (Nova's
# RequestSpec kept with the server from create on, for every move that asks the scheduler again);
# migration (Nova's migration record of the move under way or the last one: compute/migrate.py).
_STRUCTURED = ("flavor", "metadata", "ports", "fault", "request_spec", "migration")


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
    if "locked" in record:
        record["locked"] = record["locked"] == "True"
    if record.get("lease_until"):
        record["lease_until"] = float(record["lease_until"])
    return record


def from_domain_xml(document):
    """The record inside a whole domain XML document, or None when it has none."""
    root = ET.fromstring(document)
    element = root.find("metadata/" + _tag("instance"))
    if element is None:
        return None
    return from_element(element)


def with_record(document, record):
    """A whole domain XML document with its record replaced by `record`."""
    ET.register_namespace(PREFIX, NAMESPACE)
    root = ET.fromstring(document)
    metadata = root.find("metadata")
    if metadata is None:
        metadata = ET.SubElement(root, "metadata")
    for old in metadata.findall(_tag("instance")):
        metadata.remove(old)
    metadata.append(to_element(record))
    return ET.tostring(root, encoding="unicode")


def from_xml(metadata_xml):
    return from_element(ET.fromstring(metadata_xml))


def read_record(dom):
    """The instance record in a domain's metadata, or None for a foreign domain."""
    try:
        xml = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NAMESPACE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise
    return from_xml(xml)


def save_record(dom, record):
    """Write the record into the domain's persistent (and live) metadata."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    element = to_element(record)
    inner = ET.tostring(element, encoding="unicode", default_namespace=None)
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, _strip_namespace(inner),
                    PREFIX, NAMESPACE, flags)


def _strip_namespace(xml):
    """setMetadata wants the element without its own namespace declaration."""
    root = ET.fromstring(xml)
    for el in root.iter():
        if el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return ET.tostring(root, encoding="unicode")


def stored(instance):
    """The fields of an instance dict that go into the domain's metadata."""
    return dict((k, v) for k, v in instance.items() if k not in ("domain",))


def list_records(conn):
    """The instance records of the domains on a host (foreign domains have none)."""
    found = []
    for dom in conn.listAllDomains():
        try:
            record = read_record(dom)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined between the listing and this look
            raise
        if record is not None:
            found.append(record)
    return found
