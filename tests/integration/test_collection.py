"""The collection as a user gets it: built, installed, documented."""

import os
import subprocess

from helpers import PYTHON, REPO

BIN = os.path.dirname(PYTHON)
MODULES = ["nova_server", "nova_host_facts", "nova_network", "nova_compute_node", "nova_image_cache",
           "nova_compute_validate"]


def test_build_install_and_ansible_doc(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", REPO, "--output-path", str(dist)],
                   check=True, capture_output=True)
    tarballs = list(dist.glob("novalite-compute-*.tar.gz"))
    assert len(tarballs) == 1
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
