# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.modules import nova_server
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import scheduler_config
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import check_server_request
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_uri
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.nova_server_args import (
    checked_catalogs, spec_errors, validated)


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "img.qcow2"
    path.write_bytes(b"QFI\xfb" + b"\0" * 60)
    return str(path)


def catalogs(image_file, **extra):
    data = dict(
        flavors=[{"name": "m1.tiny", "vcpus": 1, "ram": 128, "disk": 1}],
        images=[{"name": "tiny", "file": image_file}],
        hypervisors=[{"name": "h1", "uri": "qemu:///system", "availability_zone": "az1"}],
        server_groups=[{"name": "g", "policy": "anti-affinity"}],
        keypairs={"ops": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2 ops@x"},
    )
    data.update(extra)
    return checked_catalogs(**data)


def request(**params):
    """nova_server's parameters, as its argument spec hands them to the engine."""
    base = {"name": "web1", "image": "tiny", "flavor": "m1.tiny", "min_count": 1, "max_count": None,
            "nics": [], "meta": {}, "scheduler_hints": {}, "state": "present"}
    base.update(params)
    return validated(base)


def test_good_request(image_file):
    cats = catalogs(image_file)
    req = check_server_request(request(nics=[{"net-name": "private"}], meta={"a": "b"},
                                       scheduler_hints={"group": "g", "different_host": "web0"},
                                       availability_zone="az1", key_name="ops"), cats)
    assert req["flavor"]["name"] == "m1.tiny"
    assert req["nics"] == [{"network": "private", "fixed_ip": None}]
    assert req["scheduler_hints"] == {"group": "g", "different_host": ["web0"]}
    assert req["max_count"] == 1
    hv = cats["hypervisors"]["h1"]
    assert (hv["cpu_allocation_ratio"], hv["ram_allocation_ratio"], hv["disk_allocation_ratio"]) == (4.0, 1.0, 1.0)
    assert hv["reserved_host_memory_mb"] == 512


BAD_REQUESTS = [
    ("name", dict(name="a<b")),
    ("name", dict(name="x'; rm -rf /")),
    ("name", dict(name="$(reboot)")),
    ("name", dict(name="a" * 64)),
    ("name", dict(name="ünïcode")),
    ("name", dict(name="")),
    ("name", dict(name="../etc")),
    ("flavor", dict(flavor="m1.nope")),
    ("image", dict(image="/etc/passwd")),
    ("image", dict(image="missing")),
    ("min_count", dict(min_count=3, max_count=2)),
    ("min_count", dict(min_count=0)),
    ("min_count", dict(min_count=-1)),
    ("max_count", dict(max_count=10 ** 9)),
    ("availability_zone", dict(availability_zone="az9")),
    ("key_name", dict(key_name="nokey")),
    ("meta.k", dict(meta={"k": "v" * 256})),
    ("userdata", dict(userdata="x" * 70000)),
    ("scheduler_hints.group", dict(scheduler_hints={"group": "nogroup"})),
    ("scheduler_hints.bogus", dict(scheduler_hints={"bogus": 1})),
    ("scheduler_hints.same_host", dict(scheduler_hints={"same_host": ["a<b>"]})),
    ("scheduler_hints.same_host", dict(scheduler_hints={"same_host": []})),
    ("nics[0].net-name", dict(nics=[{"net-name": "bad net"}])),
    ("nics[0]", dict(nics=[{"net-name": "n", "port-id": "x"}])),
    ("nics[0].fixed_ip", dict(nics=[{"net-name": "n", "fixed_ip": "999.1.1.1"}])),
    ("nics[0]", dict(nics=[42])),
]


@pytest.mark.parametrize("field,params", BAD_REQUESTS)
def test_bad_request_names_field(image_file, field, params):
    with pytest.raises(InvalidRequest) as err:
        check_server_request(request(**params), catalogs(image_file))
    assert str(err.value).startswith(field + ":"), str(err.value)


BAD_CATALOGS = [
    ("flavors[0].vcpus", dict(flavors=[{"name": "f", "vcpus": -1, "ram": 128}])),
    ("flavors[0].ram", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 10 ** 12}])),
    ("flavors[0].name", dict(flavors=[{"name": "f<x>", "vcpus": 1, "ram": 128}])),
    ("flavors[0].disk", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128, "disk": 10 ** 6}])),
    ("flavors[1].name", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128}, {"name": "f", "vcpus": 1, "ram": 128}])),
    ("images[0].file", dict(images=[{"name": "i", "file": "/var/../etc/shadow"}])),
    ("images[0].file", dict(images=[{"name": "i", "file": "relative.qcow2"}])),
    ("images[0].file", dict(images=[{"name": "i", "file": "/nonexistent/x.qcow2"}])),
    ("images[0].url", dict(images=[{"name": "i", "url": "ftp://x/y"}])),
    ("images.i.kernel_id", dict(images=[{"name": "i", "url": "http://127.0.0.1/x", "kernel_id": "k"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system;reboot"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "http://h/system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?command=/bin/sh"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?netcat=nc"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?keyfile=/k%20x"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh:///system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu:///etc/passwd"}])),
    ("hypervisors[0].cpu_allocation_ratio", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                               "cpu_allocation_ratio": -2}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                       "storage_path": "/var/lib/../../etc"}])),
    ("hypervisors", dict(hypervisors=[])),
    ("server_groups[0].rules", dict(server_groups=[{"name": "g", "policy": "affinity",
                                                    "rules": {"max_server_per_host": 2}}])),
    ("keypairs.k", dict(keypairs={"k": "not a key"})),
]


@pytest.mark.parametrize("field,params", BAD_CATALOGS)
def test_bad_catalog_names_field(image_file, field, params):
    with pytest.raises(InvalidRequest) as err:
        catalogs(image_file, **params)
    assert str(err.value).startswith(field + ":"), str(err.value)


# Wrong types, unknown keys, missing keys and choices: nova_server's argument spec refuses them
# (AnsibleModule, before the module's own code runs); its message names the option and suboption.
SPEC_REFUSALS = [
    # Given by its alias meta, the option is named metadata, as Ansible names an aliased option.
    (dict(meta="notadict"), ["argument 'metadata' is of type"]),
    (dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128, "disk": "big"}]), ["'disk'", "'flavors'"]),
    (dict(images=[{"name": "i"}]), ["one of the following is required: file, url", "images"]),
    (dict(images=[{"name": "i", "url": "http://127.0.0.1/x", "disk_format": "vmdk"}]),
     ["value of disk_format must be one of", "images"]),
    (dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "virt_type": "xen"}]),
     ["value of virt_type must be one of", "hypervisors"]),
    (dict(server_groups=[{"name": "g", "policy": "random"}]), ["value of policy must be one of", "server_groups"]),
]


@pytest.mark.parametrize("params,named", SPEC_REFUSALS)
def test_spec_refuses_and_names_the_field(params, named):
    errors = spec_errors(dict(params, name="web1"))
    assert errors and all(name in errors[0] for name in named), errors


def test_kernel_ramdisk_references(image_file):
    cats = catalogs(image_file, images=[
        {"name": "k", "file": image_file, "disk_format": "aki"},
        {"name": "r", "file": image_file, "disk_format": "ari"},
        {"name": "i", "file": image_file, "kernel_id": "k", "ramdisk_id": "r"}])
    assert cats["images"]["i"]["kernel_id"] == "k"
    with pytest.raises(InvalidRequest) as err:
        check_server_request(request(image="k"), cats)
    assert str(err.value).startswith("image:")


def test_ssh_uri_with_key_and_known_hosts():
    uri = "qemu+ssh://root@10.213.0.11/system?keyfile=/var/lib/k/id_ed25519&known_hosts=/var/lib/k/known_hosts"
    assert check_uri("uri", uri) == uri


def test_absent_needs_only_a_name(image_file):
    req = check_server_request(validated({"name": "web1", "state": "absent"}), catalogs(image_file))
    assert req == {"name": "web1", "min_count": 1, "max_count": 1, "purge_orphans": False}


def test_purge_orphans_only_with_absent(image_file):
    with pytest.raises(InvalidRequest, match="^purge_orphans: only applies with state=absent"):
        check_server_request(validated({"name": "web1", "state": "present", "flavor": "m1.tiny", "image": "cirros",
                                        "purge_orphans": True}), catalogs(image_file))


def test_scheduler_suboptions_are_the_schedulers_options():
    """Every weight multiplier the spec takes is a weigher's, and every weigher's is in the spec."""
    options = nova_server.argument_spec()["scheduler"]["options"]
    multipliers = set(options) - {"enabled_filters", "max_attempts", "host_subset_size"}
    config = scheduler_config(dict((name, 2.0) for name in multipliers))
    assert set(weigher.option for weigher in config.weighers) == multipliers
    assert scheduler_config({"max_attempts": 2, "host_subset_size": 1, "enabled_filters": ["ComputeFilter"]})
    with pytest.raises(InvalidRequest, match="scheduler: enabled_filters: RamFilter was removed from Nova"):
        scheduler_config({"enabled_filters": ["ComputeFilter", "RamFilter"]})
