"""An oversized user data is refused before Ansible builds the module's arguments (issue 14,
item 13): with 100 MB of user data the run costs what loading the variable costs, no more."""

import json
import os
import subprocess
import tempfile

from helpers import PYTHON, ansible_env

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: server
      novalite.compute.nova_server:
        name: nlt-userdata-bound
        image: tiny
        flavor: m1.tiny
        userdata: "{{ %s }}"
        hypervisors: [{name: local, uri: "qemu:///system", storage_pool: nlt_userdata_bound_none}]
        flavors: [{name: m1.tiny, vcpus: 1, ram: 192, disk: 1}]
        images: [{name: tiny, file: "%s"}]
        nics: ["-not-a-network-name"]
      ignore_errors: true
"""
SIZE = 100 * 1000 * 1000
SECRET = "s3cr3t-userdata-"


def run(tmp, variable, image):
    """(task result, peak RSS in KB of the largest process) of the play with userdata `variable`."""
    play = os.path.join(tmp, "play-%s.yml" % variable)
    with open(play, "w") as handle:
        handle.write(PLAY % (variable, image))
    inventory = os.path.join(tmp, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % PYTHON)
    rss = os.path.join(tmp, "rss-%s" % variable)
    proc = subprocess.run(["/usr/bin/time", "-o", rss, "-f", "%M",
                           os.path.join(os.path.dirname(PYTHON), "ansible-playbook"), "--check", "-i", inventory, play,
                           "-e", "@" + os.path.join(tmp, "vars.json")],
                          capture_output=True, text=True, env=ansible_env(), timeout=600, check=False)
    data = json.loads(proc.stdout)
    with open(rss) as handle:
        peak = int(handle.read().split()[-1])
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"], peak, proc.stdout + proc.stderr


def test_100_mb_of_user_data_is_refused_before_the_module_is_built(tiny_image):
    with tempfile.TemporaryDirectory(prefix="novalite-userdata-") as tmp:
        with open(os.path.join(tmp, "vars.json"), "w") as handle:
            json.dump({"big": SECRET + "x" * SIZE, "small": "#!/bin/sh\n"}, handle)
        big, big_peak, output = run(tmp, "big", tiny_image["root"])
        small, small_peak, _output = run(tmp, "small", tiny_image["root"])
    assert big["failed"] is True
    assert big["msg"].startswith("userdata: is %d bytes, %d once base64-encoded, more than Nova's limit of 65535"
                                 % (len(SECRET) + SIZE, 4 * ((len(SECRET) + SIZE + 2) // 3))), big["msg"]
    assert SECRET not in output
    # the small one goes on to the module, which refuses the nics (checked after the user data)
    assert small["failed"] is True and small["msg"].startswith("nics[0].net-name"), small
    # Loading the 100 MB variable costs both runs the same; before this, the module's arguments,
    # their JSON and AnsibleModule's copy of them made the big run's peak about 95 MB higher.
    assert big_peak - small_peak < 40 * 1024, (big_peak, small_peak)
