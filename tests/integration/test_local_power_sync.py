"""The power state read from the hypervisor decides the status, as Nova's _sync_power_states
does: a guest powered off outside the collection (virsh destroy) shows vm_state stopped, status
SHUTOFF, in nova_server's rerun and in nova_host_facts; paused with virsh, PAUSED; started again,
ACTIVE. Real ansible-playbook runs on the real local libvirtd. (Before: ACTIVE, power_state 4.)"""

from conftest import catalog
from helpers import FACTS_PLAY, SERVER_PLAY, run_playbook


def test_status_follows_the_domain_power_state(conn, local_hv, tiny_image):
    hv = local_hv
    name = hv.prefix + "power"
    args = catalog(tiny_image)
    args.update(name=name, image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}])
    made = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert made["server"]["status"] == "ACTIVE", made.get("msg")
    dom = conn.lookupByName(name)

    dom.suspend()
    paused = run_playbook(SERVER_PLAY, {"args": args}).task("server")["server"]
    assert (paused["status"], paused["vm_state"], paused["power_state"]) == ("PAUSED", "paused", 3)

    dom.destroy()
    again = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert again["changed"] is False
    server = again["server"]
    assert (server["status"], server["vm_state"], server["power_state"]) == ("SHUTOFF", "stopped", 4), server
    facts = run_playbook(FACTS_PLAY, {"args": [hv.config()]}).task("facts")["ansible_facts"]["nova_hosts"]["local"]
    record = [r for r in facts["instances"] if r["name"] == name][0]
    assert record["vm_state"] == "stopped"

    dom.create()
    running = run_playbook(SERVER_PLAY, {"args": args}).task("server")["server"]
    assert (running["status"], running["vm_state"]) == ("ACTIVE", "active")
    run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")})
    assert hv.leftovers() == []
