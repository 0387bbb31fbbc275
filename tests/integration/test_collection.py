"""The collection as a user gets it: built, installed, documented."""

import os
import re
import subprocess
import tarfile

import yaml

from helpers import PYTHON, REPO

BIN = os.path.dirname(PYTHON)
# Every module of the checkout, so a new one is documented and installed too.
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))


def test_build_install_and_ansible_doc(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", REPO, "--output-path", str(dist)],
                   check=True, capture_output=True)
    tarballs = list(dist.glob("novalite-compute-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(str(tarballs[0])) as tar:
        shipped = set(name.split("/")[0] for name in tar.getnames())
    # Only the collection: no development tools, benchmarks (nor their Nova venv), builds or CI.
    assert shipped.isdisjoint({"benchmarks", "BENCHMARKS.md", "scripts", "build", ".ci"}), sorted(shipped)
    assert not any(name.startswith(".venv") for name in shipped), sorted(shipped)
    assert {"COPYING", "CHANGELOG.rst", "plugins", "roles", "meta", "docs"} <= shipped, sorted(shipped)
    dest = tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarballs[0]), "-p", str(dest)],
                   check=True, capture_output=True)
    installed = dest / "ansible_collections" / "novalite" / "compute"
    assert (installed / "plugins" / "modules" / "nova_server.py").is_file()
    assert (installed / "roles" / "nova_compute" / "meta" / "argument_specs.yml").is_file()
    assert not (installed / ".venv").exists() and not (installed / "build").exists()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_NOCOLOR="1")
    for module in MODULES:
        doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "novalite.compute." + module],
                             check=True, capture_output=True, text=True, env=env).stdout
        assert "OPTIONS" in doc and "EXAMPLES" in doc and "RETURN VALUES" in doc, module
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "role", "novalite.compute.nova_compute"],
                         check=True, capture_output=True, text=True, env=env).stdout
    assert "nova_compute_virt_type" in doc


def test_packaging_checklist():
    """What a collection review asks of the metadata: the license text the headers name, a real
    changelog, no placeholder address, a pinned execution environment base image."""
    with open(os.path.join(REPO, "COPYING")) as handle:
        assert "GNU GENERAL PUBLIC LICENSE" in handle.read(300)
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert not any(".invalid" in str(value) for value in galaxy.values())
    with open(os.path.join(REPO, "CHANGELOG.rst")) as handle:
        assert "v%s" % galaxy["version"] in handle.read()
    with open(os.path.join(REPO, "execution-environment.yml")) as handle:
        image = yaml.safe_load(handle)["images"]["base_image"]["name"]
    assert re.search(r":[0-9][\w.-]*$|@sha256:[0-9a-f]{64}$", image) and not image.endswith(":latest"), image
