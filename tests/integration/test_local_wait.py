"""wait and wait_for through ansible-playbook on the real local libvirtd: wait_for lease waits
for the guest's DHCP lease; wait_for ssh fails, when the guest never answers on port 22 (the tiny
guest has no sshd), with the end of its console and the server left built."""

import time

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook, server_result, start_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import network as libvirt_network


def base(hv, tiny_image, name, **extra):
    args = catalog(tiny_image)
    args.update(name=name, image="tiny", flavor="m1.tiny", hypervisors=[hv.config()], nics=[{"net-name": hv.network}])
    args.update(extra)
    return args


def test_wait_for_lease_then_ssh(conn, local_hv, tiny_image):
    hv = local_hv
    args = base(hv, tiny_image, hv.prefix + "ready", wait_for="lease", timeout=120)
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert made.get("failed") is not True, made.get("msg")
    mac = made["server"]["addresses"][hv.network][0]["OS-EXT-IPS-MAC:mac_addr"]
    leases = libvirt_network.leases(libvirt_network.find_network(conn, hv.network))
    assert any(lease["mac"].lower() == mac for lease in leases), leases

    unready = run_playbook(SERVER_PLAY, {"args": base(hv, tiny_image, hv.prefix + "nossh", wait_for="ssh",
                                                      timeout=40)}).task("server")
    assert unready["failed"] is True
    assert unready["msg"].startswith("wait_for: %snossh did not reach ssh" % hv.prefix), unready["msg"]
    assert "the end of its console:" in unready["msg"] and "NOVALITE" in unready["msg"], unready["msg"]
    assert [s["status"] for s in unready["servers"]] == ["ACTIVE"]
    assert guest.find_domain(conn, hv.prefix + "nossh") is not None
    for name in ("ready", "nossh"):
        run_playbook(SERVER_PLAY, {"args": base(hv, tiny_image, hv.prefix + name, state="absent")})
    assert hv.leftovers() == []


def test_timeout_bounds_the_whole_task(conn, local_hv, tiny_image, tmp_path):
    """Two waits, each shorter than timeout, together longer: the claim lock held by another for
    20 s, then wait_for ssh, which never comes. Bounded per wait the task took 20 + 25 s; bounded
    as a whole it ends within the 25 s (plus Ansible's start), the server built and reported."""
    hv = local_hv
    pool = storage.ensure_pool(conn, hv.pool_name, hv.pool_path)
    args = base(hv, tiny_image, hv.prefix + "late", wait_for="ssh", timeout=25)
    with locks.HostLock(pool, "claim", timeout=30) as lock:
        started = time.monotonic()
        proc = start_playbook(str(tmp_path), 0, args)
        while time.monotonic() - started < 20:
            lock.renew_now_and_then()
            time.sleep(0.2)
    late = server_result(proc)
    took = time.monotonic() - started
    assert late["failed"] is True
    assert late["msg"].startswith("wait_for: %slate did not reach ssh (timeout:" % hv.prefix), late["msg"]
    assert 20 <= took < 25 + 12, took
    assert [s["status"] for s in late["servers"]] == ["ACTIVE"]
    run_playbook(SERVER_PLAY, {"args": base(hv, tiny_image, hv.prefix + "late", state="absent")})
    assert hv.leftovers() == []


def test_a_lock_held_past_the_timeout_fails_the_build_without_alternates(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    pool = storage.ensure_pool(conn, hv.pool_name, hv.pool_path)
    with locks.HostLock(pool, "claim", timeout=30) as lock:
        started = time.monotonic()
        proc = start_playbook(str(tmp_path), 0, base(hv, tiny_image, hv.prefix + "never", timeout=8))
        while proc.poll() is None and time.monotonic() - started < 28:
            lock.renew_now_and_then()
            time.sleep(0.2)
    refused = server_result(proc)
    assert refused["failed"] is True
    fault = refused["servers"][0]["fault"]["message"]
    assert fault.startswith("timeout: the task's 8s ran out claiming on local"), fault
    assert guest.find_domain(conn, hv.prefix + "never") is None
    assert hv.leftovers() == []
