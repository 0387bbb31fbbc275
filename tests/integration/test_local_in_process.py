"""The nova_server and nova_host_facts actions run the module's main() in their own process when
the module would run on the control node in the same Python (plugin_utils/module_action.py),
and the module otherwise (here: a task environment). Both ways, on the real local libvirtd
through ansible-playbook, give the same result for the same arguments: for nova_server a
check-mode create, refusals of the argument spec (missing, wrong type, unknown, a choice) and of
the request, with a secret among the arguments; for nova_host_facts the facts and a refusal."""

import json
import os
import sys

from conftest import catalog
from helpers import PREPARE_PLAY, run_playbook, run_playbook_file

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: in process
      novalite.compute.nova_server: "{{ item }}"
      loop: "{{ cases }}"
      check_mode: true
      ignore_errors: true
    - name: module
      novalite.compute.nova_server: "{{ item }}"
      loop: "{{ cases }}"
      check_mode: true
      ignore_errors: true
      environment:
        NOVALITE_TEST_PATH: module
"""


def without(data, *keys):
    return dict((key, value) for key, value in data.items() if key not in keys)


def comparable(result):
    """The result without what differs from run to run: the loop item, each server's new uuid,
    reservation id and creation time."""
    text = json.dumps(without(result, "item"), sort_keys=True)
    for server in result.get("servers") or ():
        for key in ("id", "reservation_id", "created_at"):
            text = text.replace(server[key], "(%s)" % key)
    return json.loads(text)


def test_in_process_and_module_agree(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    good = catalog(tiny_image)
    good.update(name=hv.prefix + "agree", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}], admin_password="pw-in-process-secret")
    cases = [
        good,
        without(good, "name"),
        dict(good, min_count="several"),
        dict(good, bogus_option=1),
        dict(good, state="gone"),
        dict(good, name="a<b>"),
        dict(good, flavor="m1.none"),
    ]
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "inventory.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    remote = tmp_path / "remote"
    run_playbook(PREPARE_PLAY, {"pool": hv.pool_name, "path": hv.pool_path})
    variables = {"cases": cases}
    result = run_playbook_file(str(tmp_path / "play.yml"), variables, str(tmp_path / "inventory.ini"),
                               env={"ANSIBLE_REMOTE_TMP": str(remote), "ANSIBLE_KEEP_REMOTE_FILES": "1"})
    assert result.rc == 0, result.stderr[-3000:]
    in_process = result.task("in process")["results"]
    module = result.task("module")["results"]
    assert len(in_process) == len(module) == len(cases)

    # Only the module task put a module payload on the target (its loop shares one directory).
    payloads = [root for root, _dirs, files in os.walk(str(remote)) if "AnsiballZ_nova_server.py" in files]
    assert len(payloads) == 1, payloads

    for case, ours, theirs in zip(cases, in_process, module):
        assert comparable(ours) == comparable(theirs), case
    assert not in_process[0].get("failed"), in_process[0]
    assert [s["name"] for s in in_process[0]["servers"]] == [hv.prefix + "agree"], in_process[0]
    messages = [r.get("msg", "") for r in in_process[1:]]
    assert "missing required arguments: name" in messages[0]
    assert "min_count" in messages[1] and "int" in messages[1]
    assert messages[2].startswith("Unsupported parameters for (novalite.compute.nova_server) module: bogus_option")
    assert "state" in messages[3] and "one of: present, absent" in messages[3]
    assert messages[4].startswith("name:")
    assert messages[5].startswith("flavor:")
    # The secret is masked in both (the loop item and its label, Ansible's own, show it unless the
    # task is no_log).
    assert "pw-in-process-secret" not in json.dumps([without(r, "item", "_ansible_item_label")
                                                     for r in in_process + module])
    assert in_process[0]["invocation"]["module_args"]["admin_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert not [d for d in conn.listAllDomains() if d.name().startswith(hv.prefix)]
    assert hv.leftovers() == []


FACTS_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: in process
      novalite.compute.nova_host_facts:
        hypervisors: "{{ hypervisors }}"
    - name: module
      novalite.compute.nova_host_facts:
        hypervisors: "{{ hypervisors }}"
      environment:
        NOVALITE_TEST_PATH: module
    - name: refused in process
      novalite.compute.nova_host_facts:
        uri: "qemu:///system'"
      ignore_errors: true
    - name: refused as a module
      novalite.compute.nova_host_facts:
        uri: "qemu:///system'"
      ignore_errors: true
      environment:
        NOVALITE_TEST_PATH: module
"""


def test_host_facts_in_process_and_module_agree(conn, local_hv, tmp_path):
    hv = local_hv
    (tmp_path / "play.yml").write_text(FACTS_PLAY)
    (tmp_path / "inventory.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    remote = tmp_path / "remote"
    result = run_playbook_file(str(tmp_path / "play.yml"), {"hypervisors": [hv.config()]},
                               str(tmp_path / "inventory.ini"),
                               env={"ANSIBLE_REMOTE_TMP": str(remote), "ANSIBLE_KEEP_REMOTE_FILES": "1"})
    assert result.rc == 0, result.stderr[-3000:]
    ours, theirs = result.task("in process"), result.task("module")
    assert ours["ansible_facts"]["nova_hosts"]["local"]["up"] is True, ours
    assert ours == theirs
    refused, refused_module = result.task("refused in process"), result.task("refused as a module")
    assert refused["failed"] is True and refused["msg"].startswith("uri:"), refused
    assert refused == refused_module
    payloads = [root for root, _dirs, files in os.walk(str(remote)) if "AnsiballZ_nova_host_facts.py" in files]
    assert len(payloads) == 2, payloads
