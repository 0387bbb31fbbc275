"""Run the collection the way a user does: ansible-playbook, with the collection on its path."""

import json
import os
import signal
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

    def changed(self):
        """(task, host, result) of every task that reported a change."""
        return [(task["task"]["name"], host, result) for play in self.data["plays"] for task in play["tasks"]
                for host, result in task["hosts"].items() if result.get("changed")]

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
# The local hypervisor's instance storage pool, made by nova_compute_node.
PREPARE_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: prepare
      novalite.compute.nova_compute_node:
        storage_pool: "{{ pool }}"
        storage_path: "{{ path }}"
        virt_type: qemu
"""
FACTS_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      novalite.compute.nova_host_facts:
        hypervisors: "{{ args }}"
"""


def start_playbook(tmp, index, args, playbook=SERVER_PLAY, inventory=None):
    """An ansible-playbook process running `playbook` with the variable `args`, not yet waited
    for, in a session of its own (kill_playbook stops it with everything it started)."""
    play = os.path.join(tmp, "play-%d.yml" % index)
    with open(play, "w") as handle:
        handle.write(playbook)
    inv = os.path.join(tmp, "inventory-%d.ini" % index)
    with open(inv, "w") as handle:
        handle.write(inventory or ("localhost ansible_connection=local ansible_python_interpreter=%s\n" % PYTHON))
    variables = os.path.join(tmp, "vars-%d.json" % index)
    with open(variables, "w") as handle:
        json.dump({"args": args}, handle)
    return subprocess.Popen([os.path.join(os.path.dirname(PYTHON), "ansible-playbook"), "-i", inv, play,
                             "-e", "@" + variables], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ansible_env(), start_new_session=True)


def server_result(proc, task="server", host="localhost"):
    """The result of the task named `task` of a started playbook, once it ends."""
    out, err = proc.communicate(timeout=900)
    try:
        data = json.loads(out)
    except ValueError:
        raise AssertionError("no JSON (rc %s): %s %s" % (proc.returncode, out[-2000:], err[-2000:]))
    for play in data["plays"]:
        for entry in play["tasks"]:
            if entry["task"]["name"] == task and host in entry["hosts"]:
                return entry["hosts"][host]
    raise AssertionError("no task %r: %s" % (task, err[-2000:]))


def _process_tree(root):
    """root and all its descendants (from /proc), whatever their process group or session."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def kill_when(proc, reached, timeout=120, every=0.02):
    """kill_playbook once reached() returns a true value (polled while the run goes on; a libvirt
    error, the run changing what is read, counts as not yet): that value, or a false one when the run
    ended or `timeout` passed first (killed all the same)."""
    import libvirt
    deadline = time.monotonic() + timeout
    seen = None
    while not seen and time.monotonic() < deadline and proc.poll() is None:
        try:
            seen = reached()
        except libvirt.libvirtError:
            seen = None
        time.sleep(every)
    kill_playbook(proc)
    return seen


def kill_playbook(proc):
    """SIGKILL a started playbook and every process under it (workers, the module, ssh):
    stopped first, so none can fork or be re-parented away before the kill."""
    stopped = set()
    while True:
        tree = set(_process_tree(proc.pid)) - stopped
        if not tree:
            break
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= tree
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()
