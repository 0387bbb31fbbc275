# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile inputs the independent check found accepted (issue 14, items 8, 9, 12 and 13): URI
options smuggled in ansible_host, libvirt's test driver, one machine counted twice, unbounded
echoes and lists; and the README's inventory (a ~ key path) accepted."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from urllib.parse import urlsplit

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import hypervisor_options
from ansible_collections.novalite.compute.plugins.module_utils.validation import catalogs, fields, server_request, uri
from ansible_collections.novalite.compute.plugins.plugin_utils.inventory_hypervisors import libvirt_uri


def hv(name, address):
    return fields.check_options("hypervisors", hypervisor_options(), {"name": name, "uri": address})


def test_ansible_host_cannot_carry_uri_options():
    built = libvirt_uri("c1", {"ansible_host": "127.0.0.1/system?no_verify=1&keyfile=", "ansible_user": "root"})
    assert "?" not in built and urlsplit(built).query == "" and urlsplit(built).path == "/system", built
    with pytest.raises(fields.InvalidRequest) as caught:
        uri.check_uri("hypervisors[0].uri", built)
    assert str(caught.value).startswith("hypervisors[0].uri: ") and "not a host name or IP address" in str(caught.value)
    assert libvirt_uri("c1", {"ansible_host": "fe80::1"}) == "qemu+ssh://root@[fe80::1]/system"
    uri.check_uri("u", libvirt_uri("c1", {"ansible_host": "fe80::1"}))


def test_the_readme_key_path_is_expanded_on_the_control_node():
    built = libvirt_uri("c1", {"ansible_host": "192.0.2.11", "ansible_user": "root",
                               "ansible_ssh_private_key_file": "~/.ssh/id_ed25519"})
    assert "keyfile=" + os.path.expanduser("~/.ssh/id_ed25519") in built
    uri.check_uri("hypervisors[0].uri", built)
    relative = libvirt_uri("c1", {"ansible_host": "192.0.2.11", "ansible_ssh_private_key_file": "keys/id"})
    assert "keyfile=" + os.path.abspath("keys/id") in relative


def test_the_test_driver_is_refused():
    with pytest.raises(fields.InvalidRequest) as caught:
        uri.check_uri("uri", "test:///etc/shadow")
    assert str(caught.value).startswith("uri: ") and "scheme 'test'" in str(caught.value)


@pytest.mark.parametrize("second", ["qemu+ssh://root@h1/system", "qemu+libssh2://root@H1./system?sshauth=agent"])
def test_one_machine_is_not_two_hypervisors(second):
    with pytest.raises(fields.InvalidRequest) as caught:
        catalogs.check_catalogs([], [], [hv("a", "qemu+ssh://root@h1/system"), hv("b", second)])
    assert str(caught.value).startswith("hypervisors[1].uri: reaches the same libvirt as hypervisors[0]")
    catalogs.check_catalogs([], [], [hv("a", "qemu+ssh://root@h1/system"), hv("b", "qemu+ssh://root@h2/system")])


def test_refusals_quote_a_bounded_part_of_what_they_refuse():
    with pytest.raises(fields.InvalidRequest) as caught:
        fields.check_name("name", "a" * 10000)
    text = str(caught.value)
    assert text.startswith("name: ") and len(text) < fields.MAX_MESSAGE + 100, len(text)
    assert "characters more" in text


def test_hint_lists_are_bounded_before_they_are_read():
    values = ["%08x-0000-4000-8000-000000000000" % i for i in range(100000)]
    with pytest.raises(fields.InvalidRequest) as caught:
        server_request.check_scheduler_hints({"same_host": values}, {})
    text = str(caught.value)
    assert text.startswith("scheduler_hints.same_host: names 100000 servers; at most") and len(text) < 200
