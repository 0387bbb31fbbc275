"""Documentation that cannot rot (issue 15, item 11): every snippet of README.md (and of each
role's README.md) and every plugin's EXAMPLES, read from the files at test time
(docs_snippets.py), is run for real, so a snippet that stops working fails the suite.

How each kind runs:
  - tasks (a module's EXAMPLES): all the tasks of one file in one generated play on localhost,
    each with ignore_errors so that every task reports; each must have run without failing.
    The play's inventory is the bed's three hosts, named compute1..compute3 as the examples name
    them, in the group nova_compute, plus localhost (so "the inventory's hypervisors" are the bed).
  - README tasks: the tasks of one block likewise, with the README's inventory (below).
  - playbooks (README): as written, after the substitutions below, with the README's own ini
    inventory (substituted) plus localhost: rc 0 and no failed task. A role's README's playbook
    runs with that inventory too (it targets the group nova_compute the README's declares).
  - inventories: `ansible-inventory --list` (an ini text as is; a nova.yml through the plugin,
    which reads the bed): rc 0 with unparsed sources failing, no hypervisor skipped.
  - sh commands (README): in a copy of the checkout's files (as "a clone of this repository"),
    the commands of one block in one `bash -e`, with ANSIBLE_COLLECTIONS_PATH a fresh directory
    (so `ansible-galaxy collection install` installs there, not in ~/.ansible) and pip kept off
    the network (PIP_NO_INDEX: `pip install -r requirements.txt` checks the venv has them all).
    `inventory.ini` is the README's ini block (substituted); `servers.yml`, which the README does
    not show, is servers_yml() below.

Substitutions, for what the examples name as placeholders (and nothing else):
  - hypervisors: qemu+ssh://root@computeN/system and qemu+ssh://root@192.0.2.1N/system -> the
    bed's host N (its libssh2 URI with the bed's key and known_hosts); ansible_host=192.0.2.1N ->
    host N's address; ~/.ssh/id_ed25519 -> the bed's key; and the ini inventory's
    [nova_compute:vars] gets the bed's host-key settings (BED_VARS_KEPT) appended.
  - images: /srv/images/debian-12.qcow2 -> the tiny image; the catalogs (VARIABLES) name the
    tiny image also as debian-12, the examples' image.
  - networks: the bed has the README's network private (bridge nlbr-private -> the bed's nlpriv0);
    nova_network's examples run on the local libvirtd, where each network name becomes
    nlt-TAG-NAME, its bridge nltTAGn, its cidr a free 10.213.N.0/24.
  - servers: the name (or server) of every nova_server* task (and of servers_yml's) gets the test's
    prefix nlt-TAG- (a UUID or a Jinja expression stays), so the clean-up finds them.
  - files: the KVM probe's /var/lib/novalite/probe/{vmlinuz,initrd.img} -> the tiny image's
    kernel and initramfs (the control node is the local hypervisor); nova_compute_node gets the
    test's own pool and a 10 s KVM probe (the nested KVM here never boots it) through
    module_defaults; ~/.cache/novalite-inventory -> a temporary directory.
  - variables the examples use ("{{ nova_flavors }}" ...): VARIABLES, given as play variables
    and, for the catalogs, through module_defaults for group/novalite.compute.nova.
Everything a source made (servers on the bed, the local pool and networks) is removed when its
test ends, also when a snippet fails, and the test checks that nothing is left.
"""

import json
import os
import re
import shutil
import subprocess
import uuid

import pytest
import yaml

import docs_snippets
from conftest import BED_NETWORK, catalog, free_octet
from helpers import PYTHON, REPO, ansible_env

BIN = os.path.dirname(PYTHON)

# Snippets not executed, each with why; test_skip_list_is_exact checks that this is exactly what
# is skipped, so a new snippet cannot be skipped silently (and a stale entry fails too).
EVACUATE_EXAMPLE = ("name: Evacuate compute2\nnovalite.compute.nova_server_action:\n  action: evacuate\n"
                    "  hypervisors: '{{ nova_hypervisors }}'\n  images: '{{ nova_images }}'\n  source_host: compute2\n")
NOT_RUN = {
    # the demo: installs packages with apt and pip, builds the image, boots two servers on the
    # local hypervisor; tests/integration/test_demo.py runs this very command and checks it
    ("README.md", "scripts/demo.sh"): "run by test_demo.py",
    # the whole test suite, of which this test is part: it would recurse
    ("README.md", "scripts/test.sh"): "the suite itself",
    # about 45 minutes with a test bed of its own, on a quiet machine; [part...] is a placeholder
    ("README.md", "benchmarks/run.sh [part...]"): "the benchmarks",
    # an evacuation needs a host that is down; test_bed_evacuate.py cuts one off and evacuates it
    ("plugins/modules/nova_server_action.py", EVACUATE_EXAMPLE): "needs a host that is down (test_bed_evacuate.py)",
}
# A command that would run the suite, or part of it, must be in NOT_RUN: never run from here.
RECURSES = re.compile(r"scripts/(test|units|sanity|lint|molecule)\.sh|pytest|ansible-test|\.ci/run")


# Variables the examples use, and the servers file the README's site command reads.
def variables(tiny_image, bed_hypervisors):
    data = catalog(tiny_image)
    tiny = next(i for i in data["images"] if i["name"] == "tiny")
    data["images"].append(dict(tiny, name="debian-12"))
    return {
        "nova_flavors": data["flavors"], "nova_images": data["images"], "nova_keypairs": data["keypairs"],
        "nova_hypervisors": bed_hypervisors,
        "nova_compute_storage_path": "/var/lib/novalite/instances",
        "nova_compute_networks": [BED_NETWORK],
    }


def servers_yml(prefix, values):
    return {"nova_servers": [{"name": prefix + "site1", "image": "tiny", "flavor": "m1.tiny",
                              "nics": [{"net-name": BED_NETWORK["name"]}]}],
            "nova_flavors": values["nova_flavors"], "nova_images": values["nova_images"]}


# host variables of the bed's inventory that the README's ini inventory lacks: its host keys
BED_VARS_KEPT = ("ansible_ssh_common_args", "ansible_python_interpreter", "nova_libvirt_known_hosts")
SERVER_MODULE = re.compile(r"^(novalite\.compute\.)?nova_server(_\w+)?$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Context:
    """What one source's snippets run against, and the substitutions that take them there."""

    def __init__(self, conn, local_hv, bed, tiny_image, tmp):
        self.conn, self.hv, self.bed, self.tiny, self.tmp = conn, local_hv, bed, tiny_image, str(tmp)
        self.prefix = local_hv.prefix     # nlt-TAG-: swept from the local host and wiped from the bed
        self.networks = {}                # nova_network name -> local name
        self.cidrs = {}
        hosts = bed.hosts
        self.hypervisors = [{"name": "compute%d" % i, "uri": h["uri"], "virt_type": "qemu"}
                            for i, h in enumerate(hosts, 1)]
        self.values = variables(tiny_image, self.hypervisors)
        self.text_table = [
            (re.compile(r"qemu\+ssh://root@(?:compute|192\.0\.2\.1)(\d)/system"),
             lambda m: hosts[int(m.group(1)) - 1]["uri"]),
            (re.compile(r"\b192\.0\.2\.1(\d)\b"), lambda m: hosts[int(m.group(1)) - 1]["address"]),
            (re.compile(re.escape("~/.ssh/id_ed25519")), lambda m: bed.testbed.key),
            (re.compile(r"\bnlbr-private\b"), lambda m: BED_NETWORK["bridge"]),
            (re.compile(re.escape("/srv/images/debian-12.qcow2")), lambda m: tiny_image["root"]),
            (re.compile(re.escape("/var/lib/novalite/probe/vmlinuz")), lambda m: tiny_image["kernel"]),
            (re.compile(re.escape("/var/lib/novalite/probe/initrd.img")), lambda m: tiny_image["initrd"]),
            (re.compile(re.escape("~/.cache/novalite-inventory")), lambda m: os.path.join(self.tmp, "inv-cache")),
        ]

    # ------------------------------------------------------------------ substitutions
    def text(self, value):
        for pattern, replace in self.text_table:
            value = pattern.sub(replace, value)
        return value

    def data(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return dict((k, self.data(v)) for k, v in value.items())
        return value

    def task(self, task):
        task = self.data(task)
        for key, args in list(task.items()):
            short = key.rsplit(".", 1)[-1]
            if not isinstance(args, dict):
                continue
            for arg in ("name", "server"):
                if SERVER_MODULE.match(key) and isinstance(args.get(arg), str) \
                        and "{{" not in args[arg] and not UUID.match(args[arg]):
                    args[arg] = self.prefix + args[arg]
            if short == "nova_network":
                args.update(self.network_args(args))
        for key in ("block", "rescue", "always"):
            if key in task:
                task[key] = [self.task(t) for t in task[key]]
        return task

    def network_args(self, args):
        """nova_network's example networks, made on the local libvirtd under the test's names."""
        out = {}
        if isinstance(args.get("name"), str):
            original = args["name"]
            index = self.networks.setdefault(original, len(self.networks))
            out["name"] = self.prefix + original
            if args.get("bridge"):
                out["bridge"] = "nlt%s%d" % (self.hv.tag[:8], index)
            if args.get("cidr"):
                if args["cidr"] not in self.cidrs:
                    used = set(self.cidrs.values())
                    octet = free_octet(self.conn)
                    while "10.213.%d.0/24" % octet in used:
                        octet += 1
                    self.cidrs[args["cidr"]] = "10.213.%d.0/24" % octet
                out["cidr"] = self.cidrs[args["cidr"]]
        return out

    def play(self, play):
        play = dict(play)
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            if key in play:
                play[key] = [self.task(t) for t in play[key]]
        return play

    # ------------------------------------------------------------------ inventories
    def bed_inventory(self):
        """The bed's inventory with its hosts named compute1..3, and localhost."""
        with open(self.bed.inventory) as handle:
            text = handle.read()
        for index, host in enumerate(self.bed.hosts, 1):
            text = re.sub(r"^%s " % re.escape(host["name"]), "compute%d " % index, text, flags=re.M)
        return self.localhost() + text

    @staticmethod
    def localhost():
        return "localhost ansible_connection=local ansible_python_interpreter=%s\n\n" % PYTHON

    def ini(self, text):
        """An ini inventory of the README, on the bed: substituted, with the bed's host keys."""
        text = self.text(text)
        with open(self.bed.inventory) as handle:
            kept = [line for line in handle.read().splitlines() if line.split("=", 1)[0] in BED_VARS_KEPT]
        if "[nova_compute:vars]" in text:
            text = text.replace("[nova_compute:vars]\n", "[nova_compute:vars]\n" + "\n".join(kept) + "\n", 1)
        return text

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        return path


def ansible(command, env=None, cwd=None, timeout=900):
    proc = subprocess.run([os.path.join(BIN, command[0])] + command[1:], capture_output=True, text=True,
                          env=ansible_env(env), cwd=cwd, timeout=timeout, check=False)
    return proc


def playbook_json(proc):
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return None


# ---------------------------------------------------------------------- running the kinds
def run_inventory(ctx, snippet, text):
    """ansible-inventory --list of one inventory source: (ok, detail)."""
    name = snippet.filename or "inventory.ini"
    path = ctx.write(os.path.join("inventory-%s" % uuid.uuid4().hex[:6], name), text)
    proc = ansible(["ansible-inventory", "-i", path, "--list"], env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"})
    try:
        data = json.loads(proc.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d))
    except ValueError:
        data = None
    bad = [line for line in proc.stderr.splitlines() if "skipped" in line or "Unable to parse" in line
           or "Failed to parse" in line]
    ok = proc.returncode == 0 and data is not None and not bad
    if snippet.kind == "inventory-ini":
        ok = ok and bool(data["_meta"]["hostvars"])
    return ok, "rc %s %s" % (proc.returncode, proc.stderr[-1500:])


def run_playbook(ctx, plays, inventory_text, extra_vars):
    play_path = ctx.write("play-%s.yml" % uuid.uuid4().hex[:6], yaml.safe_dump(plays, sort_keys=False))
    inv_path = ctx.write("inventory-%s.ini" % uuid.uuid4().hex[:6], inventory_text)
    vars_path = ctx.write("vars-%s.json" % uuid.uuid4().hex[:6], json.dumps(extra_vars))
    return ansible(["ansible-playbook", "-i", inv_path, play_path, "-e", "@" + vars_path])


def task_outcomes(data, names):
    """{task name: (ok, detail)} for the named tasks of a json_results run."""
    results = {}
    for play in (data or {}).get("plays", []):
        for task in play["tasks"]:
            if task["task"]["name"] in names:
                host = task["hosts"].get("localhost")
                if host is None:
                    results[task["task"]["name"]] = (False, "did not run on localhost: %s" % task["hosts"])
                else:
                    bad = host.get("failed") or host.get("unreachable") or host.get("skipped")
                    warnings = "".join("\nwarning: " + w for w in host.get("warnings") or [])
                    results[task["task"]["name"]] = (not bad, "%s%s" % (host.get("msg") or "", warnings))
    return dict((name, results.get(name, (False, "never ran"))) for name in names)


def run_tasks(ctx, snippets, inventory=None):
    """The tasks of one EXAMPLES (or one README block) as one play; {snippet id: (ok, detail)}."""
    tasks, names = [], []
    for index, snippet in enumerate(snippets, 1):
        task = ctx.task(snippet.data)
        task["name"] = "example %d: %s" % (index, task.get("name") or "")
        task["ignore_errors"] = True
        names.append(task["name"])
        tasks.append(task)
    group = {"flavors": "{{ nova_flavors }}", "images": "{{ nova_images }}", "keypairs": "{{ nova_keypairs }}",
             "connect_timeout": 20}
    # nova_compute_node: the test's pool; the nested KVM here never boots the probe, so not 60 s
    node = {"storage_pool": ctx.hv.pool_name, "storage_path": ctx.hv.pool_path, "kvm_probe_timeout": 10}
    play = {"name": snippets[0].source, "hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/novalite.compute.nova": group, "novalite.compute.nova_compute_node": node},
            "tasks": tasks}
    proc = run_playbook(ctx, [play], inventory or ctx.bed_inventory(), ctx.values)
    data = playbook_json(proc)
    if data is None:
        return dict((s.id, (False, "no JSON, rc %s: %s" % (proc.returncode, proc.stderr[-2000:]))) for s in snippets)
    outcomes = task_outcomes(data, names)
    return dict((s.id, outcomes[name]) for s, name in zip(snippets, names))


def readme_inventory(ctx, snippets):
    """The README's one ini inventory, substituted: the inventory of every Markdown file's plays
    (a role's README names the group nova_compute the README's inventory declares)."""
    if not snippets or snippets[0].source != "README.md":
        snippets = docs_snippets.readme_snippets()
    ini = [s for s in snippets if s.kind == "inventory-ini"]
    assert len(ini) == 1, "the README's playbooks and commands use its one ini inventory: %s" % ini
    return ctx.ini(ini[0].text)


def checkout_copy(dest):
    """The checkout's files (tracked and untracked, not ignored), as a clone would have them."""
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(REPO, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(dest, name))
    return dest


def run_sh(ctx, commands, snippets):
    """The commands of one README block in one shell: {snippet id: (ok, detail)}."""
    work = os.path.join(ctx.tmp, "clone")
    if not os.path.isdir(work):
        checkout_copy(work)
        with open(os.path.join(work, "inventory.ini"), "w") as handle:
            handle.write(readme_inventory(ctx, snippets))
        with open(os.path.join(work, "servers.yml"), "w") as handle:
            yaml.safe_dump(servers_yml(ctx.prefix, ctx.values), handle)
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": os.path.join(ctx.tmp, "collections"), "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "True",
                "ANSIBLE_RETRY_FILES_ENABLED": "False", "PATH": BIN + os.pathsep + os.environ.get("PATH", "")})
    for key in ("ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_CALLBACK_PLUGINS"):
        env.pop(key, None)
    outcomes = {}
    for snippet in commands:
        script = "set -euo pipefail\n" + ctx.text(snippet.text) + "\n"
        proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                              timeout=1200, check=False)
        detail = "rc %s\n%s\n%s" % (proc.returncode, proc.stdout[-2500:], proc.stderr[-2500:])
        outcomes[snippet.id] = (proc.returncode == 0, detail)
        if proc.returncode != 0:
            break       # the later commands of the block depend on this one
    for snippet in commands:
        outcomes.setdefault(snippet.id, (False, "not run: an earlier command of its block failed"))
    return outcomes


def run_readme(ctx, snippets):
    outcomes = {}
    inventory = readme_inventory(ctx, snippets)
    blocks = {}
    for snippet in snippets:
        if snippet.kind == "sh":
            blocks.setdefault(snippet.block, []).append(snippet)
    done_blocks = set()
    for snippet in snippets:
        if (snippet.source, snippet.text) in NOT_RUN:
            continue
        if snippet.kind == "inventory-ini":
            outcomes[snippet.id] = run_inventory(ctx, snippet, inventory)
        elif snippet.kind == "inventory-plugin":
            outcomes[snippet.id] = run_inventory(ctx, snippet, ctx.text(snippet.text))
        elif snippet.kind == "playbook":
            plays = [ctx.play(p) for p in snippet.data]
            proc = run_playbook(ctx, plays, Context.localhost() + inventory, ctx.values)
            data = playbook_json(proc)
            failures = [(t["task"]["name"], h, r.get("msg")) for p in (data or {}).get("plays", [])
                        for t in p["tasks"] for h, r in t["hosts"].items() if r.get("failed") or r.get("unreachable")]
            outcomes[snippet.id] = (proc.returncode == 0 and data is not None and not failures,
                                    "rc %s %s %s" % (proc.returncode, failures, proc.stderr[-2000:]))
        elif snippet.kind == "task" and snippet.block not in done_blocks:
            done_blocks.add(snippet.block)
            tasks = [s for s in snippets if s.kind == "task" and s.block == snippet.block]
            outcomes.update(run_tasks(ctx, tasks, Context.localhost() + inventory))
        elif snippet.kind == "sh" and snippet.block not in done_blocks:
            done_blocks.add(snippet.block)
            commands = [s for s in blocks[snippet.block] if (s.source, s.text) not in NOT_RUN]
            for command in commands:
                assert not RECURSES.search(command.text), "%s would run the suite: list it in NOT_RUN" % command.id
            outcomes.update(run_sh(ctx, commands, snippets))
        elif snippet.kind not in ("sh", "task"):
            outcomes[snippet.id] = (False, "no way to run a snippet of kind %s" % snippet.kind)
    return outcomes


def run_plugin(ctx, snippets):
    outcomes = {}
    tasks = [s for s in snippets if s.kind == "task" and (s.source, s.text) not in NOT_RUN]
    if tasks:
        outcomes.update(run_tasks(ctx, tasks))
    for snippet in snippets:
        if snippet.kind == "inventory-plugin":
            outcomes[snippet.id] = run_inventory(ctx, snippet, ctx.text(snippet.text))
        elif snippet.kind != "task":
            outcomes[snippet.id] = (False, "no way to run a snippet of kind %s" % snippet.kind)
    return outcomes


def run_source(ctx, source):
    """Run the snippets of one file, read now: (the snippets, {snippet id: (ok, detail)} of those run)."""
    if source.endswith(".md"):
        snippets = docs_snippets.readme_snippets(source)
        return snippets, run_readme(ctx, snippets)
    snippets = docs_snippets.plugin_snippets(source)
    return snippets, run_plugin(ctx, snippets)


def clean(ctx):
    """Remove what the source's snippets made: servers named with the prefix on the bed (and their
    volumes and DHCP reservations) and networks (an example of nova_network naming a hypervisor);
    the local pool and networks go with local_hv's teardown."""
    ctx.bed.wipe(ctx.prefix)
    for index in range(1, len(ctx.bed.hosts) + 1):
        conn = ctx.bed.conn(index)
        try:
            for net in conn.listAllNetworks():
                if net.name().startswith(ctx.prefix):
                    if net.isActive():
                        net.destroy()
                    net.undefine()
        finally:
            conn.close()


def leftovers(ctx):
    left = ctx.bed.leftovers(ctx.prefix) + ctx.hv.leftovers()
    for index in range(1, len(ctx.bed.hosts) + 1):
        conn = ctx.bed.conn(index)
        try:
            left += ["bed network " + n.name() for n in conn.listAllNetworks() if n.name().startswith(ctx.prefix)]
        finally:
            conn.close()
    left += ["local network " + n.name() for n in ctx.conn.listAllNetworks()
             if n.name().startswith(ctx.prefix)]
    left += ["local domain " + d.name() for d in ctx.conn.listAllDomains() if d.name().startswith(ctx.prefix)]
    return left


SOURCES = docs_snippets.markdown_sources() + docs_snippets.plugin_sources()


def test_skip_list_is_exact():
    """NOT_RUN names exactly the snippets not run: each is a snippet that exists, and nothing
    else is left out (every other snippet is of a kind the runner runs)."""
    found = docs_snippets.all_snippets()
    skipped = set((s.source, s.text) for s in found if (s.source, s.text) in NOT_RUN)
    assert skipped == set(NOT_RUN), "NOT_RUN names snippets that are gone: %s" % (set(NOT_RUN) - skipped)
    runnable = ("sh", "playbook", "inventory-ini", "inventory-plugin", "task")
    assert [s.id for s in found if s.kind not in runnable] == []
    for snippet in found:
        if snippet.kind == "sh" and (snippet.source, snippet.text) not in NOT_RUN:
            assert not RECURSES.search(snippet.text), snippet.id
    # every module's EXAMPLES is found (a new module's too), and the inventory plugin's
    modules = sorted(os.path.splitext(p)[0] for p in os.listdir(os.path.join(REPO, "plugins", "modules"))
                     if p.endswith(".py"))
    sources = set(os.path.splitext(os.path.basename(s))[0] for s in SOURCES if s.startswith("plugins/modules/"))
    assert sources == set(modules)
    assert "plugins/inventory/nova.py" in SOURCES


@pytest.mark.parametrize("source", SOURCES)
def test_snippets_run(source, conn, local_hv, bed, tiny_image, tmp_path):
    ctx = Context(conn, local_hv, bed, tiny_image, tmp_path)
    try:
        found, outcomes = run_source(ctx, source)
    finally:
        clean(ctx)
    failed = dict((ident, detail) for ident, (ok, detail) in outcomes.items() if not ok)
    # every snippet of the file ran, or is in NOT_RUN
    assert sorted(outcomes) == sorted(s.id for s in found if (s.source, s.text) not in NOT_RUN)
    assert outcomes, "no snippet of %s ran" % source
    assert failed == {}, "\n\n".join("%s:\n%s" % item for item in failed.items())
    local_hv.teardown()
    assert leftovers(ctx) == []
