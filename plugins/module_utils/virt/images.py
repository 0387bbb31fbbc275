# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images of the catalog on the control node: where the bytes are, how big the disk is."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import struct
import tempfile

QCOW2_MAGIC = b"QFI\xfb"
GIB = 1024 ** 3


class ImageError(Exception):
    """An image of the catalog cannot be used; the message names it."""


def virtual_size(path, disk_format):
    """Virtual disk size in bytes: the qcow2 header's size field, or the raw file size."""
    if disk_format != "qcow2":
        return os.path.getsize(path)
    with open(path, "rb") as handle:
        header = handle.read(32)
    if len(header) < 32 or header[:4] != QCOW2_MAGIC:
        raise ImageError("%s is not a qcow2 image (bad header)" % path)
    return struct.unpack(">Q", header[24:32])[0]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_file(image, cache_dir=None, open_url=None):
    """A local path holding the image's bytes, downloading a URL image once into a cache.

    `open_url` is ansible.module_utils.urls.open_url (passed in, so this stays testable).
    """
    if image.get("file"):
        return image["file"]
    cache_dir = cache_dir or os.path.expanduser("~/.cache/novalite/images")
    if not os.path.isdir(cache_dir):
        os.makedirs(cache_dir, 0o700)
    target = os.path.join(cache_dir, hashlib.sha256(image["url"].encode("utf-8")).hexdigest())
    if os.path.exists(target):
        return target
    if open_url is None:
        raise ImageError("image %s: no way to download %s" % (image["name"], image["url"]))
    handle, partial = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            response = open_url(image["url"], timeout=60)
            shutil.copyfileobj(response, out, 1 << 20)
        if image.get("checksum") and sha256_of(partial) != image["checksum"]:
            raise ImageError("image %s: the sha256 of %s does not match checksum" % (image["name"], image["url"]))
        os.rename(partial, target)
    except Exception as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        if isinstance(exc, ImageError):
            raise
        raise ImageError("image %s: cannot download %s: %s" % (image["name"], image["url"], exc))
    return target
