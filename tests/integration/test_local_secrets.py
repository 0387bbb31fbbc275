"""Issue #4 point 5 on a real create against the local libvirtd: the admin password and the user
data never appear in ansible-playbook's output (even with -vvv), the registered result, the diff,
the notifications or the domain; they are only on the config drive, and every instance file is
readable by its owner only."""

import json
import os
import stat
import subprocess
import uuid

from conftest import catalog
from helpers import PYTHON, SERVER_PLAY, ansible_env, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage

VERBOSE_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: server
      novalite.compute.nova_server: "{{ args }}"
      register: made
      diff: true
    - name: everything registered
      ansible.builtin.debug:
        var: made
"""


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_secrets_stay_on_the_owner_only_config_drive(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    password = "pw-%s" % uuid.uuid4().hex
    token = "token-%s" % uuid.uuid4().hex
    notes = tmp_path / "notifications.jsonl"
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "secret", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}], admin_password=password, key_name="ops",
                userdata="#cloud-config\nchpasswd: {list: 'root:%s'}\n" % token, meta={"role": "vault"},
                notifications_file=str(notes))
    (tmp_path / "play.yml").write_text(VERBOSE_PLAY)
    (tmp_path / "vars.json").write_text(json.dumps({"args": args}))
    (tmp_path / "inventory.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % PYTHON)
    proc = subprocess.run(
        [os.path.join(os.path.dirname(PYTHON), "ansible-playbook"), "-vvv", "--diff",
         "-i", str(tmp_path / "inventory.ini"), str(tmp_path / "play.yml"), "-e", "@" + str(tmp_path / "vars.json")],
        capture_output=True, text=True, env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"}), timeout=600,
        check=False)
    output = proc.stdout + proc.stderr
    try:
        assert proc.returncode == 0, output[-4000:]
        # -vvv printed the module's arguments, with the secrets masked, and the whole result.
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
        assert '"status": "ACTIVE"' in output and '"before"' in output and "compute.instance.create.end" in output
        assert password not in output and token not in output
        for line in notes.read_text().splitlines():
            assert password not in line and token not in line
        assert len(notes.read_text().splitlines()) == 2

        dom = conn.lookupByName(hv.prefix + "secret")
        secure, inactive = connection.libvirt.VIR_DOMAIN_XML_SECURE, connection.libvirt.VIR_DOMAIN_XML_INACTIVE
        for flags in (secure, secure | inactive):  # live and persistent definitions, secrets included
            xml = dom.XMLDesc(flags)
            assert password not in xml and token not in xml
        assert "admin_password" not in json.dumps(instance_record.read_record(dom))

        # The secrets are on the config drive only, and each instance file is the owner's alone.
        pool = hv.pool()
        volumes = dict((vol.name().split(".", 1)[1], vol) for vol in storage.instance_volumes(pool, dom.UUIDString()))
        assert sorted(volumes) == ["console.log", "disk", "disk.config"]
        drive = storage.download_volume(conn, volumes["disk.config"])
        assert password.encode() in drive and token.encode() in drive
        for name, vol in volumes.items():
            assert mode(vol.path()) == 0o600, (name, oct(mode(vol.path())))
        assert mode(hv.pool_path) == 0o700
        cache = conn.storagePoolLookupByName(hv.pool_name + storage.BASE_SUFFIX)
        cache.refresh(0)
        for vol in cache.listAllVolumes(0):
            assert mode(vol.path()) == 0o600, (vol.name(), oct(mode(vol.path())))
        assert mode(storage.pool_path(cache)) == 0o700
    finally:
        gone = run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")}).task("server")
        assert gone.get("failed") is not True, gone
    assert password not in json.dumps(gone) and token not in json.dumps(gone)
    assert hv.leftovers() == []
