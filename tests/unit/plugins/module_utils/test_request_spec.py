# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import (
    Flavor, ImageMeta, Instance, RequestSpec, ServerGroup, build_request_spec)


def flavor(**kw):
    args = dict(name="m1.small", vcpus=1, ram=512, disk=1)
    args.update(kw)
    return Flavor(**args)


def test_flavor_figures():
    f = Flavor("f", 2, 2048, 10, ephemeral=5, swap=512, extra_specs={"a": 1})
    assert (f.root_gb, f.ephemeral_gb, f.memory_mb) == (10, 5, 2048)
    assert f.total_disk_mb == 15 * 1024 + 512
    assert f.extra_specs == {"a": "1"}
    assert f == Flavor.from_dict(f.to_dict())


@pytest.mark.parametrize("field,kw", [
    ("flavor.vcpus", {"vcpus": "2"}),
    ("flavor.ram", {"ram": -1}),
    ("flavor.disk", {"disk": 1.5}),
    ("flavor.swap", {"swap": -5}),
    ("flavor.name", {"name": ""}),
    ("flavor.extra_specs", {"extra_specs": ["x"]}),
])
def test_flavor_rejects_bad_values(field, kw):
    with pytest.raises(ValueError, match=field):
        flavor(**kw)


def test_flavor_from_record_is_lenient():
    f = Flavor.from_dict({"name": "x", "vcpus": "2", "ram": None})
    assert (f.vcpus, f.ram, f.disk, f.swap, f.extra_specs) == (2, 0, 0, 0, {})


def test_image_properties_by_current_or_legacy_name():
    image = ImageMeta("img", {"architecture": "x86_64", "img_hv_type": "kvm", "vm_mode": "hvm"})
    assert image.get("hw_architecture") == "x86_64"
    assert image.get("img_hv_type") == "kvm"
    assert image.get("hw_vm_mode") == "hvm"
    assert image.get("img_hv_requested_version") is None


def test_server_group_rules():
    assert ServerGroup("g", "anti-affinity").max_server_per_host == 1
    assert ServerGroup("g", "anti-affinity", {"max_server_per_host": 3}).max_server_per_host == 3
    with pytest.raises(ValueError, match="server_group.policy"):
        ServerGroup("g", "spread")
    with pytest.raises(ValueError, match="anti-affinity policy only"):
        ServerGroup("g", "affinity", {"max_server_per_host": 2})
    with pytest.raises(ValueError, match="max_server_per_host"):
        ServerGroup("g", "anti-affinity", {"max_server_per_host": 0})
    with pytest.raises(ValueError, match="unknown rule"):
        ServerGroup("g", "anti-affinity", {"spread": 1})


def test_instance_from_record_ignores_extra_keys():
    inst = Instance.from_dict({"uuid": "u1", "name": "web", "flavor": {"name": "f", "vcpus": 2, "ram": 256},
                               "vm_state": "active", "server_group": "", "domain": "web", "ports": []},
                              host="h1")
    assert (inst.uuid, inst.name, inst.flavor.vcpus, inst.server_group, inst.host) == ("u1", "web", 2, None, "h1")
    assert not inst.deleted


def test_build_request_spec_valid_and_normalised():
    group = ServerGroup("g", "affinity")
    spec = build_request_spec({"name": "f", "vcpus": 2, "ram": 1024, "disk": 5, "swap": 128},
                              ImageMeta("img", min_ram=512, min_disk=5),
                              num_instances=3, availability_zone="az1",
                              scheduler_hints={"same_host": "web1", "group": "g"}, instance_group=group,
                              project_id="p", instance_uuids=["a", "b", "c"], ignore_hosts="h9")
    assert isinstance(spec.flavor, Flavor)
    assert (spec.memory_mb, spec.vcpus, spec.root_gb, spec.ephemeral_gb, spec.swap) == (1024, 2, 5, 0, 128)
    assert spec.get_scheduler_hint("same_host") == ["web1"]
    assert spec.get_scheduler_hint("different_host", []) == []
    assert spec.ignore_hosts == ["h9"]


@pytest.mark.parametrize("field,kw", [
    ("num_instances", {"num_instances": 0}),
    ("num_instances", {"num_instances": "2"}),
    ("scheduler_hints.cidr", {"scheduler_hints": {"cidr": "/24"}}),
    ("scheduler_hints.same_host", {"scheduler_hints": {"same_host": [""]}}),
    ("scheduler_hints.group", {"scheduler_hints": {"group": "g"}}),
    ("scheduler_hints.group", {"scheduler_hints": {"group": "g"}, "instance_group": ServerGroup("h", "affinity")}),
    ("scheduler_hints", {"scheduler_hints": ["same_host"]}),
    ("instance_uuids", {"num_instances": 2, "instance_uuids": ["a"]}),
    ("instance_uuids", {"num_instances": 2, "instance_uuids": ["a", "a"]}),
    ("availability_zone", {"availability_zone": ""}),
    ("instance_group", {"instance_group": "g"}),
    ("project_id", {"project_id": None}),
    ("flavor.ram", {"image": ImageMeta("img", min_ram=1024)}),
    ("flavor.disk", {"image": ImageMeta("img", min_disk=20)}),
    ("flavor.disk", {"image": ImageMeta("img", size_gb=2)}),
    ("flavor.vcpus", {"flavor": Flavor("f", 0, 512, 1)}),
    ("flavor", {"flavor": {"name": "f", "cpus": 1}}),
])
def test_build_request_spec_names_the_bad_field(field, kw):
    args = dict(flavor=flavor(), image=ImageMeta("img"))
    args.update(kw)
    with pytest.raises(ValueError) as info:
        build_request_spec(**args)
    assert str(info.value).startswith(field)


def test_root_disk_zero_flavor_accepts_any_image_size():
    spec = build_request_spec(flavor(disk=0), ImageMeta("img", min_disk=20, size_gb=3))
    assert spec.root_gb == 0


def test_copy_is_independent():
    spec = RequestSpec(flavor(), ImageMeta("img"), instance_group=ServerGroup("g", "affinity", hosts=["h1"]))
    other = spec.copy()
    other.instance_group.hosts.append("h2")
    other.instance_group.members.append("u")
    assert spec.instance_group.hosts == ["h1"]
    assert spec.instance_group.members == []
