"""Make `ansible_collections.novalite.compute` importable from a plain checkout.

Under `ansible-test units` the collection already sits in an ansible_collections tree
and this does nothing."""

import os
import sys
import tempfile
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import ansible_collections.novalite.compute  # noqa: F401  pylint: disable=unused-import
except ImportError:
    root = os.path.join(tempfile.gettempdir(), "novalite-collections-%d-%s"
                        % (os.getuid(), zlib.crc32(REPO.encode()) & 0xffffffff))
    link = os.path.join(root, "ansible_collections", "novalite", "compute")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    sys.path.insert(0, root)
