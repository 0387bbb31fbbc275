# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile and malformed inputs (issue #4, point 4): each is refused with the field named."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_hypervisor
from ansible_collections.novalite.compute.plugins.module_utils.validation.compute_node import check_compute_variables
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    InvalidRequest, check_options, check_ratio, check_storage_path)
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import (
    MAX_ADMIN_PASSWORD, MAX_NICS, MAX_USER_DATA_RAW, check_notifications_file, check_quotas, check_server_request)
from ansible_collections.novalite.compute.plugins.module_utils.validation.uri import check_image_url, check_uri
from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import libvirt_uri
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


def refused(field, func, *args, **kwargs):
    with pytest.raises(InvalidRequest) as err:
        func(*args, **kwargs)
    assert str(err.value).startswith(field + ":"), str(err.value)
    return str(err.value)


BAD_REQUESTS = [
    ("name", dict(name="web1\n")),
    ("name", dict(name="web\u200b1")),
    ("name", dict(name="-rf")),
    ("name", dict(name="a" * 61, max_count=10)),
    ("meta", dict(meta={"k\ny": "v"})),
    ("meta", dict(meta={"k" * 256: "v"})),
    ("meta", dict(meta={"": "v"})),
    ("meta.k", dict(meta={"k": "v\x00"})),
    ("meta.k", dict(meta={"k": "v\x85"})),
    ("meta.k", dict(meta={"k": {"nested": "dict"}})),
    ("meta.k", dict(meta={"k": None})),
    ("meta", dict(meta=dict(("k%d" % i, "v") for i in range(129)))),
    ("scheduler_hints.group", dict(scheduler_hints={"group": ["g"]})),
    ("scheduler_hints.group", dict(scheduler_hints={"group": "g<x>"})),
    ("userdata", dict(userdata="x" * (MAX_USER_DATA_RAW + 1))),
    ("nics", dict(nics=["net"] * (MAX_NICS + 1))),
    ("nics", dict(nics=["net"] * 1000000)),
    ("admin_password", dict(admin_password="p" * (MAX_ADMIN_PASSWORD + 1))),
    ("admin_password", dict(admin_password="pass\nword")),
]


@pytest.mark.parametrize("field,params", BAD_REQUESTS)
def test_bad_request_names_field(image_file, field, params):
    refused(field, check_server_request, request(**params), catalogs(image_file))


def test_userdata_limit_is_novas_base64_limit(image_file):
    cats = catalogs(image_file)
    largest = "y" * MAX_USER_DATA_RAW
    assert len(base64.b64encode(largest.encode())) <= 65535
    assert check_server_request(request(userdata=largest), cats)["userdata"] == largest
    secret = "s3cr3t-" + "z" * MAX_USER_DATA_RAW
    message = refused("userdata", check_server_request, request(userdata=secret), cats)
    assert "s3cr3t" not in message and "65535" in message
    # multi-byte text counts in bytes
    refused("userdata", check_server_request, request(userdata="é" * (MAX_USER_DATA_RAW // 2 + 1)), cats)


def test_bounds_at_their_limit_are_taken_and_never_quote_a_password(image_file):
    cats = catalogs(image_file)
    req = check_server_request(request(nics=["net%d" % i for i in range(MAX_NICS)],
                                       admin_password="p" * MAX_ADMIN_PASSWORD), cats)
    assert len(req["nics"]) == MAX_NICS and len(req["admin_password"]) == MAX_ADMIN_PASSWORD
    message = refused("admin_password", check_server_request, request(admin_password="s3cr3t" * 100), cats)
    assert "s3cr3t" not in message and "600 characters" in message


def test_meta_scalars_become_strings(image_file):
    req = check_server_request(request(meta={"count": 3, "ok": True, "tab": "a\tb"}), catalogs(image_file))
    assert req["meta"] == {"count": "3", "ok": "True", "tab": "a\tb"}


def test_longest_names_with_max_count(image_file):
    cats = catalogs(image_file)
    assert check_server_request(request(name="a" * 60, max_count=99), cats)["max_count"] == 99
    refused("name", check_server_request, request(name="a" * 60, max_count=100), cats)


BAD_CATALOGS = [
    ("flavors[0].ram", dict(flavors=[{"name": "f", "vcpus": 1, "ram": -128}])),
    ("flavors[0].disk", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128, "disk": -1}])),
    ("flavors[0].swap", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128, "swap": 10 ** 12}])),
    ("flavors[0].vcpus", dict(flavors=[{"name": "f", "vcpus": 10 ** 6, "ram": 128}])),
    ("flavors[0].extra_specs", dict(flavors=[{"name": "f", "vcpus": 1, "ram": 128, "extra_specs": {"a\nb": "1"}}])),
    ("images[0].checksum", dict(images=[{"name": "i", "url": "http://127.0.0.1/x", "checksum": "a" * 64 + "\n"}])),
    ("images[0].url", dict(images=[{"name": "i", "url": "http:///x"}])),
    ("images[0].url", dict(images=[{"name": "i", "url": "http://127.0.0.1/a b"}])),
    ("images[0].url", dict(images=[{"name": "i", "url": "file:///srv/../etc/shadow"}])),
    ("images[0].url", dict(images=[{"name": "i", "url": "http://-oProxyCommand=x/img"}])),
    ("images[0].properties", dict(images=[{"name": "i", "url": "http://127.0.0.1/x", "properties": {"a\x1b": "1"}}])),
    ("images[0].properties.a", dict(images=[{"name": "i", "url": "http://127.0.0.1/x", "properties": {"a": [1]}}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://-oProxyCommand=reboot/system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://-lroot@h/system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root:pw@h/system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h:99999/system"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?keyfile=/k/../../etc/shadow"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?keyfile=k/id"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system?proxy=sh"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+libssh2://root@h/system?sshauth=agent,sh"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu:///system\n"}])),
    ("hypervisors[0].uri", dict(hypervisors=[{"name": "h", "uri": "qemu+ssh://root@h/system#x"}])),
    ("hypervisors[0].cpu_allocation_ratio", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                               "cpu_allocation_ratio": "nan"}])),
    ("hypervisors[0].ram_allocation_ratio", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                               "ram_allocation_ratio": "inf"}])),
    ("hypervisors[0].reserved_host_memory_mb", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                                  "reserved_host_memory_mb": -1}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "storage_path": "/"}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "storage_path": "/etc"}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                       "storage_path": "/usr/lib/x"}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                       "storage_path": "/var/lib"}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                       "storage_path": "/var/lib/x\n"}])),
    ("hypervisors[0].storage_path", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                       "storage_path": "/var/lib/./x"}])),
    ("hypervisors[0].aggregates[0].metadata", dict(hypervisors=[{"name": "h", "uri": "qemu:///system",
                                                                 "aggregates": [{"name": "a", "metadata": {"k\n": "v"}}]}])),
    ("keypairs.k", dict(keypairs={"k": "ssh-ed25519 AAAA x\ncommand=\"reboot\" ssh-rsa AAAA"})),
]


@pytest.mark.parametrize("field,params", BAD_CATALOGS)
def test_bad_catalog_names_field(image_file, field, params):
    refused(field, catalogs, image_file, **params)


def test_good_uris_and_paths():
    for uri in ("qemu:///system", "qemu+ssh://root@compute-1.example.com:2222/system?keyfile=/root/.ssh/id",
                "qemu+ssh://ops@[2001:db8::1]/system", "qemu+tls://192.0.2.1/system?pkipath=/etc/pki/libvirt",
                "qemu+libssh2://root@h/system?known_hosts=/k/known_hosts&sshauth=agent,privkey",
                "qemu+ssh://root@h/system?no_verify=1", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"):
        assert check_uri("uri", uri) == uri
    for path in ("/var/lib/novalite/instances", "/srv/nova", "/var/lib/novalite/test-abc/"):
        assert check_storage_path("p", path) == path
    assert check_image_url("u", "http://127.0.0.1:8080/img.qcow2?x=1") == "http://127.0.0.1:8080/img.qcow2?x=1"
    assert check_image_url("u", "file:///srv/images/a.qcow2") == "file:///srv/images/a.qcow2"


# Wrong types, unknown keys and shapes: nova_server's argument spec refuses them (AnsibleModule,
# before the module's own code runs), naming the option and suboption.
SPEC_REFUSALS = [
    (dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "enabled": "maybe"}]), ["'enabled'", "'hypervisors'"]),
    (dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "command": "reboot"}]), ["hypervisors.command"]),
    (dict(hypervisors=[{"name": "h"}]), ["missing required arguments: uri", "hypervisors"]),
    (dict(quotas={"cores": "lots"}), ["'cores'", "'quotas'"]),
    (dict(quotas={"ram": 1.5}), ["'ram'", "'quotas'"]),
    (dict(quotas={"floating_ips": 1}), ["quotas.floating_ips"]),
    (dict(scheduler_hints="garbage"), ["argument 'scheduler_hints' is of type"]),
    (dict(scheduler={"weight_of_evil": 1}), ["scheduler.weight_of_evil"]),
    (dict(server_groups=[{"name": "g", "policy": "anti-affinity", "rules": {"max_servers": 2}}]),
     ["server_groups.rules.max_servers"]),
    (dict(flavors=[{"name": "f", "vcpus": 1}]), ["missing required arguments: ram", "flavors"]),
]


@pytest.mark.parametrize("params,named", SPEC_REFUSALS)
def test_spec_refuses_and_names_the_field(params, named):
    errors = spec_errors(dict(params, name="web1"))
    assert errors and all(name in errors[0] for name in named), errors


@pytest.mark.parametrize("params,named", [
    (dict(hypervisors=[{"name": "h", "uri": "qemu:///system", "aggregates": "ssd"}]), "'aggregates'"),
    (dict(quotas=["instances"]), "argument 'quotas' is of type"),
    (dict(flavors=["m1.tiny"]), "'flavors'"),
])
def test_spec_refuses_a_string_for_a_dictionary(params, named):
    """A string where suboptions expect a dictionary: refused, but the first message, the one
    AnsibleModule reports, is that of Ansible's no_log scan and names no option; the type
    error after it does."""
    errors = spec_errors(dict(params, name="web1"))
    assert errors[0] == "dictionary requested, could not parse JSON or key=value", errors
    assert any(named in error for error in errors[1:]), errors


def test_spec_conversions_reach_the_engine_as_their_type(image_file):
    """What Ansible's types convert, rather than refuse: str options take the text of any value
    (user data, the admin password), float options take booleans as 1.0 and 0.0 (the engine's
    own check_ratio refuses booleans, but the spec hands it the float)."""
    params = request(userdata=["not", "text"], admin_password=12345)
    req = check_server_request(params, catalogs(image_file))
    assert (req["userdata"], req["admin_password"]) == ("['not', 'text']", "12345")
    refused("ratio", check_ratio, "ratio", True)
    cats = catalogs(image_file, hypervisors=[{"name": "h", "uri": "qemu:///system", "disk_allocation_ratio": True}])
    assert cats["hypervisors"]["h"]["disk_allocation_ratio"] == 1.0


@pytest.mark.parametrize("value,expected", [(True, True), ("false", False), ("yes", True), ("0", False),
                                            ("On", True), (0, False)])
def test_inventory_booleans(value, expected):
    """The booleans an INI inventory gives, as the hypervisor spec takes them (the inventory
    plugin and the nova_compute role's checks run it with check_options)."""
    entry = {"name": "h", "uri": "qemu:///system", "enabled": value}
    entry = check_options("hypervisors[0]", hypervisor_options(), entry)
    assert check_hypervisor("hypervisors[0]", entry)["enabled"] is expected


def test_bad_quotas():
    refused("quotas.instances", check_quotas, validated({"name": "web1", "quotas": {"instances": -5}})["quotas"])


def test_quotas_accept_unlimited():
    quotas = validated({"name": "web1", "quotas": {"instances": -1, "cores": None, "ram": 4096}})["quotas"]
    assert check_quotas(quotas) == {"instances": -1, "ram": 4096}


def test_notifications_file(tmp_path):
    good = str(tmp_path / "n.jsonl")
    assert check_notifications_file("notifications_file", good) == good
    for bad in (str(tmp_path) + "/../x.jsonl", "relative.jsonl", str(tmp_path / "missing" / "n.jsonl"),
                str(tmp_path), str(tmp_path) + "/n\n"):
        refused("notifications_file", check_notifications_file, "notifications_file", bad)


# ------------------------------------------------------------------ the nova_compute role
GOOD_ROLE = {
    "nova_compute_packages": ["qemu-system-x86", "qemu-utils", "libvirt-daemon-system", "python3-libvirt"],
    "nova_compute_apt_cache_valid_time": 86400, "nova_compute_virt_type": "auto",
    "nova_compute_kvm_probe_kernel": "", "nova_compute_kvm_probe_initrd": "",
    "nova_compute_kvm_probe_marker": "NOVALITE-GUEST-BOOTED", "nova_compute_kvm_probe_timeout": 60,
    "nova_compute_storage_pool": "nova_instances", "nova_compute_storage_path": "/var/lib/novalite/instances",
    "nova_compute_qemu_user": "root", "nova_compute_qemu_group": "+0",
    "nova_compute_networks": [{"name": "private", "cidr": "10.213.7.0/24", "bridge": "nlbr-private"},
                              {"name": "other", "cidr": "10.213.8.0/24"}],
    "nova_compute_authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2 ops@x",
                                     'from="192.0.2.1" ssh-rsa AAAAB3NzaC1yc2E= ops'],
    "nova_libvirt_uri": None, "nova_cpu_allocation_ratio": "4.0", "nova_enabled": "false",
}

BAD_ROLE = [
    ("nova_compute_networks[0].name", {"nova_compute_networks": [{"name": "a<b>", "cidr": "10.0.0.0/24"}]}),
    ("nova_compute_networks[0].name", {"nova_compute_networks": [{"name": "n;reboot", "cidr": "10.0.0.0/24"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/33"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "0.0.0.0/0"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "127.0.0.0/24"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/30"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "fd00::/64"}]}),
    ("nova_compute_networks[0].cidr", {"nova_compute_networks": [{"name": "n"}]}),
    ("nova_compute_networks[0].bridge", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/24",
                                                                    "bridge": "br0$(id)"}]}),
    ("nova_compute_networks[0].bridge", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/24",
                                                                    "bridge": "br0\n"}]}),
    ("nova_compute_networks[0].bridge", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/24",
                                                                    "bridge": "b" * 16}]}),
    ("nova_compute_networks[0]", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/24", "forward": "nat"}]}),
    ("nova_compute_networks[0]", {"nova_compute_networks": ["private"]}),
    ("nova_compute_networks[1].name", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/24"},
                                                                 {"name": "n", "cidr": "10.0.1.0/24"}]}),
    ("nova_compute_networks[1].cidr", {"nova_compute_networks": [{"name": "n", "cidr": "10.0.0.0/16"},
                                                                 {"name": "m", "cidr": "10.0.1.0/24"}]}),
    ("nova_compute_networks", {"nova_compute_networks": "private"}),
    ("nova_compute_storage_pool", {"nova_compute_storage_pool": "../evil"}),
    ("nova_compute_storage_pool", {"nova_compute_storage_pool": "<pool/>"}),
    ("nova_compute_storage_path", {"nova_compute_storage_path": "/var/lib/novalite/../../../etc"}),
    ("nova_compute_storage_path", {"nova_compute_storage_path": "instances"}),
    ("nova_compute_storage_path", {"nova_compute_storage_path": "/etc"}),
    ("nova_compute_storage_path", {"nova_compute_storage_path": "/tmp"}),
    ("nova_compute_apt_cache_valid_time", {"nova_compute_apt_cache_valid_time": -1}),
    ("nova_compute_kvm_probe_timeout", {"nova_compute_kvm_probe_timeout": 0}),
    ("nova_compute_kvm_probe_timeout", {"nova_compute_kvm_probe_timeout": 10 ** 9}),
    ("nova_compute_kvm_probe_marker", {"nova_compute_kvm_probe_marker": ""}),
    ("nova_compute_kvm_probe_kernel", {"nova_compute_kvm_probe_kernel": "/srv/../etc/shadow",
                                       "nova_compute_kvm_probe_initrd": "/srv/initrd"}),
    ("nova_compute_kvm_probe_kernel", {"nova_compute_kvm_probe_kernel": "vmlinuz",
                                       "nova_compute_kvm_probe_initrd": "/srv/initrd"}),
    ("nova_compute_kvm_probe_initrd", {"nova_compute_kvm_probe_kernel": "/srv/vmlinuz"}),
    ("nova_compute_virt_type", {"nova_compute_virt_type": "xen"}),
    ("nova_compute_qemu_user", {"nova_compute_qemu_user": 'root"\nuser = "evil'}),
    ("nova_compute_qemu_group", {"nova_compute_qemu_group": "kvm users"}),
    ("nova_compute_authorized_keys[0]", {"nova_compute_authorized_keys": [
        "ssh-ed25519 AAAAC3Nza ops\ncommand=\"reboot\" ssh-rsa AAAA x"]}),
    ("nova_compute_authorized_keys[0]", {"nova_compute_authorized_keys": ["not a key"]}),
    ("nova_compute_packages[0]", {"nova_compute_packages": ["-oAPT::Update::Pre-Invoke::=reboot"]}),
    ("nova_compute_packages[1]", {"nova_compute_packages": ["qemu-utils", "qemu; reboot"]}),
    ("nova_compute_no_cgroups", {"nova_compute_no_cgroups": "perhaps"}),
    ("nova_libvirt_uri", {"nova_libvirt_uri": "qemu+ssh://root@h/system?command=/bin/sh"}),
    ("nova_libvirt_uri", {"nova_libvirt_uri": "qemu+ssh://-oProxyCommand=x/system"}),
    ("nova_libvirt_known_hosts", {"nova_libvirt_known_hosts": "/root/../etc/known_hosts"}),
    ("nova_cpu_allocation_ratio", {"nova_cpu_allocation_ratio": -1}),
    ("nova_ram_allocation_ratio", {"nova_ram_allocation_ratio": "nan"}),
    ("nova_disk_allocation_ratio", {"nova_disk_allocation_ratio": 0}),
    ("nova_reserved_host_memory_mb", {"nova_reserved_host_memory_mb": -512}),
    ("nova_reserved_host_disk_mb", {"nova_reserved_host_disk_mb": "lots"}),
    ("nova_reserved_host_cpus", {"nova_reserved_host_cpus": 10 ** 6}),
    ("nova_availability_zone", {"nova_availability_zone": "az 1; reboot"}),
    ("nova_aggregates[0].name", {"nova_aggregates": [{"name": "<ssd>", "metadata": {}}]}),
    ("nova_enabled", {"nova_enabled": "perhaps"}),
    ("nova_virt_type", {"nova_virt_type": "xen"}),
]


def test_good_role_variables(tmp_path):
    assert check_compute_variables(GOOD_ROLE)
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd"
    kernel.write_bytes(b"k")
    initrd.write_bytes(b"i")
    assert check_compute_variables(dict(GOOD_ROLE, nova_compute_kvm_probe_kernel=str(kernel),
                                        nova_compute_kvm_probe_initrd=str(initrd)))


@pytest.mark.parametrize("field,override", BAD_ROLE)
def test_bad_role_variable_is_named(field, override):
    refused(field, check_compute_variables, dict(GOOD_ROLE, **override), is_file=lambda path: True)


def test_missing_probe_file_is_named(tmp_path):
    refused("nova_compute_kvm_probe_kernel", check_compute_variables,
            dict(GOOD_ROLE, nova_compute_kvm_probe_kernel=str(tmp_path / "none"),
                 nova_compute_kvm_probe_initrd=str(tmp_path / "none2")))


# ------------------------------------------------------------------ inventory
@pytest.mark.parametrize("hostvars", [
    {"ansible_host": "192.0.2.10"},
    {"ansible_host": "c1", "ansible_user": "ops", "ansible_port": 2222, "ansible_ssh_private_key_file": "/k/id"},
    {"ansible_host": "c1", "nova_libvirt_known_hosts": "/k/known_hosts"},
    {"ansible_host": "c1", "nova_libvirt_known_hosts": "/k/known_hosts", "ansible_private_key_file": "/k/id"},
])
def test_inventory_uris_check_host_keys(hostvars):
    """Point 5: libvirt is reached over SSH with the host key checked; nothing the inventory
    gives turns the check off."""
    uri = libvirt_uri("c1", hostvars)
    assert uri.startswith(("qemu+ssh://", "qemu+libssh2://"))
    assert "no_verify" not in uri and "known_hosts_verify" not in uri
    assert check_uri("uri", uri) == uri
