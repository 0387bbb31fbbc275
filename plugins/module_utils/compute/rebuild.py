# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute manager's rebuild and rescue (nova.compute.manager: rebuild_instance,
rescue_instance, unrescue_instance): the server's disks made again from an image on its own host,
or a rescue disk booted in front of them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import user_data_digest, utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import driver
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import imagecache
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import storage


class RebuildRescue:
    """ComputeManager's rebuild and rescue (a part of it: compute/manager.py)."""

    def rebuild_instance(self, record, request, check=None):
        """ComputeManager.rebuild_instance (_rebuild_default_impl), on the server's own host: rebuilding
        - the guest powered off; rebuild_block_device_mapping - the root overlay made again on the
        (new) image's base, the ephemeral disk too unless preserve_ephemeral, the swap, the config
        drive regenerated (with the new user data and metadata when given, else the server's);
        rebuild_spawning - the domain defined again (same UUID, name, MACs, addresses, flavor) with
        the image's kernel and started; active, or stopped again when it was stopped, as in Nova."""
        def work(dom, record):
            was = record["vm_state"]
            pool = self.hv.pool()
            uuid = record["uuid"]
            guest.poweroff(dom)
            user_data = request.get("userdata")
            if user_data is None and record.get("config_drive"):
                user_data = self._config_drive_user_data(pool, uuid)
            self._step(dom, record, states.REBUILD_BLOCK_DEVICE_MAPPING)
            record["image"] = request["image"]["name"]
            if request.get("meta") is not None:
                record["metadata"] = request["meta"]
            if request.get("userdata") is not None:
                record["user_data_digest"] = user_data_digest(request["userdata"])
            keep = set([uuid + ".console.log"] + ([uuid + ".disk.eph0"] if request.get("preserve_ephemeral") else []))
            for vol in storage.instance_volumes(pool, uuid):
                if vol.name() not in keep:
                    storage.delete_volume(vol)
            disks = self._block_device_mapping(dict(request, config_drive=bool(record.get("config_drive")),
                                                    key_name=record.get("key_name"), userdata=user_data),
                                               record, pool, keep)
            self._step(dom, record, states.REBUILD_SPAWNING)
            resources = dict(self._boot_files(request, pool), disks=disks,
                             nics=[{"network": p["network"], "mac": p["mac"]} for p in record.get("ports") or []])
            dom = guest.define_domain(self.hv.conn, self._domain_spec(request, record, pool, resources))
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            changes = {"vm_state": states.ACTIVE, "launched_at": utcnow()}
            if was == states.STOPPED:
                guest.poweroff(dom)
                changes["vm_state"] = states.STOPPED
            return changes, {"image": record["image"], "preserve_ephemeral": bool(request.get("preserve_ephemeral"))}
        return self.run_action(record, ia.REBUILD, states.REBUILDING, work, check)

    def _config_drive_user_data(self, pool, uuid):
        vol = storage.find_volume(pool, uuid + ".disk.config")
        if vol is None:
            return None
        return configdrive.read_user_data(storage.download_volume(self.hv.conn, vol))

    def rescue_instance(self, record, request, check=None):
        """ComputeManager.rescue_instance (LibvirtDriver.rescue): rescuing - a rescue disk made on the
        rescue image's base (the server's own image unless another is given), the guest powered off,
        and the domain started from a rescue definition - the rescue disk boots as vda with the rescue
        image's kernel, the server's root disk attached as vdb, its config drive and NICs as they were.
        The rescue definition is the domain's live one only (virDomainCreateXML over the defined
        domain): its persistent definition stays the server's, so that unrescue, or a run killed here,
        comes back to it. rescued."""
        def work(dom, record):
            pool = self.hv.pool()
            uuid = record["uuid"]
            old = storage.find_volume(pool, uuid + ".disk.rescue")
            if old is not None:
                storage.delete_volume(old)
            image = request["image"]
            base_path, _copied = imagecache.cache_image(
                self.hv.conn, pool, request["image_file"], image["disk_format"], request.get("image_checksum"),
                timeout=self.api.remaining("caching image %s on %s" % (image["name"], self.hv.name)))
            rescue = storage.create_volume(pool, uuid + ".disk.rescue", request["image_size"], "qcow2",
                                           (base_path, "qcow2" if image["disk_format"] == "qcow2" else "raw"))
            disks = [{"path": rescue.path(), "format": "qcow2", "dev": "vda"}]
            devs = iter(("vdb", "vdc", "vdd", "vde", "vdf"))
            for suffix, fmt, readonly in ((".disk", "qcow2", False), (".disk.eph0", "qcow2", False),
                                          (".disk.swap", "qcow2", False), (".disk.config", "raw", True)):
                vol = storage.find_volume(pool, uuid + suffix)
                if vol is not None:
                    disks.append({"path": vol.path(), "format": fmt, "dev": next(devs), "readonly": readonly})
            record["rescue_image"] = image["name"]
            resources = dict(self._boot_files(request, pool), disks=disks,
                             nics=[{"network": p["network"], "mac": p["mac"]} for p in record.get("ports") or []])
            spec = self._domain_spec(request, record, pool, resources)
            guest.poweroff(dom)
            guest.create_transient(self.hv.conn, spec)
            if not guest.wait_for_state(dom, states.RUNNING, self.api.remaining("starting %s's rescue" % record["name"])):
                raise ComputeError("the rescue domain of %s did not reach RUNNING" % record["name"])
            return {"vm_state": states.RESCUED}, {"image": image["name"]}
        return self.run_action(record, ia.RESCUE, states.RESCUING, work, check)

    def unrescue_instance(self, record, check=None):
        """ComputeManager.unrescue_instance: unrescuing - the rescue domain powered off (its persistent
        definition, the server's, is what remains), the rescue disk removed, the server started; active."""
        def work(dom, record):
            guest.poweroff(dom)
            self._remove_rescue_disk(record)
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.UNRESCUE, states.UNRESCUING, work, check)

    def _remove_rescue_disk(self, record):
        vol = storage.find_volume(self.hv.pool(), record["uuid"] + ".disk.rescue")
        if vol is not None:
            storage.delete_volume(vol)
        record["rescue_image"] = None
