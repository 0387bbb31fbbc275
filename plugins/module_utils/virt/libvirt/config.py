# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain XML of a server (nova.virt.libvirt.config), built with ElementTree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.instance_record import (
    NAMESPACE, PREFIX, to_element)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.xmlutil import xml_string


def domain_xml(spec):
    """Domain XML for a server.

    spec: name, uuid, title, virt_type, arch (x86_64), machine (pc), vcpus, memory_mb,
    kernel, initrd and cmdline (a direct kernel boot; else the first disk boots),
    disks [{path, format, dev, readonly}], nics [{network, mac}], console_log (the serial
    console's file), record (the instance record for <metadata>).
    """
    ET.register_namespace(PREFIX, NAMESPACE)
    dom = ET.Element("domain", type=spec["virt_type"])
    ET.SubElement(dom, "name").text = spec["name"]
    ET.SubElement(dom, "uuid").text = spec["uuid"]
    ET.SubElement(dom, "title").text = spec.get("title") or spec["name"]
    meta = ET.SubElement(dom, "metadata")
    meta.append(to_element(spec["record"]))
    ET.SubElement(dom, "memory", unit="MiB").text = str(int(spec["memory_mb"]))
    ET.SubElement(dom, "vcpu", placement="static").text = str(int(spec["vcpus"]))
    sysinfo = ET.SubElement(dom, "sysinfo", type="smbios")
    system = ET.SubElement(sysinfo, "system")
    for key, value in (("manufacturer", "novalite"), ("product", "OpenStack Nova"),
                       ("serial", spec["uuid"]), ("uuid", spec["uuid"]),
                       ("family", "Virtual Machine")):
        ET.SubElement(system, "entry", name=key).text = value
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch=spec.get("arch", "x86_64"),
                  machine=spec.get("machine", "pc")).text = "hvm"
    if spec.get("kernel"):
        ET.SubElement(os_el, "kernel").text = spec["kernel"]
        if spec.get("initrd"):
            ET.SubElement(os_el, "initrd").text = spec["initrd"]
        ET.SubElement(os_el, "cmdline").text = spec.get("cmdline") or "console=ttyS0"
    else:
        ET.SubElement(os_el, "boot", dev="hd")
    ET.SubElement(os_el, "smbios", mode="sysinfo")
    features = ET.SubElement(dom, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    ET.SubElement(dom, "clock", offset="utc")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    for disk in spec.get("disks", []):
        disk_el = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(disk_el, "driver", name="qemu", type=disk["format"])
        ET.SubElement(disk_el, "source", file=disk["path"])
        ET.SubElement(disk_el, "target", dev=disk["dev"], bus="virtio")
        if disk.get("readonly"):
            ET.SubElement(disk_el, "readonly")
    for nic in spec.get("nics", []):
        iface = ET.SubElement(devices, "interface", type="network")
        ET.SubElement(iface, "mac", address=nic["mac"])
        ET.SubElement(iface, "source", network=nic["network"])
        ET.SubElement(iface, "model", type="virtio")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=spec["console_log"], append="on")
    ET.SubElement(serial, "target", port="0")
    console = ET.SubElement(devices, "console", type="file")
    ET.SubElement(console, "source", path=spec["console_log"], append="on")
    ET.SubElement(console, "target", type="serial", port="0")
    ET.SubElement(devices, "memballoon", model="virtio")
    return xml_string(dom)
