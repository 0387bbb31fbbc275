"""Images the collection refuses before anything is built, through ansible-playbook on the real
local libvirtd: a qcow2 with a backing file (another file of the host would be in the guest's
disk chain), and a checksum that is not the image's (it named another cached image, and the
server booted from that). Nothing exists afterwards, no cache volume is named by a checksum
that was not verified."""

import subprocess

import pytest

from conftest import catalog
from helpers import SERVER_PLAY, run_playbook
from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


def args_for(hv, tiny_image, name, **image_changes):
    args = catalog(tiny_image)
    args["images"][2].update(image_changes)
    args.update(name=name, image="tiny", flavor="m1.tiny", hypervisors=[hv.config()],
                nics=[{"net-name": hv.network}])
    return args


def base_volumes(conn, hv):
    cache = storage.find_pool(conn, hv.pool_name + storage.BASE_SUFFIX)
    if cache is None:
        return set()
    storage.refresh_pool(cache)
    return set(cache.listVolumes())


def test_an_image_with_a_backing_file_is_refused(conn, local_hv, tiny_image, tmp_path):
    hv = local_hv
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$secret-hash:19000:0:99999:7:::\n" * 64)
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(evil), "64M"],
                   check=True, capture_output=True)
    before = base_volumes(conn, hv)
    result = run_playbook(SERVER_PLAY, {"args": args_for(hv, tiny_image, hv.prefix + "evil", file=str(evil))})
    server = result.task("server")
    assert server["failed"] is True
    assert server["msg"].startswith("images.tiny: the image has a backing file"), server["msg"]
    assert guest.find_domain(conn, hv.prefix + "evil") is None
    assert base_volumes(conn, hv) == before
    assert hv.leftovers() == []


def test_a_checksum_naming_another_image_is_refused(conn, local_hv, tiny_image):
    hv = local_hv
    kernel_digest = images.sha256_of(tiny_image["kernel"])
    root_digest = images.sha256_of(tiny_image["root"])
    before = base_volumes(conn, hv)
    args = args_for(hv, tiny_image, hv.prefix + "wrongsum", checksum=kernel_digest)
    server = run_playbook(SERVER_PLAY, {"args": args}).task("server")
    assert server["failed"] is True
    assert server["msg"].startswith("images.tiny.checksum: the image's sha256 is %s" % root_digest), server["msg"]
    assert guest.find_domain(conn, hv.prefix + "wrongsum") is None
    assert base_volumes(conn, hv) == before
    assert hv.leftovers() == []


def test_the_image_cache_refuses_a_base_libvirt_reads_as_chained(conn, local_hv, tmp_path):
    """The second line, on the hypervisor: a base whose header names a backing file, as libvirt
    reads the uploaded volume, is removed and refused (here declared raw, which the control node
    does not parse)."""
    hv = local_hv
    secret = tmp_path / "shadow"
    secret.write_bytes(b"secret\n")
    evil = tmp_path / "evil.img"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(evil), "64M"],
                   check=True, capture_output=True)
    pool = storage.ensure_pool(conn, hv.pool_name, hv.pool_path)
    with pytest.raises(connection.DriverError) as caught:
        imagecache.cache_image(conn, pool, str(evil), "raw", images.sha256_of(str(evil)))
    assert "names a backing file (%s) as libvirt reads it" % secret in str(caught.value)
    assert [name for name in base_volumes(conn, hv) if not name.startswith(".")] == []
