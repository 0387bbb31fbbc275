# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images of the catalog on the control node (nova.virt.images): where the bytes are, what their
header says, and their verified digest.

An image is refused when its header names a backing file or an external data file (either
would put another file of the host into the guest's disk chain, as Nova refuses such images),
when its virtual size is beyond qcow2's own limit, or when its bytes do not match the checksum
the catalog gives. A download is bounded in time and size, and kept only once verified."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import os
import struct
import tempfile
import time

from ansible_collections.novalite.compute.plugins.module_utils import units

# qcow2 cannot describe a larger virtual disk; a header claiming more is not an image.
MAX_VIRTUAL_SIZE = 64 * units.Ti
MAX_DOWNLOAD_BYTES = 64 * units.Gi
# A partial download not written to for this long was left by a run that died.
PART_STALE_SECONDS = 60
CHUNK = units.Mi
# The format qemu reads each disk_format as (kernels and ramdisks are plain files).
QEMU_FORMATS = {"qcow2": "qcow2", "raw": "raw", "aki": "raw", "ari": "raw"}
QCOW2_MAGIC = b"QFI\xfb"
QCOW2_HEADER_V2 = 72
QCOW2_HEADER_V3 = 104
# Incompatible feature bits: dirty, corrupt, external data file, compression type, extended L2.
QCOW2_CORRUPT = 1 << 1
QCOW2_DATA_FILE = 1 << 2
QCOW2_KNOWN_INCOMPATIBLE = 0x1f
MAX_MESSAGE = 300


class ImageError(Exception):
    """An image of the catalog cannot be used; the message names its field."""


def _short(text):
    text = " ".join((text or "").split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def inspect(path, disk_format, field):
    """The virtual size in bytes of the image at path, read as disk_format: for qcow2, its header
    as qemu reads it (QEMU's docs/interop/qcow2.txt). ImageError (naming field) when it is not a
    qcow2 image, names a backing file or an external data file, is marked corrupt or uses
    features unknown here, or claims a virtual size beyond MAX_VIRTUAL_SIZE. (On the hypervisor,
    the image cache checks libvirt's own reading of the uploaded base too.)"""
    if QEMU_FORMATS[disk_format] == "raw":
        return os.path.getsize(path)
    with open(path, "rb") as handle:
        header = handle.read(QCOW2_HEADER_V3)
        if len(header) < QCOW2_HEADER_V2 or header[:4] != QCOW2_MAGIC:
            raise ImageError("%s: not a qcow2 image (bad header)" % field)
        version, backing_offset, backing_size = struct.unpack(">IQI", header[4:20])
        size = struct.unpack(">Q", header[24:32])[0]
        if version not in (2, 3) or (version == 3 and len(header) < QCOW2_HEADER_V3):
            raise ImageError("%s: qcow2 version %d is not supported" % (field, version))
        if backing_offset:
            handle.seek(backing_offset)
            name = handle.read(min(backing_size, 1023)).decode("utf-8", "replace")
            raise ImageError("%s: the image has a backing file (%s); images with a backing file are refused"
                             % (field, _short(name)))
    if version == 3:
        incompatible = struct.unpack(">Q", header[72:80])[0]
        if incompatible & QCOW2_DATA_FILE:
            raise ImageError("%s: the image has an external data file; such images are refused" % field)
        if incompatible & QCOW2_CORRUPT:
            raise ImageError("%s: the image is marked corrupt" % field)
        if incompatible & ~QCOW2_KNOWN_INCOMPATIBLE:
            raise ImageError("%s: the image uses qcow2 features unknown here (incompatible bits %#x)"
                             % (field, incompatible))
    if size > MAX_VIRTUAL_SIZE:
        raise ImageError("%s: the image claims a virtual size of %d bytes, beyond the %d bytes a qcow2 "
                         "disk can have" % (field, size, MAX_VIRTUAL_SIZE))
    return size


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(image, path, field):
    """The sha256 of the file at path; ImageError naming field.checksum when the catalog's
    checksum is another."""
    digest = sha256_of(path)
    if image.get("checksum") and image["checksum"] != digest:
        raise ImageError("%s.checksum: the image's sha256 is %s, not the checksum given (%s)"
                         % (field, digest, image["checksum"]))
    return digest


def remove_stale_parts(cache_dir, now=None):
    """Delete the partial downloads of runs that died (not written to for PART_STALE_SECONDS)."""
    now = time.time() if now is None else now
    for part in glob.glob(os.path.join(cache_dir, "*.part")):
        try:
            if now - os.path.getmtime(part) > PART_STALE_SECONDS:
                os.unlink(part)
        except OSError:
            pass  # another run removed or finished it


def local_file(image, field, open_url=None, timeout=600, cache_dir=None):
    """A local path holding the image's bytes, a URL image downloaded once into a cache.

    `open_url` is ansible.module_utils.urls.open_url (passed in, so this stays testable). A
    download takes at most `timeout` seconds and MAX_DOWNLOAD_BYTES; it is kept only when its
    bytes match the image's checksum (if given) and their header reads as its disk_format. A
    cached copy that no longer matches the checksum is downloaded again."""
    if image.get("file"):
        return image["file"]
    cache_dir = cache_dir or os.path.expanduser("~/.cache/novalite/images")
    if not os.path.isdir(cache_dir):
        os.makedirs(cache_dir, 0o700)
    remove_stale_parts(cache_dir)
    target = os.path.join(cache_dir, hashlib.sha256(image["url"].encode("utf-8")).hexdigest())
    if os.path.exists(target):
        try:
            verify_checksum(image, target, field)
            return target
        except ImageError:
            os.unlink(target)
    if open_url is None:
        raise ImageError("%s.url: no way to download %s" % (field, _short(image["url"])))
    handle, partial = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            _download(open_url, image["url"], out, field, timeout)
        verify_checksum(image, partial, field)
        inspect(partial, image["disk_format"], field)
        os.rename(partial, target)
    except Exception as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        if isinstance(exc, ImageError):
            raise
        raise ImageError("%s.url: cannot download %s: %s" % (field, _short(image["url"]), _short(str(exc))))
    return target


def _download(open_url, url, out, field, timeout):
    deadline = time.monotonic() + timeout
    response = open_url(url, timeout=max(1, min(60, int(timeout))))
    length = (getattr(response, "headers", None) or {}).get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_DOWNLOAD_BYTES:
        raise ImageError("%s.url: the download is %s bytes, more than the %d allowed"
                         % (field, length, MAX_DOWNLOAD_BYTES))
    # read1: whatever has arrived (up to a chunk), so a server that trickles bytes cannot keep one
    # read, and so the download, going past the deadline.
    read = getattr(response, "read1", response.read)
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise ImageError("%s.url: the download did not finish within the task's timeout of %s s"
                             % (field, timeout))
        chunk = read(CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        if total > MAX_DOWNLOAD_BYTES:
            raise ImageError("%s.url: the download exceeds %d bytes" % (field, MAX_DOWNLOAD_BYTES))
        out.write(chunk)
