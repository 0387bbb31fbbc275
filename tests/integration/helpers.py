"""Run the collection the way a user does: ansible-playbook, with the collection on its path."""

import json
import os
import subprocess
import sys
import tempfile
import zlib
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = sys.executable


def collections_path():
    """A directory holding ansible_collections/novalite/compute -> this checkout."""
    root = os.path.join(tempfile.gettempdir(), "novalite-collections-%d-%s"
                        % (os.getuid(), zlib.crc32(REPO.encode()) & 0xffffffff))
    link = os.path.join(root, "ansible_collections", "novalite", "compute")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return root


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_STDOUT_CALLBACK": "json_results",
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "tests", "integration", "callback"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": os.path.dirname(PYTHON) + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


class PlaybookResult:
    def __init__(self, proc, elapsed):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.elapsed = elapsed
        try:
            self.data = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON (rc %s):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))

    def task(self, name, host="localhost"):
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name and host in task["hosts"]:
                    return task["hosts"][host]
        raise KeyError("no task %r for %s" % (name, host))

    def failures(self):
        """(task, host, message) of every failed task, for assertion messages."""
        found = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                for host, result in task["hosts"].items():
                    if result.get("failed") or result.get("unreachable"):
                        found.append((task["task"]["name"], host, result.get("msg")))
        return found

    @property
    def stats(self):
        return self.data["stats"]


def run_playbook_file(path, extra_vars=None, inventory_path=None, timeout=900, check=False, env=None):
    """Run a playbook file against an inventory file; returns a PlaybookResult.
    `env`: extra environment variables (ANSIBLE_FORKS...)."""
    with tempfile.TemporaryDirectory(prefix="novalite-play-") as tmp:
        cmd = [os.path.join(os.path.dirname(PYTHON), "ansible-playbook"), "-i", inventory_path, path]
        if extra_vars:
            vars_file = os.path.join(tmp, "vars.json")
            with open(vars_file, "w") as handle:
                json.dump(extra_vars, handle)
            cmd += ["-e", "@" + vars_file]
        if check:
            cmd.append("--check")
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env), timeout=timeout,
                              check=False)
        return PlaybookResult(proc, time.monotonic() - start)


def run_playbook(playbook_text, extra_vars=None, check=False, inventory=None, timeout=900):
    """Run playbook text against `inventory` text (default: localhost with this Python)."""
    with tempfile.TemporaryDirectory(prefix="novalite-play-") as tmp:
        play = os.path.join(tmp, "play.yml")
        with open(play, "w") as handle:
            handle.write(playbook_text)
        inv = os.path.join(tmp, "inventory.ini")
        with open(inv, "w") as handle:
            handle.write(inventory or ("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                       % PYTHON))
        return run_playbook_file(play, extra_vars, inv, timeout, check)


# One nova_server task taking all of its arguments from the variable `args`.
SERVER_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: server
      novalite.compute.nova_server: "{{ args }}"
      ignore_errors: true
"""
