"""The snippets of the documentation, read from the files themselves: every fenced code block of
README.md (and of each role's README.md), and the EXAMPLES of every plugin of the collection that has them (plugins/*/*.py, so a
new module's examples are found without a change here). Pure text work, no I/O beyond reading;
tests/integration/test_docs_snippets.py runs them.

A snippet is one thing a reader would run:
  - README.md: a ```yaml block (a playbook, an inventory source of the nova inventory plugin, or
    tasks: each task a snippet, the tasks of one block run as one play),
    an ```ini block (an inventory), each command of a ```sh block (comments dropped, backslash
    continuations joined; the commands of one block run in order in one shell);
  - a module's EXAMPLES: each task (the tasks of one file run as one play);
  - an inventory plugin's EXAMPLES: each inventory file. Files are introduced by a comment line
    naming them (`# inventory/NAME.yml`); a file shown commented out (its lines `# plugin: ...`
    onwards, kept as comments because two files in one YAML document would duplicate keys) is
    uncommented.
"""

import ast
import glob
import os
import re

import yaml

from helpers import REPO

# a fence may be indented (a block inside a list item): its lines lose that indentation
FENCE = re.compile(r"^([ \t]*)```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)^\1```[ \t]*$", re.M | re.S)
ANY_FENCE = re.compile(r"^[ \t]*```", re.M)


class Snippet:
    """kind: playbook, tasks-task, inventory-ini, inventory-plugin, sh. `id` names it in reports:
    the file, its line (README) or task number, and its first words."""

    def __init__(self, source, kind, text, ident, data=None, filename=None, block=None):
        self.source = source          # README.md, plugins/modules/nova_server.py ...
        self.kind = kind
        self.text = text
        self.id = ident
        self.data = data              # parsed YAML where there is some
        self.filename = filename      # an inventory source's file name
        self.block = block            # sh: the block's index, commands of one block share a shell

    def __repr__(self):
        return "<Snippet %s>" % self.id


def sh_commands(text):
    """The commands of a shell block: comments and blank lines dropped, continuations joined."""
    commands, current = [], ""
    for line in text.splitlines():
        stripped = re.sub(r"(^|\s)#.*$", "", line).rstrip()
        if not stripped.strip():
            if current:
                commands.append(current.strip())
                current = ""
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        commands.append((current + stripped).strip())
        current = ""
    if current:
        commands.append(current.strip())
    return commands


def readme_snippets(relpath="README.md"):
    """The snippets of a Markdown file: README.md, or a role's README."""
    path = os.path.join(REPO, relpath)
    with open(path) as handle:
        text = handle.read()
    found = []
    blocks = list(FENCE.finditer(text))
    if len(ANY_FENCE.findall(text)) != 2 * len(blocks):
        raise ValueError("%s: %d fence lines for %d fenced blocks (an unclosed or unmatched fence)"
                         % (path, len(ANY_FENCE.findall(text)), len(blocks)))
    for block, match in enumerate(blocks):
        indent, lang = match.group(1), match.group(2).lower()
        body = "".join(line[len(indent):] if line.startswith(indent) else line
                       for line in match.group(3).splitlines(True))
        line = text.count("\n", 0, match.start()) + 1
        where = "%s:%d" % (relpath, line)
        if lang in ("sh", "bash", "shell", "console"):
            for command in sh_commands(body):
                found.append(Snippet(relpath, "sh", command, "%s sh: %s" % (where, command), block=block))
        elif lang in ("yaml", "yml"):
            data = yaml.safe_load(body)
            if isinstance(data, dict) and "plugin" in data:
                found.append(Snippet(relpath, "inventory-plugin", body, "%s inventory %s" % (where, data["plugin"]),
                                     data=data, filename=_inventory_name(body) or "nova.yml"))
            elif isinstance(data, list) and data and all(isinstance(p, dict) and ("hosts" in p or "import_playbook" in p
                                                                                  or "ansible.builtin.import_playbook" in p)
                                                         for p in data):
                found.append(Snippet(relpath, "playbook", body, "%s playbook" % where, data=data))
            elif isinstance(data, list) and data and all(isinstance(t, dict) for t in data):
                for index, task in enumerate(data, 1):
                    found.append(Snippet(relpath, "task", yaml.safe_dump(task), "%s task %d: %s"
                                         % (where, index, _task_label(task)), data=task, block=block))
            else:
                found.append(Snippet(relpath, "unknown", body, "%s yaml (not a playbook, tasks or an inventory)"
                                     % where))
        elif lang == "ini":
            found.append(Snippet(relpath, "inventory-ini", body, "%s ini inventory" % where))
        else:
            found.append(Snippet(relpath, "unknown", body, "%s %s block" % (where, lang or "unlabelled")))
    return found


def _task_label(task):
    return task.get("name") or next((k for k in task if "." in k), "task")


def _inventory_name(text):
    match = re.search(r"^#\s*(?:\S*/)?([\w.-]+\.ya?ml)\b", text, re.M)
    return match.group(1) if match else None


def examples_of(path):
    """The EXAMPLES string literal of a plugin file, or None (read with ast: nothing is imported)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def inventory_files(text):
    """[(file name, YAML text)] of an inventory plugin's EXAMPLES (see the module docstring)."""
    files, current, name, commented = [], [], None, False
    lines = text.strip("\n").splitlines()

    def close():
        body = "\n".join(current).strip("\n")
        if body.strip():
            files.append((name or "nova.yml", body + "\n"))

    for line in lines:
        header = re.match(r"^#\s*(?:\S*/)?([\w.-]+\.ya?ml)\b", line)
        if header and not re.match(r"^#\s*\w+:", line):
            close()
            current, name, commented = [], header.group(1), False
            continue
        if commented:
            if line.startswith("#"):
                current.append(re.sub(r"^# ?", "", line))
                continue
            close()
            current, name, commented = [], None, False
        if re.match(r"^#\s*plugin:", line) and not any(l.strip() and not l.startswith("#") for l in current):
            current, commented = [re.sub(r"^# ?", "", line)], True
            continue
        if line.startswith("#") and not current:
            continue   # prose before a file
        current.append(line)
    close()
    return files


def plugin_sources():
    """Every plugin file with EXAMPLES, sorted: plugins/modules/*.py, plugins/inventory/*.py, ..."""
    paths = sorted(glob.glob(os.path.join(REPO, "plugins", "*", "*.py")))
    return [os.path.relpath(p, REPO) for p in paths if examples_of(p) is not None]


def plugin_snippets(relpath):
    text = examples_of(os.path.join(REPO, relpath))
    kind = relpath.split(os.sep)[1]
    stem = os.path.splitext(os.path.basename(relpath))[0]
    found = []
    if kind == "inventory":
        for index, (name, body) in enumerate(inventory_files(text), 1):
            found.append(Snippet(relpath, "inventory-plugin", body, "%s EXAMPLES file %d (%s)" % (stem, index, name),
                                 data=yaml.safe_load(body), filename=name))
        return found
    tasks = yaml.safe_load(text) or []
    if not isinstance(tasks, list):
        return [Snippet(relpath, "unknown", text, "%s EXAMPLES (not a list of tasks)" % stem)]
    for index, task in enumerate(tasks, 1):
        found.append(Snippet(relpath, "task", yaml.safe_dump(task), "%s EXAMPLES task %d: %s"
                             % (stem, index, _task_label(task)), data=task))
    return found


def markdown_sources():
    """README.md and each role's README.md."""
    roles = sorted(glob.glob(os.path.join(REPO, "roles", "*", "README.md")))
    return ["README.md"] + [os.path.relpath(p, REPO) for p in roles]


def all_snippets():
    found = []
    for relpath in markdown_sources():
        found += readme_snippets(relpath)
    for relpath in plugin_sources():
        found += plugin_snippets(relpath)
    return found
