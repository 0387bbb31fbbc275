# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images as qemu-img reads them (the real qemu-img on real files), checksums verified against
the bytes, and downloads from a real HTTP server on loopback bounded in time and size, kept only
once verified."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import http.server
import os
import struct
import subprocess
import threading
import time
import urllib.request

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.virt import images


def qemu_img(*args):
    subprocess.run(["qemu-img"] + list(args), check=True, capture_output=True)


def qcow2(path, size="64M", *options):
    qemu_img("create", "-f", "qcow2", *(list(options) + [str(path), size]))
    return str(path)


def entry(path, **extra):
    return dict({"name": "img", "file": str(path), "disk_format": "qcow2"}, **extra)


def test_a_plain_qcow2_image_gives_its_virtual_size(tmp_path):
    assert images.inspect(qcow2(tmp_path / "ok.qcow2", "64M"), "qcow2", "images.img") == 64 * 1024 * 1024


def test_an_image_with_a_backing_file_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:$6$hash:19000:0:99999:7:::\n" * 100)
    evil = qcow2(tmp_path / "evil.qcow2", "64M", "-b", str(secret), "-F", "raw")
    with pytest.raises(images.ImageError) as caught:
        compute_images.verified_image(entry(evil))
    assert str(caught.value).startswith("images.img: the image has a backing file")


def test_an_image_with_an_external_data_file_is_refused(tmp_path):
    evil = qcow2(tmp_path / "data.qcow2", "64M", "-o", "data_file=%s" % (tmp_path / "data.raw"))
    with pytest.raises(images.ImageError) as caught:
        images.inspect(evil, "qcow2", "images.img")
    assert "external data file" in str(caught.value)


def test_a_header_claiming_exabytes_is_refused_naming_the_field(tmp_path):
    path = qcow2(tmp_path / "huge.qcow2", "64M")
    with open(path, "r+b") as handle:
        handle.seek(24)
        handle.write(struct.pack(">Q", 4 << 60))
    with pytest.raises(images.ImageError) as caught:
        images.inspect(path, "qcow2", "images.img")
    assert str(caught.value).startswith("images.img: ")


def test_a_file_that_is_not_its_format_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "page.qcow2"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(images.ImageError) as caught:
        images.inspect(str(path), "qcow2", "images.img")
    assert str(caught.value).startswith("images.img: not a qcow2 image")
    assert str(path) not in str(caught.value)


def test_the_checksum_is_verified_and_the_digest_is_the_bytes(tmp_path):
    path = qcow2(tmp_path / "ok.qcow2")
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert compute_images.verified_image(entry(path))[1] == digest
    assert compute_images.verified_image(entry(path, checksum=digest))[1] == digest
    with pytest.raises(images.ImageError) as caught:
        compute_images.verified_image(entry(path, checksum="0" * 64))
    assert str(caught.value).startswith("images.img.checksum: the image's sha256 is %s" % digest)


# ----------------------------------------------------------------------------- downloads
class Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    trickle = 0.0       # seconds between bytes

    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            if not self.trickle:
                self.wfile.write(self.body)
                return
            for byte in self.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *_args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_entry(httpd, **extra):
    return dict({"name": "img", "url": "http://127.0.0.1:%d/img.qcow2" % httpd.server_address[1],
                 "disk_format": "qcow2"}, **extra)


def test_a_download_is_kept_once_verified(server, tmp_path):
    good = qcow2(tmp_path / "good.qcow2")
    with open(good, "rb") as handle:
        server.RequestHandlerClass = type("Good", (Handler,), {"body": handle.read()})
    cache = tmp_path / "cache"
    path = images.local_file(url_entry(server), "images.img", urllib.request.urlopen, 30, str(cache))
    assert images.inspect(path, "qcow2", "images.img") == 64 * 1024 * 1024
    assert os.listdir(cache) == [os.path.basename(path)]


def test_a_bad_body_is_not_cached(server, tmp_path):
    server.RequestHandlerClass = type("Bad", (Handler,), {"body": b"<html>proxy error</html>"})
    cache = tmp_path / "cache"
    with pytest.raises(images.ImageError) as caught:
        images.local_file(url_entry(server), "images.img", urllib.request.urlopen, 30, str(cache))
    assert str(caught.value).startswith("images.img: not a qcow2 image")
    assert os.listdir(cache) == []


def test_a_cached_download_must_still_match_the_checksum(server, tmp_path):
    good = qcow2(tmp_path / "good.qcow2")
    with open(good, "rb") as handle:
        body = handle.read()
    server.RequestHandlerClass = type("Good", (Handler,), {"body": body})
    cache = tmp_path / "cache"
    images.local_file(url_entry(server), "images.img", urllib.request.urlopen, 30, str(cache))
    with pytest.raises(images.ImageError) as caught:
        images.local_file(url_entry(server, checksum="0" * 64), "images.img", urllib.request.urlopen, 30,
                          str(cache))
    assert str(caught.value).startswith("images.img.checksum: ")
    assert os.listdir(cache) == []


def test_a_slow_download_ends_with_the_timeout_and_leaves_nothing(server, tmp_path):
    # 2,000 bytes at one per 0.05 s: 100 s to send; the task's timeout is 2 s.
    server.RequestHandlerClass = type("Slow", (Handler,), {"body": b"x" * 2000, "trickle": 0.05})
    cache = tmp_path / "cache"
    started = time.monotonic()
    with pytest.raises(images.ImageError) as caught:
        images.local_file(url_entry(server), "images.img", urllib.request.urlopen, 2, str(cache))
    assert "did not finish within the task's timeout of 2 s" in str(caught.value)
    assert time.monotonic() - started < 50, "the download went on long past its timeout"
    assert os.listdir(cache) == []


def test_partial_downloads_of_dead_runs_are_removed(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    old, fresh = cache / "tmpold.part", cache / "tmpfresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(str(old), (time.time() - 3600, time.time() - 3600))
    images.remove_stale_parts(str(cache))
    assert sorted(os.listdir(cache)) == ["tmpfresh.part"]
