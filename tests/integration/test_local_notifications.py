"""A notifications file that cannot be written (/dev/full) never hides what the build did: the
server is built and ACTIVE, the task says so with a warning, through ansible-playbook on the real
local libvirtd. (Before: changed, status BUILD, and nothing on the host.)"""

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest


def test_a_full_notifications_file_is_a_warning(conn, local_hv, tiny_image):
    hv = local_hv
    args = catalog(tiny_image)
    args.update(name=hv.prefix + "full", image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}], notifications_file="/dev/full")
    server = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert server.get("failed") is not True, server.get("msg")
    assert server["server"]["status"] == "ACTIVE", server["server"]
    assert guest.find_domain(conn, hv.prefix + "full") is not None
    assert any("notifications_file: cannot write /dev/full" in w for w in server.get("warnings") or []), server
    assert [e["event_type"] for e in server["notifications"]][-1] == "compute.instance.create.end"
    gone = run_playbook(SERVER_PLAY, {"args": dict(args, state="absent")}).task("server")
    assert gone["changed"] is True
    assert hv.leftovers() == []
