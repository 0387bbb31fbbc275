"""AWX-style use: an execution environment build context, and a collection playbook run
through ansible-runner the way AWX runs job templates."""

import os
import subprocess

import ansible_runner

from helpers import PYTHON, REPO, collections_path

BIN = os.path.dirname(PYTHON)


def test_ansible_builder_creates_a_context(tmp_path):
    subprocess.run([os.path.join(REPO, "scripts", "install-collection.sh"), str(tmp_path / "installed")],
                   check=True, capture_output=True)
    context = tmp_path / "context"
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml",
                           "--context", str(context)], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recipe = [p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()]
    assert recipe and "ansible-galaxy" in recipe[0].read_text()
    build = context / "_build"
    assert (build / "collections" / "novalite-compute-0.1.0.tar.gz").is_file()
    assert "libvirt-python" in (build / "requirements.txt").read_text()
    assert "libvirt" in (build / "bindep.txt").read_text()
    assert "collections/novalite-compute-0.1.0.tar.gz" in (build / "requirements.yml").read_text()


def test_demo_playbook_through_ansible_runner(conn, tmp_path):
    result = ansible_runner.run(
        private_data_dir=str(tmp_path),
        playbook=os.path.join(REPO, "playbooks", "demo.yml"),
        inventory="localhost ansible_connection=local ansible_python_interpreter=%s" % PYTHON,
        envvars={"ANSIBLE_COLLECTIONS_PATH": collections_path(), "PATH": BIN + os.pathsep + os.environ["PATH"]},
        quiet=True,
    )
    assert result.status == "successful", result.stdout.read()[-3000:]
    booted = [e for e in result.events if e.get("event") == "runner_on_ok"
              and e["event_data"].get("task") == "Boot two servers in one request"]
    servers = booted[0]["event_data"]["res"]["servers"]
    assert [s["status"] for s in servers] == ["ACTIVE", "ACTIVE"]
    assert not [d for d in conn.listAllDomains() if d.name().startswith("demo-")]
