# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""openstack.cloud.server's habits (issue 15, item 4) and the drift of an existing server from
the request (item 5), in the engine: metadata/meta, userdata/user_data, network, names that are
UUIDs, the user data digest and instance_drift."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import GROUP_OPTIONS
from ansible_collections.novalite.compute.plugins.module_utils.compute import api
from ansible_collections.novalite.compute.plugins.module_utils.compute.drift import drift_message, instance_drift
from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_list
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import (
    is_uuid, user_data_digest, user_data_matches)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import check_server_request
from ansible_collections.novalite.compute.plugins.modules import nova_host_facts
from ansible_collections.novalite.compute.plugins.modules import nova_server, nova_server_info
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.nova_server_args import (
    checked_catalogs, validated)

UUID = "8f2c1f8e-6d0a-4f53-9a40-1d6c8f0e1a11"


@pytest.fixture
def cats(tmp_path):
    path = tmp_path / "img.qcow2"
    path.write_bytes(b"QFI\xfb" + b"\0" * 60)
    return checked_catalogs(
        flavors=[{"name": "m1.tiny", "vcpus": 1, "ram": 128, "disk": 1},
                 {"name": "m1.small", "vcpus": 1, "ram": 256, "disk": 1}],
        images=[{"name": "tiny", "file": str(path)}, {"name": "other", "file": str(path)}],
        hypervisors=[{"name": "h1", "uri": "qemu:///system", "availability_zone": "az1"}],
        server_groups=[{"name": "g", "policy": "anti-affinity"}],
        keypairs={"ops": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2 ops@x", "dev": "ssh-ed25519 AAAAC3Nz dev@x"})


def request(cats, **params):
    base = {"name": "web1", "image": "tiny", "flavor": "m1.tiny", "state": "present"}
    base.update(params)
    return check_server_request(validated(base), cats)


def refused(field, cats, **params):
    with pytest.raises(InvalidRequest) as err:
        request(cats, **params)
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_every_group_module_takes_the_groups_options():
    # (nova_image_cache builds its spec in main(); tests/integration/test_local_group_defaults.py runs it.)
    for module in (nova_server, nova_server_info, nova_host_facts):
        assert set(GROUP_OPTIONS) | {"hypervisors", "connect_timeout", "hypervisor_group"} <= set(
            module.argument_spec()), module


def test_metadata_and_its_alias_meta_and_the_field_named_as_given(cats):
    assert request(cats, metadata={"role": "web"})["meta"] == {"role": "web"}
    assert request(cats, meta={"role": "web"})["meta"] == {"role": "web"}
    # openstack.cloud.server takes metadata as key=value text too; Ansible's dict type does.
    assert request(cats, meta="role=web,tier=1")["meta"] == {"role": "web", "tier": "1"}
    refused("meta.role", cats, meta={"role": "v" * 256})
    refused("metadata.role", cats, metadata={"role": "v" * 256})
    refused("metadata", cats, metadata={"k\ny": "v"})


def test_userdata_and_its_alias_user_data(cats):
    assert request(cats, user_data="#!/bin/sh\n")["userdata"] == "#!/bin/sh\n"
    assert request(cats, userdata="#!/bin/sh\n")["userdata"] == "#!/bin/sh\n"
    refused("user_data", cats, user_data="x" * 50000)
    refused("userdata", cats, userdata="x" * 50000)


def test_network_is_one_nic(cats):
    req = request(cats, network="private")
    assert req["nics"] == [{"network": "private", "fixed_ip": None}] and req["network"] == "private"
    assert request(cats, nics=["private"])["network"] is None
    refused("network", cats, network="pri vate")
    refused("network", cats, network="private", nics=["other"])
    refused("network", cats, network=["a", "b"])  # one network: Ansible makes a list text, not a name


def test_names_that_are_uuids():
    assert is_uuid(UUID) and is_uuid(UUID.upper())
    assert not is_uuid("web1") and not is_uuid(UUID.replace("-", "")) and not is_uuid(None)


def test_user_data_digest_matches_only_the_same_data_and_never_holds_it():
    secret = "#cloud-config\npassword: s3cret-value\n"
    digest = user_data_digest(secret)
    assert "s3cret" not in digest and digest.startswith("pbkdf2-sha256$")
    assert user_data_digest(secret) != digest  # salted
    assert user_data_matches(secret, digest) is True
    assert user_data_matches(secret + " ", digest) is False
    assert user_data_matches(None, digest) is False
    assert user_data_matches(None, user_data_digest(None)) is True
    assert user_data_matches(secret, user_data_digest(None)) is False
    assert user_data_matches(secret, None) is None  # a record from before digests: cannot tell
    assert user_data_matches(secret, "md5$x") is None


def built_record(cats, **params):
    """The record nova_server would build for the request."""
    req = request(cats, **params)
    instance = api.ComputeAPI(cats, SchedulerConfig())._provision_instances(req, [req["name"]], 1)[0]
    instance.update(availability_zone="az1", host="h1",
                    ports=[{"network": nic["network"], "ip": nic["fixed_ip"] or "10.0.0.5", "mac": "fa:16:3e:00:00:01"}
                           for nic in req["nics"]])
    return instance


def test_a_server_built_as_requested_has_no_drift(cats):
    params = dict(nics=["private"], key_name="ops", userdata="hello", availability_zone="az1",
                  scheduler_hints={"group": "g"}, meta={"a": "b"})
    record = built_record(cats, **params)
    assert instance_drift(request(cats, **params), record) == []
    # Metadata is not drift: it is updated.
    params["meta"] = {"a": "c"}
    assert instance_drift(request(cats, **params), record) == []


def test_drift_names_each_field_requested_and_actual(cats):
    record = built_record(cats, nics=["private"], key_name="ops", userdata="hello", scheduler_hints={"group": "g"})
    other = request(cats, flavor="m1.small", image="other", nics=["public"], key_name="dev", userdata="bye",
                    config_drive=False)
    drift = dict((item["field"], item) for item in instance_drift(other, record))
    assert sorted(drift) == ["config_drive", "flavor", "image", "key_name", "nics", "server_group", "user_data"]
    assert drift["flavor"]["requested"] == "m1.small" and drift["flavor"]["actual"] == "m1.tiny"
    assert drift["image"] == {"field": "image", "requested": "other", "actual": "tiny"}
    assert drift["nics"]["requested"] == [{"network": "public", "fixed_ip": None}]
    assert drift["nics"]["actual"] == [{"network": "private", "fixed_ip": None}]
    assert drift["key_name"]["actual"] == "ops" and drift["server_group"] == {
        "field": "server_group", "requested": None, "actual": "g"}
    assert drift["user_data"] == {"field": "user_data", "requested": "given", "actual": "other user data"}
    assert "hello" not in repr(drift) and "bye" not in repr(drift)
    message = drift_message([("web1", list(drift.values()))])
    assert message.startswith("server web1 differs from the request in ")
    assert "flavor (requested 'm1.small', actual 'm1.tiny')" in message and "bye" not in message


def test_drift_of_zone_fixed_ip_and_flavor_figures(cats):
    record = built_record(cats, nics=[{"net-name": "private", "fixed_ip": "10.0.0.9"}])
    assert instance_drift(request(cats, nics=["private"]), record) == []  # no fixed IP asked: any
    moved = instance_drift(request(cats, nics=[{"net-name": "private", "fixed_ip": "10.0.0.10"}]), record)
    assert [item["field"] for item in moved] == ["nics"]
    record = built_record(cats)
    assert instance_drift(request(cats, availability_zone="az1"), record) == []
    record["availability_zone"] = "az2"
    assert instance_drift(request(cats, availability_zone="az1"), record) == [
        {"field": "availability_zone", "requested": "az1", "actual": "az2"}]
    assert instance_drift(request(cats), record) == []  # no zone asked: any
    # The same flavor name with other figures: the figures that differ.
    record = built_record(cats)
    record["flavor"] = dict(record["flavor"], ram=64)
    assert instance_drift(request(cats), record) == [
        {"field": "flavor", "requested": {"ram": 128}, "actual": {"ram": 64}}]
    # A record from before user data digests reports no user data drift.
    record = built_record(cats, userdata="a")
    del record["user_data_digest"]
    assert instance_drift(request(cats, userdata="b"), record) == []


def test_server_info_name_matches_a_name_or_a_uuid():
    server = {"name": "web1", "id": UUID, "hypervisor_hostname": "h1", "server_group": None,
              "project_id": "default", "status": "ACTIVE", "metadata": {}}
    for name in ("web1", UUID, UUID.upper()):
        assert instance_list._matches(server, {"name": name}), name
    assert not instance_list._matches(server, {"name": "web2"})
