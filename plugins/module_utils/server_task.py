# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What nova_server does with its validated parameters: the module runs it, and so does its
action plugin, in the controller's own process, when the module would run there anyway
(see plugin_utils/hypervisor_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection
from ansible_collections.novalite.compute.plugins.module_utils import exception
from ansible_collections.novalite.compute.plugins.module_utils.compute import api
from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.compute import notifications
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive as config_drive
from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils import validation
from ansible_collections.novalite.compute.plugins.module_utils.common import HYPERVISORS_ARGUMENT_SPEC
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import scheduler_config

REQUIRED_IF = [("state", "present", ("image", "flavor"))]


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        image=dict(type="str"),
        flavor=dict(type="str"),
        nics=dict(type="list", elements="raw", default=[]),
        key_name=dict(type="str", no_log=False),
        userdata=dict(type="str", no_log=True),
        admin_password=dict(type="str", no_log=True),
        meta=dict(type="dict", default={}),
        availability_zone=dict(type="str"),
        scheduler_hints=dict(type="dict", default={}),
        config_drive=dict(type="bool", default=True),
        min_count=dict(type="int", default=1),
        max_count=dict(type="int"),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
        flavors=dict(type="list", elements="dict", default=[]),
        images=dict(type="list", elements="dict", default=[]),
        keypairs=dict(type="dict", default={}, no_log=False),
        server_groups=dict(type="list", elements="dict", default=[]),
        project=dict(type="str", default="default"),
        quotas=dict(type="dict", default={}),
        scheduler=dict(type="dict", default={}),
        notifications_file=dict(type="path"),
        purge_orphans=dict(type="bool", default=False),
    )
    spec.update(HYPERVISORS_ARGUMENT_SPEC)
    return spec


def missing_libraries():
    """[(library, import error)] of what the task needs and this Python lacks."""
    missing = []
    if not connection.HAS_LIBVIRT:
        missing.append(("libvirt-python", connection.LIBVIRT_IMPORT_ERROR))
    if not config_drive.HAS_PYCDLIB:
        missing.append(("pycdlib", config_drive.PYCDLIB_IMPORT_ERROR))
    return missing


def open_url(url, **kwargs):
    """ansible.module_utils.urls.open_url, imported when an image is downloaded: importing it (and
    the TLS and cryptography modules it pulls in) is a fifth of the module's start-up."""
    from ansible.module_utils.urls import open_url as urls_open_url
    return urls_open_url(url, **kwargs)


def run(params, check_mode=False, diff=False):
    """The module's result for these parameters (as AnsibleModule validated them); a failure
    has failed=True and msg."""
    notifier = notifications.Notifier(params["notifications_file"])
    try:
        catalogs = validation.check_catalogs(params["flavors"], params["images"], params["hypervisors"],
                                             params["server_groups"], params["keypairs"])
        request = validation.check_server_request(params, catalogs)
        validation.check_int("timeout", params["timeout"], 1, 86400)
        validation.check_int("connect_timeout", params["connect_timeout"], 1, 3600)
        validation.check_name("project", params["project"])
        validation.check_quotas(params["quotas"])
        validation.check_notifications_file("notifications_file", params["notifications_file"])
        compute_api = api.ComputeAPI(
            catalogs, scheduler_config(params["scheduler"]), project_id=params["project"],
            quotas=params["quotas"], notifier=notifier, check_mode=check_mode,
            wait=params["wait"], timeout=params["timeout"], connect_timeout=params["connect_timeout"],
            open_url=open_url)
        if params["state"] == "absent":
            result = compute_api.delete(request)
        else:
            compute_images.prepare_request_images(request, catalogs, open_url=open_url)
            result = compute_api.create(request)
    except (validation.InvalidRequest, images.ImageError) as exc:
        return dict(failed=True, msg=str(exc), notifications=notifier.events)
    except exception.ComputeError as exc:
        return dict(exc.details, failed=True, msg=str(exc), servers=exc.servers, notifications=notifier.events)
    except Exception as exc:  # an unexpected failure still returns what happened
        return dict(failed=True, msg="unexpected error: %s" % exc, exception=traceback.format_exc(),
                    notifications=notifier.events)
    result["notifications"] = notifier.events
    changes = result.pop("diff", None)
    if diff and changes is not None:
        result["diff"] = changes
    if request["max_count"] == 1 and result["servers"]:
        result["server"] = result["servers"][0]
    return result
