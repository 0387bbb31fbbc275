"""The README's demo command runs end to end and leaves nothing behind."""

import os
import subprocess

from helpers import REPO


def test_demo_boots_and_cleans_up(conn, default_pool_cleanup):
    proc = subprocess.run([os.path.join(REPO, "scripts", "demo.sh")], capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "demo-1 ACTIVE vm_state=active" in proc.stdout
    assert "demo-2 ACTIVE vm_state=active" in proc.stdout
    assert "failed=0" in proc.stdout
    assert not [d for d in conn.listAllDomains() if d.name().startswith("demo-")]
    assert "novalite-demo" not in [n.name() for n in conn.listAllNetworks()]
