# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's versioned notifications (nova.notifications): the envelope, kept in memory and
appended to a file, and the instance payload."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import uuid as uuidlib

from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow


class Notifier:
    """Nova's versioned-notification envelope, kept in memory and appended to a file.

    Notifications never decide a build's outcome: when the file cannot be written (a full disk,
    /dev/full), write_error says why, the file is not tried again, and the build goes on."""

    def __init__(self, path=None):
        self.path = path
        self.events = []
        self.write_error = None
        self._lock = threading.Lock()

    def notify(self, event_type, host, payload, priority="INFO"):
        event = {
            "message_id": str(uuidlib.uuid4()),
            "event_type": event_type,
            "publisher_id": "compute.%s" % host,
            "priority": priority,
            "timestamp": utcnow(),
            "payload": payload,
        }
        with self._lock:
            self.events.append(event)
            if self.path and self.write_error is None:
                try:
                    with open(self.path, "a") as handle:
                        handle.write(json.dumps(event, sort_keys=True) + "\n")
                except OSError as exc:
                    self.write_error = "notifications_file: cannot write %s: %s" % (self.path, exc.strerror or exc)
        return event


def notification_payload(instance, image_name=None, message=None, fault=None):
    flavor = instance.get("flavor") or {}
    payload = {
        "instance_id": instance["uuid"],
        "display_name": instance["name"],
        "tenant_id": instance.get("project_id"),
        "host": instance.get("host"),
        "node": instance.get("host"),
        "availability_zone": instance.get("availability_zone"),
        "state": instance.get("vm_state"),
        "state_description": instance.get("task_state") or "",
        "instance_type": flavor.get("name"),
        "memory_mb": flavor.get("ram"),
        "vcpus": flavor.get("vcpus"),
        "root_gb": flavor.get("disk"),
        "ephemeral_gb": flavor.get("ephemeral"),
        "image_name": image_name or instance.get("image"),
        "created_at": instance.get("created_at"),
        "launched_at": instance.get("launched_at") or "",
        "metadata": instance.get("metadata") or {},
        "fixed_ips": [{"address": p.get("ip"), "vif_mac": p["mac"], "label": p["network"]}
                      for p in instance.get("ports") or []],
    }
    if message is not None:
        payload["message"] = message
    if fault is not None:
        payload["fault"] = fault
    return payload
