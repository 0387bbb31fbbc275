# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json

import pycdlib

from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive as config_drive
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record


def test_record_round_trip_keeps_hostile_text():
    record = {"uuid": "u", "name": "n", "vm_state": "building", "task_state": None, "power_state": 0,
              "launch_index": 2, "metadata": {"x": "<b>&'\"</b>"}, "flavor": {"name": "f", "ram": 1},
              "ports": [{"network": "n", "mac": "fa:16:3e:00:00:01", "ip": "10.0.0.2"}]}
    xml = "<domain><metadata>%s</metadata></domain>" % instance_record.to_xml(record)
    back = instance_record.from_domain_xml(xml)
    assert back["metadata"] == record["metadata"]
    assert back["ports"] == record["ports"]
    assert back["task_state"] is None
    assert back["power_state"] == 0 and back["launch_index"] == 2
    assert states.status(back) == "BUILD"


def test_foreign_domain_has_no_record():
    assert instance_record.from_domain_xml("<domain><name>x</name></domain>") is None


def test_config_drive_layout():
    instance = {"uuid": "u-1", "name": "web1", "availability_zone": "az1", "metadata": {"k": "v"},
                "ports": [{"network": "private", "mac": "fa:16:3e:00:00:02", "ip": "10.0.0.3"}]}
    data = config_drive.build(instance, {"ops": "ssh-ed25519 AAAA"}, "#cloud-config\n", "s3cret")
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        assert iso.pvd.volume_identifier.strip() == b"config-2"

        def read(path):
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=path)
            return out.getvalue()

        meta = json.loads(read("/openstack/latest/meta_data.json"))
        assert meta["uuid"] == "u-1" and meta["name"] == "web1"
        assert meta["public_keys"] == {"ops": "ssh-ed25519 AAAA"}
        assert meta["admin_pass"] == "s3cret"
        assert meta["meta"] == {"k": "v"}
        assert read("/openstack/2012-08-10/user_data") == b"#cloud-config\n"
        network = json.loads(read("/openstack/latest/network_data.json"))
        assert network["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:02"
    finally:
        iso.close()


def test_complete_and_in_progress_builds():
    active = {"vm_state": "active", "task_state": None}
    assert states.is_complete(active) and not states.build_in_progress(active, 100.0)
    building = {"vm_state": "building", "task_state": "spawning", "lease_until": 150.0}
    assert not states.is_complete(building)
    assert states.build_in_progress(building, 100.0)
    assert not states.build_in_progress(building, 150.0)  # the lease ran out: abandoned
    assert not states.build_in_progress({"vm_state": "building", "task_state": "networking"}, 0.0)  # no lease
    deleting = {"vm_state": "active", "task_state": "deleting"}
    assert not states.is_complete(deleting)


def test_lease_survives_the_metadata_round_trip():
    record = {"uuid": "u", "name": "n", "vm_state": "building", "task_state": "spawning", "lease_until": 12.5,
              "updated_at": "2026-11-25T06:00:00.000000Z"}
    back = instance_record.from_xml(instance_record.to_xml(record))
    assert back["lease_until"] == 12.5 and back["updated_at"] == record["updated_at"]
    assert "lease_until" not in instance_record.from_xml(instance_record.to_xml(dict(record, lease_until=None)))


def test_the_lock_round_trips_as_a_boolean():
    from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record as ir
    for locked in (True, False):
        back = ir.from_xml(ir.to_xml({"uuid": "u", "name": "n", "locked": locked, "locked_by": "owner"}))
        assert back["locked"] is locked and back["locked_by"] == "owner"


def test_with_record_replaces_the_record_of_a_domain_document():
    from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record as ir
    document = "<domain><name>n</name><metadata>%s</metadata></domain>" % ir.to_xml({"uuid": "u", "task_state": "suspending"})
    replaced = ir.with_record(document, {"uuid": "u", "task_state": "resuming"})
    assert ir.from_domain_xml(replaced)["task_state"] == "resuming" and replaced.count("<novalite:instance") == 1
