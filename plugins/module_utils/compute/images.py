# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request's images on the control node (compute.API._check_requested_image), and Nova's
image pre-caching onto every hypervisor."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.novalite.compute.plugins.module_utils.compute.hypervisor import Hypervisor, gather_all
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


def verified_image(image, open_url=None, timeout=600):
    """(local path, sha256, virtual size) of a catalog image: its bytes on the control node, their
    digest (the checksum given must match it; caches name images by it only), and its header's
    reading of them (no backing file, no external data file, a sane size)."""
    field = "images.%s" % image["name"]
    path = images.local_file(image, field, open_url=open_url, timeout=timeout)
    digest = images.verify_checksum(image, path, field)
    return path, digest, images.inspect(path, image["disk_format"], field)


def prepare_request_images(request, catalogs, open_url=None, timeout=600):
    """Local files, verified digests and sizes of the image (and its kernel/ramdisk) of a request;
    the flavor checked against the image (compute.API._check_requested_image)."""
    image = request["image"]
    request["image_file"], request["image_checksum"], request["image_size"] = verified_image(
        image, open_url, timeout)
    flavor = request["flavor"]
    if flavor["disk"] and flavor["disk"] * units.Gi < request["image_size"]:
        raise ComputeError("flavor: root disk of %s (%d GB) is smaller than image %s (%d bytes)"
                           % (flavor["name"], flavor["disk"], image["name"], request["image_size"]))
    if image["min_disk"] and flavor["disk"] and flavor["disk"] < image["min_disk"]:
        raise ComputeError("flavor: root disk of %s (%d GB) is below the min_disk %d GB of image %s"
                           % (flavor["name"], flavor["disk"], image["min_disk"], image["name"]))
    if image["min_ram"] and flavor["ram"] < image["min_ram"]:
        raise ComputeError("flavor: ram of %s (%d MB) is below the min_ram %d MB of image %s"
                           % (flavor["name"], flavor["ram"], image["min_ram"], image["name"]))
    for key, field in (("kernel_id", "kernel"), ("ramdisk_id", "initrd")):
        if image.get(key):
            request[field + "_file"], request[field + "_checksum"], _size = verified_image(
                catalogs["images"][image[key]], open_url, timeout)
    return request


def cache_images(hypervisor_configs, files, connect_timeout, check_mode=False):
    """Nova's image pre-caching: copy each image into every hypervisor's _base cache.

    files: {image name: (local path, sha256)}. Hosts work in parallel.
    Returns {"cached": {host: [names copied]}, "hypervisors_down": {host: reason}}.
    """
    hypervisors = [Hypervisor(config, create_pool=not check_mode) for config in hypervisor_configs.values()]
    gather_all(hypervisors, connect_timeout)
    cached = dict((hv.name, []) for hv in hypervisors if hv.up)
    errors = {}

    def work(hv):
        try:
            pool = storage.find_pool(hv.conn, hv.config["storage_pool"])
            for name, (path, checksum) in sorted(files.items()):
                if check_mode:
                    if pool is None or not imagecache.is_cached(hv.conn, pool, checksum):
                        cached[hv.name].append(name)
                    continue
                _path, copied = imagecache.cache_image(hv.conn, hv.pool(), path, "raw", checksum)
                if copied:
                    cached[hv.name].append(name)
        except Exception as exc:  # reported per host
            errors[hv.name] = str(exc)

    threads = [threading.Thread(target=work, args=(hv,)) for hv in hypervisors if hv.up]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unreachable = dict((hv.name, hv.error) for hv in hypervisors if not hv.up)
    unreachable.update(errors)
    return {"cached": cached, "hypervisors_down": unreachable}
