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


def test_demo_playbook_through_ansible_runner(conn, default_pool_cleanup, tmp_path):
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


def test_capacity_report_renders_in_a_headless_browser(conn, local_hv, tiny_image, tmp_path):
    import re
    import shutil
    from conftest import catalog
    from helpers import SERVER_PLAY, run_playbook, run_playbook_file

    hv = local_hv
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "cap", image="tiny", flavor="m1.small", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}])
    assert run_playbook(SERVER_PLAY, {"args": args}).task("server")["server"]["status"] == "ACTIVE"
    report = tmp_path / "capacity.html"
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % PYTHON)
    run = run_playbook_file(os.path.join(REPO, "playbooks", "capacity_report.yml"),
                            {"nova_hypervisors": [hv.config()], "nova_capacity_report": str(report)},
                            inventory_path=str(inventory))
    table = run.task("Capacity table")["msg"]
    assert table[0].split()[:2] == ["hypervisor", "zone"] and table[1].split()[0] == "local"
    html = report.read_text()
    assert not re.search(r"(src|href)=\"?(https?:)?//", html), "the page must need no network"

    browser = shutil.which("chromium")
    assert browser, "chromium is installed by scripts/setup-host.sh"
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + str(tmp_path / "profile"), "--window-size=1000,400"]
    dom = subprocess.run(flags + ["--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert 'data-host="local"' in dom
    widths = dict(re.findall(r'data-resource="(\w+)"><div class="fill[^"]*" style="width: ([\d.]+)%', dom))
    assert set(widths) == {"vcpus", "memory_mb", "disk_gb"}
    assert float(widths["memory_mb"]) > 0 and float(widths["vcpus"]) > 0
    shot = tmp_path / "capacity.png"
    subprocess.run(flags + ["--screenshot=" + str(shot), report.as_uri()], capture_output=True, timeout=120,
                   check=True)
    assert shot.stat().st_size > 5000
    run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")})
    assert hv.leftovers() == []
