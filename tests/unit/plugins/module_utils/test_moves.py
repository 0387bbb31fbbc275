# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stored request spec (issue 17, item 1), the moves' states and shadows, without libvirt."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.migration import stored_request_spec
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, ServerGroup, build_request_spec, spec_from_stored, spec_to_stored)
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record

TINY = {"name": "m1.tiny", "vcpus": 1, "ram": 192, "disk": 1, "ephemeral": 0, "swap": 0, "extra_specs": {}}


def spec():
    return build_request_spec(
        flavor=Flavor.from_dict(TINY), image=ImageMeta("tiny", properties={"hw_architecture": "x86_64"}, min_ram=64),
        availability_zone="az2", scheduler_hints={"different_host": ["u1"]},
        instance_group=ServerGroup("web", "anti-affinity", rules={"max_server_per_host": 2}), project_id="p1")


def test_stored_spec_round_trip_keeps_every_part():
    stored = spec_to_stored(spec())
    again = spec_from_stored(stored)
    assert again.flavor == Flavor.from_dict(TINY)
    assert again.image.name == "tiny" and again.image.properties == {"hw_architecture": "x86_64"}
    assert again.image.min_ram == 64
    assert again.availability_zone == "az2" and again.scheduler_hints == {"different_host": ["u1"]}
    assert (again.instance_group.name, again.instance_group.policy, again.instance_group.rules) == (
        "web", "anti-affinity", {"max_server_per_host": 2})
    assert again.project_id == "p1" and again.ignore_hosts == []


def test_stored_spec_for_a_move_new_flavor_and_ignored_source():
    big = Flavor("m1.big", 2, 512, 2)
    moved = spec_from_stored(spec_to_stored(spec()), flavor=big, ignore_hosts=["h1"], instance_uuid="u9")
    assert moved.flavor == big and moved.ignore_hosts == ["h1"] and moved.instance_uuids == ["u9"]


def test_stored_spec_is_kept_in_the_record():
    record = {"uuid": "u1", "name": "web-1", "request_spec": spec_to_stored(spec()),
              "migration": {"uuid": "m1", "status": "finished", "source_compute": "h1", "dest_compute": "h2"}}
    back = instance_record.from_element(ET.fromstring(instance_record.to_xml(record)))
    assert back["request_spec"] == record["request_spec"] and back["migration"] == record["migration"]


def test_a_record_without_a_spec_gets_one_built_from_it():
    record = {"uuid": "u1", "name": "old", "flavor": TINY, "image": "tiny", "server_group": "web",
              "project_id": "p2", "availability_zone": "az1"}
    catalogs = {"images": {"tiny": {"properties": {"hypervisor_type": "qemu"}, "min_ram": 0, "min_disk": 0}},
                "server_groups": {"web": {"name": "web", "policy": "affinity", "rules": {}}}}
    stored = stored_request_spec(record, catalogs)
    assert stored["flavor"]["name"] == "m1.tiny" and stored["image"]["properties"] == {"hypervisor_type": "qemu"}
    assert stored["instance_group"]["policy"] == "affinity" and stored["project_id"] == "p2"
    assert stored["availability_zone"] is None   # the zone it landed in was not asked for
    assert stored_request_spec(dict(record, request_spec={"kept": True})) == {"kept": True}


def test_shadow_is_the_other_hosts_side_of_a_move_only():
    moving = {"host": "h2", "migration": {"uuid": "m1"}}
    assert states.is_shadow(moving, "h1") and not states.is_shadow(moving, "h2")
    assert not states.is_shadow({"host": "renamed"}, "h1")   # no migration: never a shadow


def test_move_statuses_as_nova_shows_them():
    assert states.status({"vm_state": "resized", "task_state": None}) == "VERIFY_RESIZE"
    assert states.status({"vm_state": "active", "task_state": "resize_migrating"}) == "RESIZE"
    assert states.status({"vm_state": "resized", "task_state": "resize_reverting"}) == "REVERT_RESIZE"
    assert states.status({"vm_state": "active", "task_state": "migrating"}) == "MIGRATING"


# ---------------------------------------------------------------- the moves' API checks
import pytest  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia  # noqa: E402
from ansible_collections.novalite.compute.plugins.modules import nova_server_action  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest  # noqa: E402


@pytest.mark.parametrize("action,allowed,refused", [
    (ia.RESIZE, ("active", "stopped"), ("paused", "suspended", "rescued", "error", "resized")),
    (ia.MIGRATE, ("active", "stopped"), ("paused", "error", "resized")),
    (ia.LIVE_MIGRATE, ("active", "paused"), ("stopped", "suspended", "error", "resized")),
    (ia.CONFIRM_RESIZE, ("resized",), ("active", "stopped")),
    (ia.REVERT_RESIZE, ("resized",), ("active", "stopped")),
])
def test_moves_allowed_vm_states_as_nova(action, allowed, refused):
    for vm_state in allowed:
        ia.check_instance_state(action, {"name": "s", "vm_state": vm_state}, 0)
    for vm_state in refused:
        with pytest.raises(ia.InstanceInvalidState, match="Cannot '%s' instance s while it is in vm_state %s"
                           % (action, vm_state)):
            ia.check_instance_state(action, {"name": "s", "vm_state": vm_state}, 0)


@pytest.mark.parametrize("action", ia.MOVES)
def test_a_locked_server_refuses_every_move(action):
    with pytest.raises(ia.InstanceIsLocked):
        ia.check_instance_lock(action, {"name": "s", "locked": True})
    ia.check_instance_lock(action, {"name": "s", "locked": True}, override_lock=True)


def params(**changes):
    base = dict((key, spec.get("default")) for key, spec in nova_server_action.argument_spec().items())
    base.update(server=["web1"], notifications_file=None)
    base.update(changes)
    return base


@pytest.mark.parametrize("changes,message", [
    ({"action": "resize"}, "flavor: action=resize needs the new flavor"),
    ({"action": "migrate", "flavor": "m1.small"}, "flavor: only applies with action=resize"),
    ({"action": "stop", "host": "h2"}, "host: only applies with action=migrate or live_migrate"),
    ({"action": "confirm_resize", "auto_confirm": True}, "auto_confirm: only applies with action=resize or migrate"),
    ({"action": "migrate", "completion_timeout": 5}, "completion_timeout: only applies with action=live_migrate"),
    ({"action": "live_migrate", "completion_timeout": 0}, "completion_timeout"),
    ({"action": "live_migrate", "live_migration_bandwidth": 0}, "live_migration_bandwidth"),
    ({"action": "revert_resize", "allow_resize_to_same_host": True}, "allow_resize_to_same_host: only applies"),
])
def test_move_arguments_refused_naming_the_field(changes, message):
    with pytest.raises(InvalidRequest, match=message):
        nova_server_action.check_action_request(params(**changes))


def test_move_arguments_accepted():
    request = nova_server_action.check_action_request(params(action="live_migrate", host="h2", completion_timeout=30,
                                                             live_migration_bandwidth=10))
    assert (request["host"], request["completion_timeout"], request["bandwidth"]) == ("h2", 30, 10)
    request = nova_server_action.check_action_request(params(action="resize", flavor="m1.small", auto_confirm=True))
    assert request["flavor"] == "m1.small" and request["auto_confirm"] is True
