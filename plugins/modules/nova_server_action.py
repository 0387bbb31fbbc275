#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_server_action
short_description: Start, stop, reboot, pause, suspend, rescue, rebuild, lock servers, read their console, as Nova does
version_added: "0.2.0"
description:
  - Performs one of Nova's server actions (C(POST /servers/{id}/action)) on each server named in O(server),
    on the libvirt hypervisors of O(hypervisors), with no OpenStack. Each action walks Nova's
    vm_state/task_state path (C(powering-off), C(powering-on), C(rebooting) then C(reboot_pending) and
    C(reboot_started), C(pausing), C(unpausing), C(suspending), C(resuming)), saved in the server's record
    (the domain's metadata) at every step, with Nova's notifications (C(compute.instance.power_off.start) and
    C(.end), C(compute.instance.reboot.start), ...).
  - Every server is checked before any is touched, and refused as Nova refuses it - an action its vm_state
    does not allow (C(Cannot 'pause' instance web1 while it is in vm_state stopped)), a locked server
    (C(Instance web1 is locked); only O(action=unlock) or O(override_lock) passes), and a server another run
    is acting on (its task_state set and that run's lease live), checked again under a lock on the server's
    host as the task is saved (Nova's C(expected_task_state)), so two runs racing on one server never both
    act.
  - Idempotent - a server already where the action leads (O(action=stop) of a stopped server, O(action=lock)
    of a locked one, ...) is left as it is and the task is C(ok). O(action=reboot) always reboots.
  - A task whose run died (killed in the middle, its task_state stays, its lease runs out within 60
    seconds) is recovered by the next run that acts on the server, as Nova's compute manager does when it
    starts - the task is cleared and the vm_state is what the domain is (running - C(active), paused -
    C(paused), saved - C(suspended), off - C(stopped)); the action then goes on.
  - The moves that go back through the scheduler (O(action=resize), O(action=migrate), their
    O(action=confirm_resize) and O(action=revert_resize), and O(action=live_migrate)) are Nova's MigrationTask
    and LiveMigrationTask. A run killed in the middle of one leaves its progress on record in both hosts'
    copies, and the next run that touches the server rolls it back (or, when the destination had finished,
    lets it stand) before anything else.
  - The console (O(action=console_output)) is the guest's serial console log, read through libvirt (so from
    remote hypervisors too), as Nova's C(os-getConsoleOutput).
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
extends_documentation_fragment:
  - novalite.compute.hypervisors
  - novalite.compute.hypervisors.inventory_group
  - novalite.compute.nova
attributes:
  check_mode:
    support: full
    description: Says, per server, whether the action would change it (C(action.changed) of each of RV(servers)); refusals are the same.
  diff_mode:
    support: none
    description: Not supported.
options:
  server:
    description:
      - The servers, each by name or UUID (as M(openstack.cloud.server_action)'s C(server)); one or a list.
      - A name no reachable hypervisor has is refused before anything changes.
      - Required, except with O(action=evacuate), where it narrows the evacuation to the servers named (all of
        O(source_host)'s when not given).
    type: list
    elements: str
    aliases: [name]
  action:
    description:
      - V(stop) - a clean shutdown (the ACPI power button, pressed again every 10 seconds) within
        O(shutdown_timeout), then the plug, as Nova's C(stop) (C(clean_shutdown)); vm_state C(stopped).
      - V(start) - vm_state C(active).
      - V(reboot) - as O(reboot_type) says; the server stays C(active).
      - V(pause) / V(unpause) - the guest's CPUs stop, its memory stays; C(paused) / C(active).
      - V(suspend) / V(resume) - the guest's memory saved on its hypervisor (libvirt's managed save) and the
        domain shut off; C(suspended) / C(active), the guest going on where it was.
      - V(lock) / V(unlock) - a locked server refuses every action but unlock, and its delete.
      - V(console_output) - the last O(length) lines of each server's serial console, in
        the C(console_output) of each of RV(servers) and RV(console_output).
      - V(rebuild) - the server built again from O(image) on its own host - the same UUID, name, MACs,
        addresses and flavor; the root disk made anew on the image's base (the ephemeral disk too, unless
        O(preserve_ephemeral)), the config drive written again. task_states C(rebuilding),
        C(rebuild_block_device_mapping), C(rebuild_spawning); C(active), or C(stopped) again when it was
        stopped, as in Nova. Always rebuilds.
      - V(rescue) - the server booted from a rescue image (O(image), else its own) with its root disk attached
        as the second disk (C(vdb)), as Nova's libvirt driver rescues; C(rescued) (status C(RESCUE)). The
        rescue runs from the domain's live definition only, its persistent one stays the server's.
      - V(unrescue) - the rescue powered off and its disk removed, the server started from its own disk;
        C(active). (V(stop) of a rescued server also ends its rescue.)
      - V(resize) - the server moved to a host the scheduler picks with its stored request spec and the new
        O(flavor) (the filters, its server group's policy and its zone all hold; its own host only with
        O(allow_resize_to_same_host)), as Nova's resize - a move claim on the destination, the server powered
        off, its disks copied (a bigger root grows; a smaller root or ephemeral disk is refused before anything
        changes), started there (if it ran) with the same MACs and addresses; task_states C(resize_prep),
        C(resize_migrating), C(resize_migrated), C(resize_finish); then vm_state C(resized) (status
        C(VERIFY_RESIZE)), the source keeping its powered-off copy, until V(confirm_resize) or V(revert_resize)
        (or at once with O(auto_confirm)). A failure rolls the move back onto the source. C(migration) of each of
        RV(servers) is its migration record.
      - V(migrate) - a cold migration - the same with the server's own flavor, to another host, O(host) if
        given (still checked by every filter, as Nova's API 2.56).
      - V(confirm_resize) - the source's copy removed; the server back in the vm_state it had.
      - V(live_migrate) - the guest keeps running while libvirt moves it to a host the scheduler picks (or
        O(host), still filtered), as Nova's live migration with block migration - no shared storage; the
        destination gets the bases, empty overlays and the config drive first, then QEMU copies memory and the
        overlays to it directly (the control node manages the migration over its own connections - the hosts need
        no SSH to one another, only to reach each other over TCP); the same MACs and DHCP reservations;
        task_state C(migrating). The C(migration) of each of RV(servers) has its C(downtime_ms). A failure, or
        O(completion_timeout) passing (the migration is then aborted), leaves the guest running on the source
        with nothing left on the destination.
      - V(revert_resize) - the destination's copy removed and the server back on its source with its old flavor.
      - V(evacuate) - the servers of O(source_host), a host that is down (it does not answer; the task refuses
        a host that does, as Nova refuses while the compute service is up), rebuilt elsewhere from their images
        through the scheduler (the source ignored; O(host) to choose the destination, still filtered) with the
        same UUID, name, MACs and addresses, their user data, metadata and key; a server that was stopped stays
        stopped (Nova before API 2.95). The down host's records are read from their replicas, which each
        server's record has on the next hypervisor by name (written by every task that leaves the server as it
        stays). When the source answers again, any task of this collection that reaches it destroys its stale
        copies, never starting them (Nova's C(_destroy_evacuated_instances)); the evacuation's C(migration)
        then becomes C(completed). Running both copies at once (the source only cut off, not down) is yours to
        prevent, as in Nova - make sure the host is down (fenced) before evacuating it.
    type: str
    required: true
    choices: [start, stop, reboot, pause, unpause, suspend, resume, lock, unlock, console_output, rebuild,
              rescue, unrescue, resize, migrate, confirm_resize, revert_resize, live_migrate, evacuate]
  source_host:
    description:
      - With O(action=evacuate), the hypervisor that is down (by its name in O(hypervisors)), whose servers are
        evacuated.
    type: str
  flavor:
    description: With O(action=resize), the new flavor, a name of the O(flavors) catalog.
    type: str
  host:
    description:
      - With O(action=migrate), O(action=live_migrate) or O(action=evacuate), the hypervisor to move to (by its
        name in O(hypervisors)); the scheduler picks one when not given.
    type: str
  completion_timeout:
    description:
      - With O(action=live_migrate), seconds (1 to 86400) the migration may take before it is aborted (Nova's
        C(live_migration_completion_timeout)); what is left of O(timeout) when not given.
    type: int
  live_migration_bandwidth:
    description:
      - With O(action=live_migrate), the most MiB/s (1 to 100000) the migration may use (Nova's
        C([libvirt] live_migration_bandwidth)); no limit when not given.
    type: int
  allow_resize_to_same_host:
    description:
      - With O(action=resize), Nova's C(allow_resize_to_same_host) (false by default, as Nova's) - whether the
        server's own host may be chosen. On its own host the server is powered off, its root and ephemeral disks are
        kept aside as copies (for a revert) and grown, and it starts with the new flavor; a flavor that adds or
        removes an ephemeral or swap disk is refused there.
    type: bool
    default: false
  auto_confirm:
    description: With O(action=resize) or O(action=migrate), confirm the move at once (Nova's C(resize_confirm_window) reached).
    type: bool
    default: false
  reboot_type:
    description:
      - V(soft) - the ACPI power button, and once the guest is off, started again; a guest that does not
        shut down within O(shutdown_timeout) is rebooted hard instead, as Nova does
        (C(action.reboot_type) of each of RV(servers) says which reboot was done).
      - V(hard) - powered off and started again. Also allowed when the server is stopped, paused, suspended
        or in error, as in Nova.
    type: str
    choices: [soft, hard]
    default: soft
  shutdown_timeout:
    description:
      - Seconds (0 to 3600) a guest has to shut down cleanly on O(action=stop) and a soft reboot (Nova's
        C(shutdown_timeout)); 0 powers it off at once.
    type: int
    default: 60
  override_lock:
    description:
      - Act on a locked server all the same (Nova's admin). A lock taken with it is the admin's, which only
        an unlock with it removes.
    type: bool
    default: false
  image:
    description:
      - With O(action=rebuild), the image to rebuild from, and with O(action=rescue) the rescue image (Nova's
        C(rescue_image_ref)), a name of the O(images) catalog; the server's own image when not given.
      - A rebuild's image's properties are checked against the server's hypervisor with the scheduler's
        C(ImagePropertiesFilter), as Nova checks a rebuild's new image on the same host.
    type: str
  userdata:
    description:
      - With O(action=rebuild), the new user data for the config drive; the server's (read from its old
        config drive) when not given.
    type: str
    aliases: [user_data]
  metadata:
    description: With O(action=rebuild), the server's new metadata; kept when not given.
    type: dict
    aliases: [meta]
  preserve_ephemeral:
    description: With O(action=rebuild), keep the ephemeral disk as it is (Nova's C(preserve_ephemeral)).
    type: bool
    default: false
  length:
    description: With O(action=console_output), the number of lines (0 to 100000) from the end; all (up to 100 KiB) when not given.
    type: int
  wait:
    description:
      - After an action that leads to a running guest, wait until each server reaches O(wait_for). The action
        itself always ends within the task (no service goes on with it afterwards).
    type: bool
    default: true
  wait_for:
    description:
      - What a server must reach, with O(wait=true), after an action that leaves it running - V(active)
        (its domain runs), V(lease) (also the DHCP lease of every port), V(ssh) (also port 22 answers).
    type: str
    choices: [active, lease, ssh]
    default: active
  timeout:
    description: Seconds (1 to 86400) the whole task may take; every wait takes what it needs from what is left.
    type: int
    default: 180
  flavors:
    description:
      - The flavor catalog, for O(action=resize) (as M(novalite.compute.nova_server) takes it).
  images:
    description:
      - The image catalog, for O(action=rebuild) (as M(novalite.compute.nova_server) takes it).
    default: []
  keypairs:
    description:
      - The key pairs catalog, for O(action=rebuild) of a server with a key pair (its rebuilt config drive has
        the key).
  server_groups:
    description:
      - The server groups catalog, for the moves of servers created before their request spec was kept (their
        spec is built from their record, its group's policy from this catalog).
  quotas:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
  scheduler:
    description:
      - Not used by this module; accepted as an option of the action group C(novalite.compute.nova), so that
        C(module_defaults) for C(group/novalite.compute.nova) can carry it (M(novalite.compute.nova_server) uses it).
notes:
  - O(notifications_file) gets every notification of the task, as M(novalite.compute.nova_server)'s does.
"""

EXAMPLES = r"""
- name: A server to act on
  novalite.compute.nova_server:
    name: web1
    image: debian-12
    flavor: m1.tiny
    hypervisors: "{{ nova_hypervisors }}"

- name: Stop it (a clean shutdown within 30 seconds, then the plug)
  novalite.compute.nova_server_action:
    server: web1
    action: stop
    shutdown_timeout: 30
    hypervisors: "{{ nova_hypervisors }}"

- name: Start it again
  novalite.compute.nova_server_action:
    server: web1
    action: start
    hypervisors: "{{ nova_hypervisors }}"

- name: Reboot it hard
  novalite.compute.nova_server_action:
    server: web1
    action: reboot
    reboot_type: hard
    hypervisors: "{{ nova_hypervisors }}"

- name: Lock it, so that nothing but an unlock acts on it
  novalite.compute.nova_server_action:
    server: web1
    action: lock
    hypervisors: "{{ nova_hypervisors }}"

- name: Unlock it
  novalite.compute.nova_server_action:
    server: web1
    action: unlock
    hypervisors: "{{ nova_hypervisors }}"

- name: The last 20 lines of its console
  novalite.compute.nova_server_action:
    server: web1
    action: console_output
    length: 20
    hypervisors: "{{ nova_hypervisors }}"
  register: console

- name: Show them
  ansible.builtin.debug:
    msg: "{{ console.console_output }}"

- name: Rebuild it from an image of the catalog, with new user data
  novalite.compute.nova_server_action:
    server: web1
    action: rebuild
    image: debian-12
    user_data: |
      #cloud-config
      hostname: web1
    hypervisors: "{{ nova_hypervisors }}"

- name: Rescue it - boot a rescue image with its root disk attached as vdb
  novalite.compute.nova_server_action:
    server: web1
    action: rescue
    hypervisors: "{{ nova_hypervisors }}"

- name: End the rescue
  novalite.compute.nova_server_action:
    server: web1
    action: unrescue
    hypervisors: "{{ nova_hypervisors }}"

- name: Resize it to m1.small on another host, confirmed at once
  novalite.compute.nova_server_action:
    server: web1
    action: resize
    flavor: m1.small
    auto_confirm: true
    flavors: "{{ nova_flavors }}"
    hypervisors: "{{ nova_hypervisors }}"

- name: Cold-migrate it (the scheduler picks the host)
  novalite.compute.nova_server_action:
    server: web1
    action: migrate
    hypervisors: "{{ nova_hypervisors }}"

- name: Revert the migration
  novalite.compute.nova_server_action:
    server: web1
    action: revert_resize
    hypervisors: "{{ nova_hypervisors }}"

- name: Live-migrate it, aborted if it takes more than two minutes
  novalite.compute.nova_server_action:
    server: web1
    action: live_migrate
    completion_timeout: 120
    hypervisors: "{{ nova_hypervisors }}"

- name: Delete it
  novalite.compute.nova_server:
    name: web1
    state: absent
    hypervisors: "{{ nova_hypervisors }}"

# compute2 is down (powered off, or fenced): its servers rebuilt elsewhere
- name: Evacuate compute2
  novalite.compute.nova_server_action:
    action: evacuate
    source_host: compute2
    images: "{{ nova_images }}"
    hypervisors: "{{ nova_hypervisors }}"
"""

RETURN = r"""
servers:
  description:
    - Each server named, after the action, shaped as the RV(novalite.compute.nova_server#module:server) of
      M(novalite.compute.nova_server) (id, name, status, vm_state, task_state, power_state, locked, ...), with
      C(action) - its C(name), whether it C(changed) the server (in check mode - whether it would), and what
      was done - C(clean_shutdown) for a stop (whether the guest shut down by itself), C(reboot_type) for a
      reboot (C(hard) when a soft reboot fell back).
    - With O(action=console_output), also C(console_output), the lines of its console.
    - With a move (O(action=resize), V(migrate), V(confirm_resize), V(revert_resize), V(live_migrate)), also
      C(migration), the move's migration record - C(uuid), C(migration_type), C(status), C(source_compute),
      C(dest_compute), C(old_flavor), C(new_flavor), and the figures of its copy (C(disk_bytes),
      C(disk_copy_seconds); for a live migration C(seconds), C(downtime_ms), C(time_elapsed_ms),
      C(memory_bytes)).
  returned: always
  type: list
  elements: dict
server:
  description: The server, when one was named; as an item of RV(servers).
  returned: when O(server) names one server
  type: dict
console_output:
  description: With O(action=console_output) and one server, the lines of its console (Nova's C(output)).
  returned: when O(action=console_output) names one server
  type: str
notifications:
  description: The notifications emitted, Nova's envelope (event_type, publisher_id, payload, ...).
  returned: always
  type: list
  elements: dict
hypervisors_down:
  description: Hypervisors that could not be reached, with the reason.
  returned: when some hypervisor was unreachable
  type: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils import exception
from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import group_argument_spec
from ansible_collections.novalite.compute.plugins.module_utils.compute import api
from ansible_collections.novalite.compute.plugins.module_utils.compute import notifications
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import scheduler_config
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import InvalidRequest, check_int
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import (
    check_meta, check_notifications_file, check_userdata)
from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection

ACTIONS = ["start", "stop", "reboot", "pause", "unpause", "suspend", "resume", "lock", "unlock", "console_output",
           "rebuild", "rescue", "unrescue", "resize", "migrate", "confirm_resize", "revert_resize", "live_migrate",
           "evacuate"]
MOVES = ("resize", "migrate", "confirm_resize", "revert_resize", "live_migrate")


def open_url(url, **kwargs):
    """ansible.module_utils.urls.open_url, imported when a rebuild's image is downloaded."""
    from ansible.module_utils.urls import open_url as urls_open_url
    return urls_open_url(url, **kwargs)


def check_action_request(params):
    """The request, checked beyond the argument spec; InvalidRequest naming the field."""
    servers = params["server"] or []
    if params["action"] == "evacuate":
        if not params["source_host"]:
            raise InvalidRequest("source_host: action=evacuate needs the hypervisor that is down")
    elif params["source_host"]:
        raise InvalidRequest("source_host: only applies with action=evacuate")
    elif not servers:
        raise InvalidRequest("server: name at least one server")
    for index, name in enumerate(servers):
        if not isinstance(name, str) or not name.strip() or len(name) > 255 or any(ord(c) < 32 for c in name):
            raise InvalidRequest("server[%d]: %r is not a server name or UUID (1 to 255 printable characters)"
                                 % (index, name))
    check_int("timeout", params["timeout"], 1, 86400)
    check_int("connect_timeout", params["connect_timeout"], 1, 3600)
    check_int("shutdown_timeout", params["shutdown_timeout"], 0, 3600)
    if params["length"] is not None:
        check_int("length", params["length"], 0, 100000)
    check_notifications_file("notifications_file", params["notifications_file"])
    rebuild_only = [key for key in ("userdata", "metadata") if params[key] is not None]
    if params["preserve_ephemeral"]:
        rebuild_only.append("preserve_ephemeral")
    if rebuild_only and params["action"] != "rebuild":
        raise InvalidRequest("%s: only applies with action=rebuild" % rebuild_only[0])
    if params["image"] is not None and params["action"] not in ("rebuild", "rescue"):
        raise InvalidRequest("image: only applies with action=rebuild or action=rescue")
    action = params["action"]
    if params["completion_timeout"] is not None:
        check_int("completion_timeout", params["completion_timeout"], 1, 86400)
    if params["live_migration_bandwidth"] is not None:
        check_int("live_migration_bandwidth", params["live_migration_bandwidth"], 1, 100000)
    for key, allowed in (("flavor", ("resize",)), ("host", ("migrate", "live_migrate", "evacuate")),
                         ("completion_timeout", ("live_migrate",)), ("live_migration_bandwidth", ("live_migrate",)),
                         ("allow_resize_to_same_host", ("resize",)), ("auto_confirm", ("resize", "migrate"))):
        if params[key] and action not in allowed:
            raise InvalidRequest("%s: only applies with action=%s" % (key, " or ".join(allowed)))
    if action == "resize" and not params["flavor"]:
        raise InvalidRequest("flavor: action=resize needs the new flavor")
    meta = check_meta(params["metadata"], "metadata") if params["metadata"] is not None else None
    return {"image": params["image"], "userdata": check_userdata("userdata", params["userdata"]), "meta": meta,
            "preserve_ephemeral": params["preserve_ephemeral"], "servers": list(servers), "action": params["action"],
            "reboot_type": params["reboot_type"],
            "shutdown_timeout": params["shutdown_timeout"], "override_lock": params["override_lock"],
            "length": params["length"], "flavor": params["flavor"], "host": params["host"],
            "allow_resize_to_same_host": params["allow_resize_to_same_host"], "auto_confirm": params["auto_confirm"],
            "completion_timeout": params["completion_timeout"], "bandwidth": params["live_migration_bandwidth"],
            "source_host": params["source_host"]}


def run(params, check_mode=False):
    """The module's result; a failure has failed=True and msg."""
    notifier = notifications.Notifier(params["notifications_file"])
    result = _outcome(params, notifier, check_mode)
    result["notifications"] = notifier.events
    if notifier.write_error:
        result.setdefault("warnings", []).append(notifier.write_error)
    return result


def _outcome(params, notifier, check_mode):
    try:
        request = check_action_request(params)
        catalogs = check_catalogs(params["flavors"], params["images"], params["hypervisors"],
                                  params["server_groups"], keypairs=params["keypairs"])
        compute_api = api.ComputeAPI(
            catalogs, scheduler_config({}), notifier=notifier, check_mode=check_mode, wait=params["wait"],
            timeout=params["timeout"], connect_timeout=params["connect_timeout"], wait_for=params["wait_for"],
            open_url=open_url)
        if request["action"] == "evacuate":
            result = compute_api.evacuate(request)
        elif request["action"] in MOVES:
            result = compute_api.move_action(request)
        else:
            result = compute_api.server_action(request)
    except (InvalidRequest, images.ImageError) as exc:
        return dict(failed=True, msg=str(exc))
    except exception.ComputeError as exc:
        return dict(exc.details, failed=True, msg=str(exc), servers=exc.servers)
    except Exception as exc:  # an unexpected failure still returns what happened
        return dict(failed=True, msg="unexpected error: %s" % exc, exception=traceback.format_exc())
    down = compute_api.unreachable()
    if down:
        result["hypervisors_down"] = down
    if len(result["servers"]) == 1:
        result["server"] = result["servers"][0]
        if request["action"] == "console_output":
            result["console_output"] = result["server"]["console_output"]
    if not result.get("warnings"):
        result.pop("warnings", None)
    return result


def argument_spec():
    spec = dict(
        server=dict(type="list", elements="str", aliases=["name"]),
        action=dict(type="str", required=True, choices=ACTIONS),
        reboot_type=dict(type="str", default="soft", choices=["soft", "hard"]),
        shutdown_timeout=dict(type="int", default=60),
        override_lock=dict(type="bool", default=False),
        length=dict(type="int"),
        wait=dict(type="bool", default=True),
        wait_for=dict(type="str", default="active", choices=["active", "lease", "ssh"]),
        timeout=dict(type="int", default=180),
        image=dict(type="str"),
        userdata=dict(type="str", no_log=True, aliases=["user_data"]),
        metadata=dict(type="dict", aliases=["meta"]),
        preserve_ephemeral=dict(type="bool", default=False),
        flavor=dict(type="str"),
        host=dict(type="str"),
        source_host=dict(type="str"),
        allow_resize_to_same_host=dict(type="bool", default=False),
        auto_confirm=dict(type="bool", default=False),
        completion_timeout=dict(type="int"),
        live_migration_bandwidth=dict(type="int"),
    )
    spec.update(group_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    result = run(module.params, check_mode=module.check_mode)
    for warning in result.pop("warnings", ()):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
