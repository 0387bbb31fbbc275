"""wait and wait_for through ansible-playbook on the real local libvirtd: wait_for lease waits
for the guest's DHCP lease; wait_for ssh fails, when the guest never answers on port 22 (the tiny
guest has no sshd), with the end of its console and the server left built."""

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
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
