"""Hostile and malformed inputs (issue #4, point 4), through real ansible-playbook runs against the
real local libvirtd: every case fails, its message names the offending field, and nothing is
created (no domain, no pool, no volume, no DHCP reservation, no network, no file).

Cases are batched: each case is one host of the inventory (local connection) carrying its
arguments or role variables as host variables, so one ansible-playbook run handles all the
nova_server cases and one all the nova_compute role cases, several hosts at a time."""

import copy
import hashlib
import json
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from conftest import catalog
from helpers import PYTHON, run_playbook_file
from ansible_collections.novalite.compute.plugins.modules import nova_server
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import (
    MAX_USER_DATA_RAW, check_server_request)

DROP = object()  # an override that removes the argument


def server_cases(hv, tiny_image, tmp):
    """(case, overrides of the good nova_server arguments, what the message must start with)."""
    net = hv.network
    gateway = hv.cidr.rsplit(".", 1)[0] + ".1"
    good = catalog(tiny_image)
    images = good["images"]
    tiny = dict(images[2])

    def image(**changes):
        return {"images": images[:2] + [dict(tiny, **changes)]}

    def image_url(url, **extra):
        entry = dict(tiny, url=url, **extra)
        del entry["file"]
        return {"images": images[:2] + [entry]}

    def flavor(**changes):
        return {"flavors": [dict({"name": "m1.tiny", "vcpus": 1, "ram": 192, "disk": 1}, **changes)]}

    def hypervisor(**changes):
        return {"hypervisors": [hv.config(**changes)]}

    def inventory(group):
        return {"hypervisors": DROP, "hypervisor_group": group}

    return [
        # names: XML and shell metacharacters, unicode, over-long, options, paths
        ("name-xml", {"name": "a<b>&c"}, "name:"),
        ("name-shell", {"name": "x; rm -rf /"}, "name:"),
        ("name-subshell", {"name": "$(reboot)"}, "name:"),
        ("name-backtick", {"name": "`id`"}, "name:"),
        ("name-unicode", {"name": "sérveur"}, "name:"),
        ("name-zero-width", {"name": hv.prefix + "web\u200b1"}, "name:"),
        ("name-newline", {"name": hv.prefix + "nl\n"}, "name:"),
        ("name-overlong", {"name": hv.prefix + "a" * 60}, "name:"),
        ("name-option", {"name": "-rf"}, "name:"),
        ("name-dotdot", {"name": "../etc"}, "name:"),
        ("name-empty", {"name": ""}, "name:"),
        ("name-count-overlong", {"name": hv.prefix + "a" * 45, "max_count": 100}, "name:"),
        # catalog references and the catalogs themselves
        ("flavor-unknown", {"flavor": "m1.nope"}, "flavor:"),
        ("flavor-xml", {"flavor": "<flavor/>"}, "flavor:"),
        ("image-unknown", {"image": "nope"}, "image:"),
        ("image-as-path", {"image": "/etc/passwd"}, "image:"),
        ("image-kernel", {"image": "tiny-kernel"}, "image:"),
        ("image-file-dotdot", image(file=os.path.dirname(tiny["file"]) + "/../../../etc/shadow"), "images[2].file:"),
        ("image-file-relative", image(file="tiny-root.qcow2"), "images[2].file:"),
        ("image-file-missing", image(file="/nonexistent/tiny.qcow2"), "images[2].file:"),
        ("image-url-no-host", image_url("http:///tiny.qcow2"), "images[2].url:"),
        ("image-url-option-host", image_url("http://-oProxyCommand=reboot/tiny.qcow2"), "images[2].url:"),
        ("image-url-file-dotdot", image_url("file:///srv/../etc/shadow"), "images[2].url:"),
        ("image-checksum-newline", image_url("http://127.0.0.1:9/x", checksum="a" * 64 + "\n"), "images[2].checksum:"),
        ("image-format", image(disk_format="vmdk; reboot"),
         "value of disk_format must be one of: qcow2, raw, aki, ari, got: vmdk; reboot found in images"),
        ("flavor-ram-negative", flavor(ram=-192), "flavors[0].ram:"),
        ("flavor-ram-huge", flavor(ram=10 ** 12), "flavors[0].ram:"),
        ("flavor-disk-negative", flavor(disk=-1), "flavors[0].disk:"),
        ("flavor-disk-huge", flavor(disk=10 ** 9), "flavors[0].disk:"),
        ("flavor-vcpus-huge", flavor(vcpus=10 ** 6), "flavors[0].vcpus:"),
        ("flavor-swap-negative", flavor(swap=-64), "flavors[0].swap:"),
        ("flavor-name-shell", flavor(name="m1;reboot"), "flavors[0].name:"),
        ("flavor-extra-spec-control", flavor(extra_specs={"hw:cpu": "a\x1b[2J"}), "flavors[0].extra_specs.hw:cpu:"),
        ("keypair-not-a-key", {"keypairs": {"ops": "ssh-ed25519 AAAA x\ncommand=\"reboot\" ssh-rsa AAAA"}},
         "keypairs.ops:"),
        ("server-group-policy", {"server_groups": [{"name": "g", "policy": "random"}]},
         "value of policy must be one of: affinity, anti-affinity, soft-affinity, soft-anti-affinity, "
         "got: random found in server_groups"),
        # counts, sizes and times
        ("min-count-negative", {"min_count": -4}, "min_count:"),
        ("min-count-zero", {"min_count": 0}, "min_count:"),
        ("max-count-huge", {"max_count": 10 ** 7}, "max_count:"),
        ("min-over-max", {"min_count": 3, "max_count": 2}, "min_count:"),
        ("min-count-text", {"min_count": "3; reboot"}, "argument 'min_count' is of type"),
        ("timeout-negative", {"timeout": -1}, "timeout:"),
        ("timeout-huge", {"timeout": 10 ** 9}, "timeout:"),
        ("connect-timeout-zero", {"connect_timeout": 0}, "connect_timeout:"),
        ("config-drive-text", {"config_drive": "maybe"}, "argument 'config_drive' is of type"),
        ("state-unknown", {"state": "rebooted"}, "value of state must be one of"),
        # networks
        ("net-unknown", {"nics": [{"net-name": "no-such-net"}]}, "nics[0].net-name:"),
        ("net-xml", {"nics": [{"net-name": "<net/>"}]}, "nics[0].net-name:"),
        ("net-shell", {"nics": ["%s;reboot" % net]}, "nics[0].net-name:"),
        ("net-unknown-key", {"nics": [{"net-name": net, "port-id": "x"}]}, "nics[0]:"),
        ("fixed-ip-malformed", {"nics": [{"net-name": net, "fixed_ip": "999.1.1.1"}]}, "nics[0].fixed_ip:"),
        ("fixed-ip-outside", {"nics": [{"net-name": net, "fixed_ip": "192.0.2.5"}]}, "nics[0].fixed_ip:"),
        ("fixed-ip-gateway", {"nics": [{"net-name": net, "fixed_ip": gateway}]}, "nics[0].fixed_ip:"),
        ("fixed-ip-count", {"nics": [{"net-name": net, "fixed_ip": gateway[:-1] + "9"}], "max_count": 2}, "nics:"),
        # zones, groups, keys, hints
        ("zone-unknown", {"availability_zone": "nowhere"}, "availability_zone:"),
        ("zone-shell", {"availability_zone": "nova; reboot"}, "availability_zone:"),
        ("key-unknown", {"key_name": "nokey"}, "key_name:"),
        ("group-unknown", {"scheduler_hints": {"group": "nogroup"}}, "scheduler_hints.group:"),
        ("group-list", {"scheduler_hints": {"group": ["g"]}}, "scheduler_hints.group:"),
        ("hint-unknown", {"scheduler_hints": {"force_host": "x"}}, "scheduler_hints.force_host:"),
        ("hint-same-host-xml", {"scheduler_hints": {"same_host": ["a<b>"]}}, "scheduler_hints.same_host:"),
        ("hint-same-host-empty", {"scheduler_hints": {"same_host": []}}, "scheduler_hints.same_host:"),
        ("hints-not-a-dict", {"scheduler_hints": "garbage"}, "argument 'scheduler_hints' is of type"),
        # metadata and user data
        ("meta-value-overlong", {"meta": {"role": "v" * 256}}, "meta.role:"),
        ("meta-key-overlong", {"meta": {"k" * 256: "v"}}, "meta:"),
        ("meta-key-control", {"meta": {"ro\nle": "web"}}, "meta:"),
        ("meta-value-control", {"meta": {"role": "web\x00"}}, "meta.role:"),
        ("meta-too-many", {"meta": dict(("k%d" % i, "v") for i in range(129))}, "meta:"),
        ("meta-nested", {"meta": {"role": {"nested": "dict"}}}, "meta.role:"),
        ("userdata-over-base64-limit", {"userdata": "u" * (MAX_USER_DATA_RAW + 1)}, "userdata:"),
        ("userdata-huge", {"userdata": "u" * 70000}, "userdata:"),
        # hypervisors: URIs, storage, figures
        ("uri-semicolon", hypervisor(uri="qemu+ssh://root@h/system;reboot"), "hypervisors[0].uri:"),
        ("uri-ampersand", hypervisor(uri="qemu+ssh://root@h/system&reboot"), "hypervisors[0].uri:"),
        ("uri-command", hypervisor(uri="qemu+ssh://root@h/system?command=/bin/sh"), "hypervisors[0].uri:"),
        ("uri-ssh-option-host", hypervisor(uri="qemu+ssh://-oProxyCommand=reboot/system"), "hypervisors[0].uri:"),
        ("uri-http", hypervisor(uri="http://h/system"), "hypervisors[0].uri:"),
        ("uri-no-host", hypervisor(uri="qemu+ssh:///system"), "hypervisors[0].uri:"),
        ("uri-keyfile-dotdot", hypervisor(uri="qemu+ssh://root@h/system?keyfile=/root/../etc/shadow"),
         "hypervisors[0].uri:"),
        ("uri-path", hypervisor(uri="qemu:///etc/passwd"), "hypervisors[0].uri:"),
        ("storage-path-dotdot", hypervisor(storage_path=hv.pool_path + "/../../../../etc"), "hypervisors[0].storage_path:"),
        ("storage-path-system", hypervisor(storage_path="/etc"), "hypervisors[0].storage_path:"),
        ("storage-pool-dotdot", hypervisor(storage_pool="../" + hv.pool_name), "hypervisors[0].storage_pool:"),
        ("ratio-negative", hypervisor(cpu_allocation_ratio=-4.0), "hypervisors[0].cpu_allocation_ratio:"),
        ("ratio-nan", hypervisor(ram_allocation_ratio="nan"), "hypervisors[0].ram_allocation_ratio:"),
        ("reserved-negative", hypervisor(reserved_host_memory_mb=-512), "hypervisors[0].reserved_host_memory_mb:"),
        ("hypervisor-name-xml", hypervisor(name="<local/>"), "hypervisors[0].name:"),
        ("hypervisor-zone-shell", hypervisor(availability_zone="az1 && reboot"), "hypervisors[0].availability_zone:"),
        ("hypervisor-virt-type", hypervisor(virt_type="xen"),
         "value of virt_type must be one of: auto, kvm, qemu, got: xen found in hypervisors"),
        ("hypervisor-unknown-key", hypervisor(command="reboot"),
         "Unsupported parameters for (novalite.compute.nova_server) module: hypervisors.command"),
        # hypervisors from the inventory: the message names the host variable too (checked below)
        ("inventory-ratio", inventory("inv_ratio"), "hypervisors[0].cpu_allocation_ratio:"),
        ("inventory-reserved", inventory("inv_reserved"), "hypervisors[0].reserved_host_memory_mb:"),
        ("inventory-uri", inventory("inv_uri"), "hypervisors[0].uri:"),
        ("inventory-ssh-option-host", inventory("inv_host"), "hypervisors[0].uri:"),
        ("inventory-storage-path", inventory("inv_path"), "hypervisors[0].storage_path:"),
        # the rest of the request
        ("project-shell", {"project": "team; reboot"}, "project:"),
        ("quota-negative", {"quotas": {"instances": -5}}, "quotas.instances:"),
        ("quota-unknown", {"quotas": {"floating_ips": 1}},
         "Unsupported parameters for (novalite.compute.nova_server) module: quotas.floating_ips"),
        ("scheduler-filter", {"scheduler": {"enabled_filters": ["EvilFilter"]}}, "scheduler:"),
        ("scheduler-attempts", {"scheduler": {"max_attempts": -1}}, "scheduler:"),
        ("notifications-dotdot", {"notifications_file": str(tmp) + "/../notes.jsonl"}, "notifications_file:"),
        ("notifications-no-dir", {"notifications_file": str(tmp / "missing" / "notes.jsonl")}, "notifications_file:"),
    ]


# hypervisor_group -> (host, its variables, the variable the message must name)
INVENTORY_GROUPS = {
    "inv_ratio": ("bad-ratio", {"ansible_host": "192.0.2.250", "nova_cpu_allocation_ratio": -1},
                  "nova_cpu_allocation_ratio"),
    "inv_reserved": ("bad-reserved", {"ansible_host": "192.0.2.251", "nova_reserved_host_memory_mb": -1},
                     "nova_reserved_host_memory_mb"),
    "inv_uri": ("bad-uri", {"nova_libvirt_uri": "qemu+ssh://root@192.0.2.252/system?netcat=sh"}, "nova_libvirt_uri"),
    "inv_host": ("bad-host", {"ansible_host": "-oProxyCommand=reboot"}, "ansible_host"),
    "inv_path": ("bad-path", {"ansible_host": "192.0.2.253", "nova_compute_storage_path": "/var/lib/../../etc"},
                 "nova_compute_storage_path"),
}

SERVER_PLAY = """
- hosts: server_cases
  gather_facts: false
  tasks:
    - name: server
      novalite.compute.nova_server: "{{ args }}"
      ignore_errors: true
"""
FORKS = {"ANSIBLE_FORKS": "8"}
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": PYTHON}


def inventory_file(tmp, group, cases):
    """An inventory whose group `group` has one local host per case, with the case's variables;
    plus the groups of INVENTORY_GROUPS (never contacted)."""
    children = {group: {"hosts": dict((case, dict(LOCAL, **variables)) for case, variables in cases.items())}}
    for name, (host, variables, _name) in INVENTORY_GROUPS.items():
        children[name] = {"hosts": {host: variables}}
    path = tmp / "inventory.yml"
    path.write_text(json.dumps({"all": {"hosts": {"localhost": LOCAL}, "children": children}}))
    return str(path)


def good_args(hv, tiny_image):
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "good", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}], server_groups=[{"name": "g", "policy": "anti-affinity"}])
    return args


def domains_named(conn, names):
    found = []
    for name in names:
        try:
            if guest.find_domain(conn, name) is not None:
                found.append(name)
        except Exception:  # a name libvirt cannot even look up was not created either
            pass
    return found


def test_hostile_server_inputs_are_refused_before_anything_is_built(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    cases = server_cases(hv, tiny_image, tmp_path)
    assert len(cases) >= 40 and len(set(c[0] for c in cases)) == len(cases)
    base = good_args(hv, tiny_image)
    # The base request is good, so each refusal below is its override's doing: nova_server's
    # argument spec takes it, and so do the checks of the catalogs and the request.
    validated = ArgumentSpecValidator(nova_server.argument_spec()).validate(base)
    assert validated.error_messages == []
    params = validated.validated_parameters
    catalogs = check_catalogs(params["flavors"], params["images"], params["hypervisors"],
                              params["server_groups"], params["keypairs"])
    check_server_request(params, catalogs)
    networks_before = sorted(n.name() for n in conn.listAllNetworks() if hv.tag in n.name())

    arguments = {}
    for case, overrides, _expected in cases:
        args = copy.deepcopy(base)
        args["name"] = hv.prefix + case
        for key, value in overrides.items():
            if value is DROP:
                del args[key]
            else:
                args[key] = value
        arguments[case] = args
    play = tmp_path / "play.yml"
    play.write_text(SERVER_PLAY)
    inventory = inventory_file(tmp_path, "server_cases", dict((case, {"args": args}) for case, args in arguments.items()))
    run = run_playbook_file(str(play), inventory_path=inventory, env=FORKS)

    wrong = []
    for case, overrides, expected in cases:
        result = run.task("server", host=case)
        message = result.get("msg") or ""
        if result.get("failed") is not True or not message.startswith(expected) or result.get("changed"):
            wrong.append((case, expected, result.get("failed"), result.get("changed"), message[:300]))
        if overrides.get("hypervisor_group") in INVENTORY_GROUPS:
            host, _variables, variable = INVENTORY_GROUPS[overrides["hypervisor_group"]]
            if variable not in message or host not in message:
                wrong.append((case, "names %s of %s" % (variable, host), message[:300]))
        if "userdata" in overrides and "uuuuuuuu" in json.dumps(result):
            wrong.append((case, "userdata repeated in the result"))
    assert wrong == [], "\n".join(repr(w) for w in wrong)

    # Nothing was created: no domain, no pool (nor its _base cache), no volume, no DHCP
    # reservation, no network, no notifications file.
    assert hv.leftovers() == []
    assert not [d.name() for d in conn.listAllDomains() if d.name().startswith(hv.prefix)]
    assert domains_named(conn, [args["name"] for args in arguments.values()]) == []
    for pool in (hv.pool_name, hv.pool_name + storage.BASE_SUFFIX):
        assert storage.find_pool(conn, pool) is None, pool
    assert not os.path.exists(hv.pool_path)
    assert sorted(n.name() for n in conn.listAllNetworks() if hv.tag in n.name()) == networks_before
    assert sorted(os.listdir(str(tmp_path))) == ["inventory.yml", "play.yml"]
    assert not os.path.exists(os.path.join(os.path.dirname(str(tmp_path)), "notes.jsonl"))


# ------------------------------------------------------------------ the nova_compute role
def role_cases(hv, tmp):
    """(case, role variables over the defaults, the variable the message must name)."""
    tag = hv.tag
    good_net = {"name": "nlt-%s-r" % tag, "cidr": "10.213.251.0/24"}

    def net(**changes):
        return {"nova_compute_networks": [dict(good_net, **changes)]}

    probe = tmp / "vmlinuz"
    return [
        ("role-net-name-xml", net(name="a<b>&c"), "nova_compute_networks[0].name"),
        ("role-net-name-shell", net(name="n;reboot"), "nova_compute_networks[0].name"),
        ("role-net-name-unicode", net(name="réseau"), "nova_compute_networks[0].name"),
        ("role-net-name-overlong", net(name="n" * 64), "nova_compute_networks[0].name"),
        ("role-net-cidr-malformed", net(cidr="10.213.251.0/33"), "nova_compute_networks[0].cidr"),
        ("role-net-cidr-shell", net(cidr="$(reboot)"), "nova_compute_networks[0].cidr"),
        ("role-net-cidr-huge", net(cidr="0.0.0.0/0"), "nova_compute_networks[0].cidr"),
        ("role-net-cidr-loopback", net(cidr="127.0.0.0/24"), "nova_compute_networks[0].cidr"),
        ("role-net-cidr-tiny", net(cidr="10.213.251.0/30"), "nova_compute_networks[0].cidr"),
        ("role-net-bridge-shell", net(bridge="br0$(id)"), "nova_compute_networks[0].bridge"),
        ("role-net-bridge-overlong", net(bridge="b" * 16), "nova_compute_networks[0].bridge"),
        ("role-net-bridge-newline", net(bridge="nlt%s\n" % tag[:4]), "nova_compute_networks[0].bridge"),
        ("role-net-unknown-key", net(forward="nat"), "nova_compute_networks"),
        ("role-net-missing-cidr", {"nova_compute_networks": [{"name": good_net["name"]}]}, "nova_compute_networks"),
        ("role-net-duplicate", {"nova_compute_networks": [good_net, dict(good_net, cidr="10.213.252.0/24")]},
         "nova_compute_networks[1].name"),
        ("role-net-overlap", {"nova_compute_networks": [good_net, dict(good_net, name=good_net["name"] + "2",
                                                                       cidr="10.213.251.128/25")]},
         "nova_compute_networks[1].cidr"),
        ("role-pool-dotdot", {"nova_compute_storage_pool": "../nlt_" + tag}, "nova_compute_storage_pool"),
        ("role-pool-xml", {"nova_compute_storage_pool": "<pool/>"}, "nova_compute_storage_pool"),
        ("role-path-dotdot", {"nova_compute_storage_path": "/var/lib/novalite/../../../etc"},
         "nova_compute_storage_path"),
        ("role-path-relative", {"nova_compute_storage_path": "novalite/instances"}, "nova_compute_storage_path"),
        ("role-path-system", {"nova_compute_storage_path": "/etc"}, "nova_compute_storage_path"),
        ("role-path-newline", {"nova_compute_storage_path": "/var/lib/novalite/x\n"}, "nova_compute_storage_path"),
        ("role-apt-valid-time-negative", {"nova_compute_apt_cache_valid_time": -1},
         "nova_compute_apt_cache_valid_time"),
        ("role-apt-valid-time-text", {"nova_compute_apt_cache_valid_time": "soon"},
         "nova_compute_apt_cache_valid_time"),
        ("role-virt-type", {"nova_compute_virt_type": "xen"}, "nova_compute_virt_type"),
        ("role-probe-timeout-negative", {"nova_compute_kvm_probe_timeout": -5}, "nova_compute_kvm_probe_timeout"),
        ("role-probe-timeout-huge", {"nova_compute_kvm_probe_timeout": 10 ** 9}, "nova_compute_kvm_probe_timeout"),
        ("role-probe-kernel-dotdot", {"nova_compute_kvm_probe_kernel": str(tmp) + "/../../etc/shadow",
                                      "nova_compute_kvm_probe_initrd": str(probe)}, "nova_compute_kvm_probe_kernel"),
        ("role-probe-kernel-missing", {"nova_compute_kvm_probe_kernel": str(tmp / "missing"),
                                       "nova_compute_kvm_probe_initrd": str(probe)}, "nova_compute_kvm_probe_kernel"),
        ("role-probe-initrd-alone", {"nova_compute_kvm_probe_kernel": str(probe)}, "nova_compute_kvm_probe_initrd"),
        ("role-probe-marker-empty", {"nova_compute_kvm_probe_marker": ""}, "nova_compute_kvm_probe_marker"),
        ("role-qemu-user-injection", {"nova_compute_qemu_user": 'root"\ngroup = "evil'}, "nova_compute_qemu_user"),
        ("role-qemu-group-space", {"nova_compute_qemu_group": "kvm users"}, "nova_compute_qemu_group"),
        ("role-authorized-key-newline", {"nova_compute_authorized_keys": [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2 ops\ncommand=\"reboot\" ssh-rsa AAAA evil"]},
         "nova_compute_authorized_keys[0]"),
        ("role-authorized-key-garbage", {"nova_compute_authorized_keys": ["not a key"]},
         "nova_compute_authorized_keys[0]"),
        ("role-package-option", {"nova_compute_packages": ["-oAPT::Update::Pre-Invoke::=reboot"]},
         "nova_compute_packages[0]"),
        ("role-package-shell", {"nova_compute_packages": ["qemu-utils", "qemu; reboot"]}, "nova_compute_packages[1]"),
        ("role-uri-command", {"nova_libvirt_uri": "qemu+ssh://root@h/system?command=/bin/sh"}, "nova_libvirt_uri"),
        ("role-uri-option-host", {"nova_libvirt_uri": "qemu+ssh://-oProxyCommand=reboot/system"}, "nova_libvirt_uri"),
        ("role-known-hosts-dotdot", {"nova_libvirt_known_hosts": "/root/../etc/ssh/known_hosts"},
         "nova_libvirt_known_hosts"),
        ("role-ratio-negative", {"nova_cpu_allocation_ratio": -1}, "nova_cpu_allocation_ratio"),
        ("role-ratio-nan", {"nova_ram_allocation_ratio": "nan"}, "nova_ram_allocation_ratio"),
        ("role-reserved-negative", {"nova_reserved_host_memory_mb": -512}, "nova_reserved_host_memory_mb"),
        ("role-reserved-cpus-huge", {"nova_reserved_host_cpus": 10 ** 6}, "nova_reserved_host_cpus"),
        ("role-zone-shell", {"nova_availability_zone": "az1; reboot"}, "nova_availability_zone"),
        ("role-aggregate-xml", {"nova_aggregates": [{"name": "<ssd>", "metadata": {}}]}, "nova_aggregates[0].name"),
        ("role-enabled-garbage", {"nova_enabled": "perhaps"}, "nova_enabled"),
    ]


ROLE_PLAY = """
- hosts: role_cases
  gather_facts: false
  tasks:
    - name: role
      block:
        - name: the role
          ansible.builtin.include_role:
            name: novalite.compute.nova_compute
      rescue:
        - name: rescued
          ansible.builtin.debug:
            msg: refused
"""
ARGUMENT_SPEC_TASK = "nova_compute : Validating arguments against arg spec 'main'"
CHECK_TASK = "nova_compute : Check the role's and the host's nova variables"
PLATFORM_TASK = "nova_compute : Check the platform is supported"
WATCHED_FILES = ("/etc/libvirt/qemu.conf", "/root/.ssh/authorized_keys")


def digest(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def tasks_of(run, host):
    """[(task name, result)] of one host, in order."""
    return [(task["task"]["name"], task["hosts"][host]) for play in run.data["plays"]
            for task in play["tasks"] if host in task["hosts"]]


def is_task(name, wanted):
    return wanted in name


def test_hostile_role_variables_are_refused_before_any_change(conn, local_hv, tmp_path):
    """The nova_compute role with one bad variable per case: the argument specs or the role's
    first task refuse it, naming the variable, and no task changes anything. The run is in
    check mode as well, so that a regression could not reconfigure this shared machine."""
    hv = local_hv
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    cases = role_cases(hv, tmp_path)
    assert len(cases) >= 30 and len(set(c[0] for c in cases)) == len(cases)
    before = dict((path, digest(path)) for path in WATCHED_FILES)
    # A control case with good variables: the checks pass, and (facts not gathered) the
    # platform check is the first thing to stop the role.
    cases_and_control = cases + [("role-good-variables", {"nova_compute_networks": [
        {"name": "nlt-%s-r" % hv.tag, "cidr": "10.213.251.0/24", "bridge": "nlt%sr" % hv.tag[:6]}]}, None)]
    play = tmp_path / "play.yml"
    play.write_text(ROLE_PLAY)
    inventory = inventory_file(tmp_path, "role_cases", dict((case, variables) for case, variables, _v in cases_and_control))
    run = run_playbook_file(str(play), inventory_path=inventory, check=True, env=FORKS)

    wrong = []
    refused_by = {ARGUMENT_SPEC_TASK: 0, CHECK_TASK: 0}
    for case, variables, variable in cases_and_control:
        tasks = tasks_of(run, case)
        failed = [(name, result) for name, result in tasks if result.get("failed")]
        changed = [name for name, result in tasks if result.get("changed")]
        if changed:
            wrong.append((case, "changed", changed))
        if len(failed) != 1:
            wrong.append((case, "failed tasks", [name for name, _r in failed]))
            continue
        name, result = failed[0]
        message = result.get("msg") or ""
        if variable is None:  # the control case
            if not is_task(name, PLATFORM_TASK) or \
                    len([n for n, r in tasks if is_task(n, CHECK_TASK) and not r.get("failed")]) != 1:
                wrong.append((case, "control stopped at", name, message[:300]))
            continue
        for task in refused_by:
            refused_by[task] += is_task(name, task)
        if is_task(name, CHECK_TASK):
            if not message.startswith(variable + ":"):
                wrong.append((case, "message", variable, message[:300]))
        elif is_task(name, ARGUMENT_SPEC_TASK):
            if variable not in message:
                wrong.append((case, "argument specs message", variable, message[:300]))
        else:
            wrong.append((case, "stopped late, at", name, message[:300]))
        after = [n for n, _r in tasks[[n for n, _r in tasks].index(name) + 1:]]
        if after != ["rescued"]:
            wrong.append((case, "ran after the refusal", after))
    assert wrong == [], "\n".join(repr(w) for w in wrong)
    # Both guards are exercised: the argument specs (types, choices, network keys) and the checks.
    assert refused_by[ARGUMENT_SPEC_TASK] >= 4 and refused_by[CHECK_TASK] >= 30, refused_by
    assert sum(refused_by.values()) == len(cases)

    # Nothing changed on the machine: none of the networks or pools named, the files the role
    # edits untouched.
    networks, pools = set(), set()
    for _case, variables, _variable in cases_and_control:
        for network in variables.get("nova_compute_networks", []):
            networks.add(network.get("name"))
        if "nova_compute_storage_pool" in variables:
            pools.add(variables["nova_compute_storage_pool"])
    assert [n for n in networks if lookup(libvirt_network.find_network, conn, n)] == []
    assert [p for p in pools | set(p + storage.BASE_SUFFIX for p in pools) if lookup(storage.find_pool, conn, p)] == []
    assert dict((path, digest(path)) for path in WATCHED_FILES) == before


def lookup(find, conn, name):
    try:
        return find(conn, name)
    except Exception:  # libvirt cannot even look the name up: nothing has it
        return None
