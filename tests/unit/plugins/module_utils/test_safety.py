# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue #4 point 5: XML only from ElementTree, no shell on the path from arguments to libvirt,
secrets marked no_log and kept out of everything but the config drive."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import api
from ansible_collections.novalite.compute.plugins.module_utils.compute import notifications
from ansible_collections.novalite.compute.plugins.module_utils.compute import views
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import config as vconfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive as config_drive
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import check_server_request
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import SchedulerConfig
from ansible_collections.novalite.compute.plugins.modules import nova_server
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.nova_server_args import (
    checked_catalogs, validated)

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(api.__file__)), os.pardir, os.pardir)
DOC_CONSTANTS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def plugin_sources():
    found = []
    for root, _dirs, files in os.walk(os.path.normpath(PLUGINS)):
        found += [os.path.join(root, name) for name in files if name.endswith(".py")]
    assert len(found) >= 20, found
    return sorted(found)


def parse(path):
    with open(path) as handle:
        return ast.parse(handle.read(), path)


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return base + "." + node.attr if base else None
    return None


FORBIDDEN_MODULES = ("subprocess", "pty", "commands", "popen2", "pexpect", "asyncio.subprocess", "shlex")
FORBIDDEN_CALLS = re.compile(r"(^|\.)(system|popen|popen[234]|spawn\w*|exec[lv]p?e?|fork|forkpty|"
                             r"create_subprocess_\w+|run_command|_low_level_execute_command|"
                             r"getstatusoutput|getoutput|check_output|check_call|Popen)$")


@pytest.mark.parametrize("path", plugin_sources(), ids=lambda p: os.path.relpath(p, os.path.normpath(PLUGINS)))
def test_no_shell_and_no_process_on_the_argument_path(path):
    """Nothing in the collection's plugins starts a process or a shell: libvirt is reached only
    through its API (a remote host through libvirt's own qemu+ssh transport)."""
    problems = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            problems += [alias.name for alias in node.names if alias.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                problems.append(node.module)
            if node.module == "os":
                problems += ["os." + a.name for a in node.names if FORBIDDEN_CALLS.search(a.name)]
        elif isinstance(node, ast.Call):
            name = dotted(node.func) or ""
            if FORBIDDEN_CALLS.search(name) or name in ("eval", "exec", "compile", "__import__"):
                problems.append(name)
            problems += ["%s(shell=...)" % name for kw in node.keywords if kw.arg in ("shell", "use_unsafe_shell")]
    assert problems == []


XML_TEXT = re.compile(r"<\s*/?\s*[A-Za-z_][\w:.-]*(\s[^<>]*)?/?>")
# Nova's extra-spec operators (filters.py) look like tags but are compared, never parsed as XML.
EXTRA_SPEC_OPERATORS = ("<in>", "<all-in>", "<or>")


def string_constants(tree):
    """String literals of a module, without docstrings and the DOCUMENTATION/EXAMPLES/RETURN blocks."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in DOC_CONSTANTS
                                                for t in node.targets):
            skip.add(id(node.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


@pytest.mark.parametrize("path", plugin_sources(), ids=lambda p: os.path.relpath(p, os.path.normpath(PLUGINS)))
def test_no_xml_is_pasted_from_strings(path):
    """No string literal of the plugins holds an XML tag: domain, volume, pool, network, DHCP host
    and metadata XML all come from ElementTree, never from a template or string formatting."""
    tree = parse(path)
    pasted = [text for text in string_constants(tree)
              if XML_TEXT.search(text) and text not in EXTRA_SPEC_OPERATORS]
    assert pasted == []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any(n.startswith(("xml.dom", "lxml", "string")) or n == "Template" for n in names), names


def test_libvirt_xml_calls_live_where_elementtree_builds_the_xml():
    """The modules handing XML to libvirt are the ones building it with ElementTree (or, for a
    domain, with the package's one domain XML builder, virt/libvirt/config.py, which does)."""
    calls = re.compile(r"\.(defineXML|createXML|networkDefineXML|storagePoolDefineXML|setMetadata)\(|"
                       r"\.update\(libvirt\.")
    for path in plugin_sources():
        with open(path) as handle:
            text = handle.read()
        if calls.search(text):
            assert "import xml.etree.ElementTree as ET" in text or \
                "virt.libvirt.config import domain_xml" in text, path


HOSTILE = "a\"'<&>]]></name><devices><disk/></devices><!--"


def test_domain_xml_carries_hostile_text_as_text():
    record = {"uuid": "8f2c1f8e-6d0a-4f53-9a40-1d6c8f0e1a11", "name": HOSTILE, "metadata": {HOSTILE: HOSTILE},
              "availability_zone": HOSTILE, "flavor": {"name": HOSTILE}}
    spec = {"name": HOSTILE, "uuid": record["uuid"], "title": HOSTILE, "virt_type": "qemu", "arch": "x86_64",
            "vcpus": 1, "memory_mb": 64, "kernel": "/k/" + HOSTILE, "initrd": "/i", "cmdline": HOSTILE,
            "console_log": "/c/" + HOSTILE, "record": record,
            "disks": [{"path": "/d/" + HOSTILE, "format": "qcow2", "dev": "vda"}],
            "nics": [{"network": HOSTILE, "mac": "fa:16:3e:00:00:01"}]}
    xml = vconfig.domain_xml(spec)
    root = ET.fromstring(xml)
    assert root.find("name").text == HOSTILE and root.find("title").text == HOSTILE
    assert root.find("os/cmdline").text == HOSTILE and root.find("os/kernel").text == "/k/" + HOSTILE
    assert len(root.findall("devices")) == 1 and len(root.findall("devices/disk")) == 1
    assert root.find("devices/disk/source").get("file") == "/d/" + HOSTILE
    assert root.find("devices/interface/source").get("network") == HOSTILE
    assert root.find("devices/serial/source").get("path") == "/c/" + HOSTILE
    assert instance_record.from_domain_xml(xml) == instance_record.from_element(instance_record.to_element(record))
    assert instance_record.from_domain_xml(xml)["metadata"] == {HOSTILE: HOSTILE}


def test_volume_xml_carries_hostile_text_as_text():
    root = ET.fromstring(storage.volume_xml(HOSTILE, 1024, "qcow2", ("/b/" + HOSTILE, "raw")))
    assert root.find("name").text == HOSTILE
    assert root.find("backingStore/path").text == "/b/" + HOSTILE
    assert root.find("target/permissions/mode").text == "0600"
    assert len(list(root)) == 5


class FakeNetwork:
    def __init__(self):
        self.active = False
        self.autostart = None

    def isActive(self):
        return self.active

    def create(self):
        self.active = True

    def setAutostart(self, value):
        self.autostart = value


class FakeConnection:
    def __init__(self):
        self.defined = []

    def networkDefineXML(self, xml):
        self.defined.append(xml)
        return FakeNetwork()


def test_network_xml_from_elementtree_and_large_subnets(monkeypatch):
    monkeypatch.setattr(libvirt_network, "find_network", lambda conn, name: None)
    conn = FakeConnection()
    net = libvirt_network.ensure_network(conn, HOSTILE, "10.0.0.0/8", bridge=HOSTILE)
    root = ET.fromstring(conn.defined[0])
    assert root.find("name").text == HOSTILE and root.find("bridge").get("name") == HOSTILE
    assert root.find("ip").get("address") == "10.0.0.1" and root.find("ip").get("netmask") == "255.0.0.0"
    dhcp = root.find("ip/dhcp/range")
    assert (dhcp.get("start"), dhcp.get("end")) == ("10.0.0.2", "10.255.255.254")
    assert net.active and net.autostart == 1
    libvirt_network.ensure_network(conn, "small", "10.213.7.0/29")
    small = ET.fromstring(conn.defined[1]).find("ip/dhcp/range")
    assert (small.get("start"), small.get("end")) == ("10.213.7.2", "10.213.7.6")


# --------------------------------------------------------------------------- secrets
def test_secret_options_are_no_log():
    spec = nova_server.argument_spec()
    assert spec["admin_password"].get("no_log") is True
    assert spec["userdata"].get("no_log") is True
    assert "no_log: true" not in nova_server.DOCUMENTATION  # documented in prose, options stay plain
    assert "no_log" in nova_server.DOCUMENTATION.split("userdata:")[1].split("admin_password:")[0]


def test_secrets_only_reach_the_config_drive(tmp_path):
    image = tmp_path / "img.qcow2"
    image.write_bytes(b"QFI\xfb" + b"\0" * 60)
    catalogs = checked_catalogs(flavors=[{"name": "m1", "vcpus": 1, "ram": 128, "disk": 1}],
                                images=[{"name": "img", "file": str(image)}],
                                hypervisors=[{"name": "h1", "uri": "qemu:///system"}])
    password, token = "pw-5ecret-0001", "token-5ecret-0002"
    params = {"name": "web1", "image": "img", "flavor": "m1", "min_count": 1, "nics": [], "meta": {"a": "b"},
              "scheduler_hints": {}, "admin_password": password, "userdata": "#!/bin/sh\necho %s\n" % token}
    request = check_server_request(validated(params), catalogs)
    compute_api = api.ComputeAPI(catalogs, SchedulerConfig())
    instance = compute_api._provision_instances(request, ["web1"], 1)[0]
    instance["host"] = "h1"
    stored = instance_record.stored(instance)
    spec = {"name": "web1", "uuid": instance["uuid"], "virt_type": "qemu", "vcpus": 1, "memory_mb": 128,
            "console_log": "/c", "record": stored}
    view = views.server_view(instance)
    everything = json.dumps([stored, view, views.diff_view(view), notifications.notification_payload(instance)])
    everything += vconfig.domain_xml(spec) + instance_record.to_xml(stored)
    assert password not in everything and token not in everything
    if config_drive.HAS_PYCDLIB:
        iso = config_drive.build(instance, {}, request["userdata"], request["admin_password"])
        assert password.encode() in iso and token.encode() in iso
