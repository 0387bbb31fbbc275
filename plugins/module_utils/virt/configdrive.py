# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config drive: an ISO 9660 image labelled config-2, as Nova's configdrive builds.

Built in memory with pycdlib (no genisoimage, no shell), then uploaded to the
hypervisor as a volume. Layout follows Nova's: openstack/<version>/meta_data.json,
user_data, network_data.json and vendor_data.json, for `latest` and 2012-08-10.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json

try:
    import pycdlib
    HAS_PYCDLIB = True
    PYCDLIB_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    pycdlib = None
    HAS_PYCDLIB = False
    PYCDLIB_IMPORT_ERROR = exc

VERSIONS = ("2012-08-10", "latest")


def meta_data(instance, public_keys, admin_password=None):
    """The meta_data.json document of an instance record."""
    data = {
        "uuid": instance["uuid"],
        "name": instance["name"],
        "hostname": instance["name"],
        "availability_zone": instance.get("availability_zone"),
        "launch_index": instance.get("launch_index", 0),
        "project_id": instance.get("project_id"),
        "meta": instance.get("metadata") or {},
        "public_keys": public_keys or {},
        "devices": [],
    }
    if admin_password:
        data["admin_pass"] = admin_password
    return data


def network_data(ports):
    """network_data.json: one link and one DHCP network per port."""
    links, networks = [], []
    for index, port in enumerate(ports):
        link_id = "tap%d" % index
        links.append({"id": link_id, "type": "phy", "ethernet_mac_address": port["mac"], "mtu": 1500})
        networks.append({"id": "network%d" % index, "link": link_id, "type": "ipv4_dhcp",
                         "network_id": port["network"]})
    return {"links": links, "networks": networks, "services": []}


def build(instance, public_keys=None, user_data=None, admin_password=None):
    """Bytes of the ISO image for one instance."""
    if not HAS_PYCDLIB:
        raise RuntimeError("pycdlib is required to build config drives: %s" % PYCDLIB_IMPORT_ERROR)
    files = {
        "meta_data.json": json.dumps(meta_data(instance, public_keys, admin_password)).encode("utf-8"),
        "network_data.json": json.dumps(network_data(instance.get("ports") or [])).encode("utf-8"),
        "vendor_data.json": b"{}",
    }
    if user_data:
        files["user_data"] = user_data if isinstance(user_data, bytes) else user_data.encode("utf-8")
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, rock_ridge="1.09", joliet=3, vol_ident="config-2")
    iso.add_directory("/OPENSTAC", rr_name="openstack", joliet_path="/openstack")
    for version in VERSIONS:
        iso_dir = "/OPENSTAC/" + version.replace("-", "_").upper()[:8]
        iso.add_directory(iso_dir, rr_name=version, joliet_path="/openstack/" + version)
        for index, (name, body) in enumerate(sorted(files.items())):
            iso.add_fp(io.BytesIO(body), len(body), "%s/F%d.;1" % (iso_dir, index),
                       rr_name=name, joliet_path="/openstack/%s/%s" % (version, name))
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read_user_data(data):
    """The user data of a config drive built by build() (bytes of its ISO), or None when it has none:
    what a rebuild given no new user data keeps (Nova keeps it in its database; here the old drive is
    the only copy)."""
    if not HAS_PYCDLIB:
        raise RuntimeError("pycdlib is required to read config drives: %s" % PYCDLIB_IMPORT_ERROR)
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        out = io.BytesIO()
        try:
            iso.get_file_from_iso_fp(out, rr_path="/openstack/latest/user_data")
        except pycdlib.pycdlibexception.PyCdlibInvalidInput:
            return None
        return out.getvalue().decode("utf-8")
    finally:
        iso.close()
