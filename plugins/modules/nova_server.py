#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_server
short_description: Create or delete servers on libvirt hypervisors the way OpenStack Nova does
version_added: "0.1.0"
description:
  - Performs Nova's create-server flow against the libvirt hypervisors named in O(hypervisors),
    with no OpenStack. The request is validated, quota is checked against the instances
    found on the hypervisors, a request spec is built and the filter scheduler picks a host
    (and alternates) per server, a claim re-checks the chosen host's live usage under a lock
    held on the hypervisor itself, then networking (MAC and DHCP reservation), block devices
    (qcow2 overlay on a cached base image, ephemeral, swap, config drive) and the domain are built
    and started. A failed build is cleaned up and rescheduled to an alternate host.
  - The instance record (vm_state, task_state, power_state, launched_at, flavor, ports, ...) is kept
    in the libvirt domain's metadata; the hypervisor is the record, there is no other database.
  - Idempotent by name (or UUID, see O(name)). A server that exists anywhere among O(hypervisors) is
    not touched again, except for O(metadata), which is updated in place. Where it differs from the
    request in anything else (flavor, image, networks, key pair, user data, zone, server group,
    config drive), the difference is its RV(server.drift), with a warning, or a failure (O(on_drift)).
  - A build that another run has under way (its lease, renewed by its run every 15 seconds, is live)
    is waited for, within O(timeout). A build whose run died (killed, or its control node lost) is
    reaped once its lease, 60 seconds after its run's last renewal, has passed, and built anew.
  - The module runs on the control node and reaches each hypervisor through its libvirt URI
    (C(qemu:///system) locally, C(qemu+ssh://root@host/system) remotely).
author:
  - novalite.compute developers (@novalite)
requirements:
  - libvirt-python
  - pycdlib
extends_documentation_fragment:
  - novalite.compute.hypervisors
  - novalite.compute.hypervisors.inventory_group
  - novalite.compute.nova
attributes:
  check_mode:
    support: full
    description: Reports the placement each server would get, creating nothing.
  diff_mode:
    support: full
    description: Shows each server before and after (status, host, flavor, image, metadata, addresses).
options:
  name:
    description:
      - Name of the server. With O(max_count) above 1, servers are named C(NAME-1) ... C(NAME-N).
      - Letters, digits, C(.), C(_) and C(-), at most 63 characters, starting with a letter or digit;
        with O(max_count) above 1, C(NAME-N) must fit in 63 characters too.
      - As in M(openstack.cloud.server), the UUID of an existing server may be given instead of its
        name, to delete it (O(state=absent)) or to report it (O(state=present)), with O(max_count) 1.
        A UUID that no server has is refused with O(state=present), since a new server's name cannot be
        a UUID (it would be taken for one); with O(state=absent) nothing is deleted.
    type: str
    required: true
  allow_resize:
    description:
      - With O(state=present), a server that exists with another flavor than O(flavor) is resized to
        it, as Nova's resize does - through the scheduler with the server's stored request spec and
        the new flavor (its other host's filters, group policy and zone all hold), a move claim on
        the destination, the server powered off, its disks copied (a bigger root disk grows; a
        smaller one is refused before anything changes), started there with the same MACs and
        addresses. It is then C(VERIFY_RESIZE) (vm_state C(resized)), the source keeping its powered-off
        copy, until confirmed or reverted, or confirmed at once with O(resize_auto_confirm).
      - Without it, a different flavor is drift (O(on_drift)).
    type: bool
    default: false
  allow_resize_to_same_host:
    description:
      - Nova's C(allow_resize_to_same_host) (default false, as Nova's) - whether the server's own
        host may be chosen for a resize. On its own host the server is powered off, its root and
        ephemeral disks are kept aside as copies (for a revert) and grown, and it starts with the new
        flavor; a flavor that adds or removes an ephemeral or swap disk is refused there.
    type: bool
    default: false
  resize_auto_confirm:
    description: Confirm a resize made with O(allow_resize) at once (the source's copy removed).
    type: bool
    default: false
  state:
    description: Whether the server should exist.
    type: str
    choices: [present, absent]
    default: present
  image:
    description: Name of an image of the O(images) catalog. Required when O(state=present).
    type: str
  flavor:
    description: Name of a flavor of the O(flavors) catalog. Required when O(state=present).
    type: str
  network:
    description:
      - The name of one network to attach, as M(openstack.cloud.server)'s O(network) - a simpler
        O(nics), for the usual one NIC. Give either O(network) or O(nics), not both.
    type: str
  nics:
    description:
      - Networks to attach, in order. Each is a libvirt network that must exist on the hypervisor
        (the scheduler only considers hosts that have all of them).
      - "Each item is either a network name, or a dictionary with the network's name as C(net-name)
        (also accepted as C(net-id) or C(network)) and optionally C(fixed_ip) (also C(v4-fixed-ip)), an
        IPv4 address in the network's DHCP range, for one server only; as M(openstack.cloud.server)
        takes them. Other keys are refused. Since an item may be a string, it has no suboptions: the
        module checks each item itself, naming it (C(nics[0].net-name))."
      - At most 28 items (each NIC takes a PCI slot of the guest's root bus; Nova's API sets no count).
    type: list
    elements: raw
    default: []
  key_name:
    description: Name of a key pair of O(keypairs); its public key goes onto the config drive.
    type: str
  userdata:
    description:
      - User data for the guest, written to the config drive as C(user_data), as given (not base64).
        Also accepted as C(user_data).
      - "At most 49149 bytes: Nova's limit is 65535 bytes of the base64 encoding the API takes
        (M(openstack.cloud.server) encodes it for you), and the same limit applies here."
      - A larger one is refused by the action plugin as the argument is templated (ansible-core 2.19 and
        newer; on older ones before the module is built), with a message naming the field and its size.
      - Treated as a secret, since user data often carries passwords and tokens (cloud-init
        C(chpasswd), registration tokens). It is marked C(no_log), so Ansible hides it in the task's
        invocation (C(-vvv) output, registered results) and the module's log on the control node, and
        replaces any copy of its text in the results with C(********). The results never contain it, not
        in RV(server), RV(servers), RV(notifications) nor the diff. Very short user data can therefore
        mask equal text elsewhere in the results.
      - Kept only on the config drive volume, which is readable by its owner only (mode 0600). The
        instance record keeps a salted PBKDF2-SHA256 digest of it, so that a rerun with other user
        data reports the drift (RV(server.drift)) without the data being stored anywhere else.
    type: str
    aliases: [user_data]
  admin_password:
    description:
      - Admin password placed on the config drive as C(admin_pass) in C(meta_data.json), as Nova does.
      - A secret (C(no_log)); it is only on the config drive volume (mode 0600), never in the domain's
        metadata, the results, the notifications or the diff.
      - At most 255 characters, no control characters.
    type: str
  metadata:
    description:
      - Metadata key/value pairs of the server, as Nova takes them; at most 128 items, keys of 1 to 255
        and values of at most 255 characters, with no control characters; values are strings
        (numbers and booleans are turned into strings, lists and dictionaries are refused).
        As in M(openstack.cloud.server), also accepted as C(meta), and as text C(key1=value1,key2=value2).
      - The one thing of an existing server that is changed to match the request.
      - The keys are the user's own, so it has no suboptions.
    type: dict
    default: {}
    aliases: [meta]
  availability_zone:
    description: Availability zone to place the server in (a zone of some hypervisor).
    type: str
  scheduler_hints:
    description:
      - Nova's scheduler hints. C(group) names a server group of O(server_groups) the servers join;
        C(same_host) and C(different_host) give servers, by name or uuid (one as a string, or a list),
        whose hosts the servers must be on, or not be on. Other hints are refused.
    type: dict
    default: {}
  config_drive:
    description:
      - Attach a config drive (ISO 9660, label C(config-2)) with meta_data, user_data, network_data.
      - V(true) by default, where M(openstack.cloud.server)'s default is V(false) - in OpenStack a
        guest reads its key pair, user data and network configuration from the metadata service,
        and the config drive is the alternative to it. Here there is no metadata service, so the
        config drive is the only way they reach the guest; with V(false), O(key_name), O(userdata)
        and O(admin_password) do not reach it.
    type: bool
    default: true
  min_count:
    description:
      - The fewest servers to create (1 to 1000). As in Nova, only the quota may lower the count from
        O(max_count) towards O(min_count); the scheduler then places every server of the request or none
        (C(No valid host was found)), and when claims are lost to racing runs after scheduling and fewer
        than O(min_count) servers exist, the ones this run built are removed.
    type: int
    default: 1
  max_count:
    description: The most servers to create in this one request (1 to 1000). Defaults to O(min_count).
    type: int
  wait:
    description:
      - Wait until each server is ready as O(wait_for) says before returning.
      - Unlike M(openstack.cloud.server), where V(false) returns as soon as the cloud accepted the
        request, the build itself always ends within the task, since no service goes on with it
        afterwards. V(false) returns once each server's domain is started, without waiting for it to
        run or for O(wait_for).
    type: bool
    default: true
  wait_for:
    description:
      - What a server must reach, with O(wait=true), before the task returns. V(active) - its domain
        runs (vm_state C(active)). V(lease) - also, the guest holds the DHCP lease of every port.
        V(ssh) - also, port 22 of its first address answers from the control node (which the
        default isolated networks only allow when the control node is the hypervisor).
      - A server that does not get there within O(timeout) fails the task with the end of its console;
        it stays, built.
    type: str
    choices: [active, lease, ssh]
    default: active
  on_drift:
    description:
      - What to do when a server of the request exists and differs from the request in something
        other than O(metadata) - its flavor (name or figures), image, networks (O(nics) or O(network),
        with their fixed IPs), O(key_name), user data, O(availability_zone), server group
        (C(scheduler_hints.group)) or O(config_drive). Each server's differences are its
        RV(server.drift).
      - V(warn) - the server is left as it is and reported C(ok) (or C(changed) when its metadata was
        updated), with a warning naming each difference.
      - V(fail) - the task fails naming the servers and fields, before anything is changed (not even
        metadata, and no missing server of the request is built).
      - Either way, nothing but metadata is changed on an existing server; changing its flavor is a resize,
        which this module does not do.
      - User data is compared with the digest kept in the instance record; a server built by a
        version without that digest reports no user data drift.
    type: str
    choices: [warn, fail]
    default: warn
  timeout:
    description:
      - Seconds (1 to 86400) the whole task may take, as M(openstack.cloud.server)'s. Every wait takes
        what it needs from what is left - image downloads, locks, another run's build of the same name,
        the domains starting, and O(wait_for) - and the task fails naming what it was waiting for once
        nothing is left. A build cut short by it is cleaned up like a failed build (no alternate is
        tried); servers already built stay.
      - A run killed in the middle leaves its builds to be reaped 60 seconds after it died, so a rerun
        with a O(timeout) above 60 seconds waits for that and builds them anew.
    type: int
    default: 180
  images:
    default: []
  project:
    description: The project (tenant) the servers belong to; quota is counted per project.
    type: str
    default: default
  purge_orphans:
    description:
      - With O(state=absent), also remove from every reachable hypervisor what belongs to no
        complete server, as Nova's C(running_deleted_instance_action=reap) does. That is abandoned
        half-built domains, instance volumes of no domain, DHCP reservations no server names, locks
        left by runs that died and half-uploaded base images.
      - M(novalite.compute.nova_host_facts) lists them as C(orphans).
    type: bool
    default: false
  override_lock:
    description:
      - With O(state=absent), delete locked servers all the same (Nova's admin); with O(state=present),
        change a locked server's O(metadata) all the same. Without it a locked server
        (M(novalite.compute.nova_server_action) O(novalite.compute.nova_server_action#module:action=lock))
        is refused, as Nova refuses it, before any server of the task is deleted or changed.
    type: bool
    default: false
  allow_unchecked_names:
    description:
      - Names are unique across O(hypervisors). A server that does not exist yet is only created when
        every hypervisor answers, since its name could be taken on one that does not; the task fails
        naming the hypervisors that are down.
      - Set to V(true) to create it all the same on the hypervisors that answer, knowing that a server
        of the same name may exist on one that did not.
    type: bool
    default: false
notes:
  - Ephemeral and swap disks are attached unformatted; the guest (cloud-init) formats them.
  - The module runs on the control node. Where the task would run it there with the very Python
    running Ansible (a local connection, no become, no task C(environment), no async, and
    C(ansible_python_interpreter) unset, C(auto) or that Python), the action plugin does the module's
    work in its own process, with the same argument checks and results, and no module process is
    started. Otherwise the module runs as any module does.
"""

EXAMPLES = r"""
- name: Boot one server on the inventory's hypervisors
  novalite.compute.nova_server:
    name: web1
    image: debian-12
    flavor: m1.small
    nics:
      - net-name: private
    key_name: ops
    metadata:
      role: web
    hypervisors:
      - name: compute1
        uri: qemu+ssh://root@compute1/system
        availability_zone: az1
      - name: compute2
        uri: qemu+ssh://root@compute2/system
    flavors:
      - {name: m1.small, vcpus: 1, ram: 2048, disk: 20}
    images:
      - {name: debian-12, file: /srv/images/debian-12.qcow2, properties: {architecture: x86_64}}
    keypairs:
      ops: "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
  register: web1

# Every server of the request is placed, or none: min_count only lets the quota cut the count
- name: Boot three workers, each on its own hypervisor (anti-affinity), or two if the quota leaves room for two only
  novalite.compute.nova_server:
    name: worker
    image: debian-12
    flavor: m1.small
    min_count: 2
    max_count: 3
    scheduler_hints:
      group: workers
    server_groups:
      - {name: workers, policy: anti-affinity}
    hypervisors: "{{ nova_hypervisors }}"
    flavors: "{{ nova_flavors }}"
    images: "{{ nova_images }}"

- name: Boot a server on one network, with openstack.cloud.server's option names
  novalite.compute.nova_server:
    name: db1
    image: debian-12
    flavor: m1.small
    network: private
    meta:
      role: db
    user_data: |
      #cloud-config
      package_upgrade: true
    on_drift: fail
    hypervisors: "{{ nova_hypervisors }}"
    flavors: "{{ nova_flavors }}"
    images: "{{ nova_images }}"

- name: Delete a server
  novalite.compute.nova_server:
    name: db1
    state: absent
    hypervisors: "{{ nova_hypervisors }}"

- name: Delete a server by its UUID
  novalite.compute.nova_server:
    name: "{{ web1.server.id }}"
    state: absent
    hypervisors: "{{ nova_hypervisors }}"
"""

RETURN = r"""
server:
  description: The server, when one server was asked for.
  returned: when O(max_count) is 1
  type: dict
  contains:
    id:
      description: Instance uuid, also the domain's uuid.
      type: str
    name:
      description: Server name, also the domain's name.
      type: str
    status:
      description: "Nova API status: ACTIVE, BUILD, ERROR or DELETED."
      type: str
    vm_state:
      description: Nova vm_state.
      type: str
    task_state:
      description: Nova task_state, null when no task is under way.
      type: str
    power_state:
      description: Nova power_state number, 1 is running and 4 is shut down.
      type: int
    hypervisor_hostname:
      description: Hypervisor (inventory name) the server runs on.
      type: str
    availability_zone:
      description: Zone of that hypervisor.
      type: str
    flavor:
      description: The flavor the server was built with.
      type: dict
    image:
      description: The image the server was built from, by name.
      type: dict
    addresses:
      description: Per network, the fixed address and MAC, shaped as openstack.cloud shapes them.
      type: dict
    metadata:
      description: The server's metadata.
      type: dict
    launched_at:
      description: When the server became active, in UTC.
      type: str
    fault:
      description: The last fault of the build, when there was one.
      type: dict
    drift:
      description:
        - With O(state=present), how the server differs from the request, one item per field with
          C(field) (C(flavor), C(image), C(nics), C(key_name), C(user_data), C(availability_zone),
          C(server_group), C(config_drive)), C(requested) and C(actual); empty when it matches or was
          built in this run. Metadata is not drift, it is updated. See O(on_drift).
        - A flavor of the same name with other figures shows only the figures that differ. User data is
          never shown, only whether some was given and whether it is the same.
      type: list
      elements: dict
      sample: [{field: flavor, requested: m1.small, actual: m1.tiny}]
  sample:
    id: 8f2c1f8e-6d0a-4f53-9a40-1d6c8f0e1a11
    name: web1
    status: ACTIVE
    vm_state: active
    task_state: null
    power_state: 1
    hypervisor_hostname: compute1
servers:
  description:
    - Every server of the request (one item when one server was asked for), each shaped as RV(server).
    - A server scheduled in this run also carries C(placement), with the host the scheduler C(selected),
      its C(alternates), its C(weight), and the request's per-filter host counts (C(filters)) and best
      weighed hosts (C(weighed)).
  returned: always
  type: list
  elements: dict
placement:
  description:
    - How the scheduler placed the servers, when something was scheduled. C(filters) gives per-filter
      host counts, C(weighed) the best weighed hosts, C(hosts) the host chosen for each server.
  returned: when servers were scheduled
  type: dict
resized:
  description:
    - With O(allow_resize), per server resized by this task, its migration (C(uuid), C(migration_type),
      C(status), C(source_compute), C(dest_compute), C(old_flavor), C(new_flavor), C(disk_bytes),
      C(disk_copy_seconds)); in check mode, the planned destination host.
  returned: when a server was resized
  type: dict
faults:
  description: Every failed build attempt (server, host, attempt, message), rescheduled or final.
  returned: always
  type: list
  elements: dict
notifications:
  description: The notifications emitted, Nova's envelope (event_type, publisher_id, payload, ...).
  returned: always
  type: list
  elements: dict
orphans_removed:
  description: Per hypervisor, the orphans removed (see O(purge_orphans)).
  returned: when O(purge_orphans) is true
  type: dict
hypervisors_down:
  description:
    - Hypervisors that could not be reached, with the reason; they were treated as down. (Not
      C(unreachable), which Ansible reserves for the host the task runs on.)
  returned: when some hypervisor was unreachable
  type: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils import exception
from ansible_collections.novalite.compute.plugins.module_utils.argument_specs import group_argument_spec
from ansible_collections.novalite.compute.plugins.module_utils.compute import api
from ansible_collections.novalite.compute.plugins.module_utils.compute import images as compute_images
from ansible_collections.novalite.compute.plugins.module_utils.compute import notifications
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.config import scheduler_config
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs
from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    InvalidRequest, check_int, check_name)
from ansible_collections.novalite.compute.plugins.module_utils.validation.server_request import (
    check_notifications_file, check_quotas, check_server_request)
from ansible_collections.novalite.compute.plugins.module_utils.virt import configdrive
from ansible_collections.novalite.compute.plugins.module_utils.virt import images
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import connection


def open_url(url, **kwargs):
    """ansible.module_utils.urls.open_url, imported when an image is downloaded: importing it (and
    the TLS and cryptography modules it pulls in) is a fifth of the module's start-up."""
    from ansible.module_utils.urls import open_url as urls_open_url
    return urls_open_url(url, **kwargs)


def run(params, check_mode=False, diff=False):
    """The module's result for these parameters (as AnsibleModule validated them); a failure
    has failed=True and msg. A notifications file that cannot be written is a warning: the
    result says what the build did."""
    notifier = notifications.Notifier(params["notifications_file"])
    result = _outcome(params, notifier, check_mode, diff)
    result["notifications"] = notifier.events
    if notifier.write_error:
        result.setdefault("warnings", []).append(notifier.write_error)
    return result


def _outcome(params, notifier, check_mode, diff):
    try:
        catalogs = check_catalogs(params["flavors"], params["images"], params["hypervisors"],
                                  params["server_groups"], params["keypairs"])
        request = check_server_request(params, catalogs)
        request["override_lock"] = params["override_lock"]
        check_int("timeout", params["timeout"], 1, 86400)
        check_int("connect_timeout", params["connect_timeout"], 1, 3600)
        check_name("project", params["project"])
        quotas = check_quotas(params["quotas"])
        check_notifications_file("notifications_file", params["notifications_file"])
        # The scheduler options given (Nova's defaults for the others, which are null).
        scheduler = dict((key, value) for key, value in (params["scheduler"] or {}).items() if value is not None)
        compute_api = api.ComputeAPI(
            catalogs, scheduler_config(scheduler), project_id=params["project"],
            quotas=quotas, notifier=notifier, check_mode=check_mode,
            wait=params["wait"], timeout=params["timeout"], connect_timeout=params["connect_timeout"],
            open_url=open_url, allow_unchecked_names=params["allow_unchecked_names"], wait_for=params["wait_for"],
            on_drift=params["on_drift"], allow_resize=params["allow_resize"],
            allow_resize_to_same_host=params["allow_resize_to_same_host"],
            resize_auto_confirm=params["resize_auto_confirm"])
        if params["state"] == "absent":
            result = compute_api.delete(request)
        else:
            compute_images.prepare_request_images(request, catalogs, open_url=open_url,
                                                  timeout=compute_api.remaining("reading the images"))
            result = compute_api.create(request)
    except (InvalidRequest, images.ImageError) as exc:
        return dict(failed=True, msg=str(exc))
    except exception.ComputeError as exc:
        return dict(exc.details, failed=True, msg=str(exc), servers=exc.servers)
    except Exception as exc:  # an unexpected failure still returns what happened
        return dict(failed=True, msg="unexpected error: %s" % exc, exception=traceback.format_exc())
    changes = result.pop("diff", None)
    if diff and changes is not None:
        result["diff"] = changes
    if request["max_count"] == 1 and result["servers"]:
        result["server"] = result["servers"][0]
    return result


def argument_spec():
    """The options, as the module's DOCUMENTATION describes them."""
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        image=dict(type="str"),
        flavor=dict(type="str"),
        # A network name or a dictionary (net-name, fixed_ip): no suboptions; check_nics checks them.
        nics=dict(type="list", elements="raw", default=[]),
        key_name=dict(type="str", no_log=False),
        # A single network, as openstack.cloud.server's network: a simpler nics.
        network=dict(type="str"),
        # openstack.cloud.server's names: userdata (alias user_data), metadata (alias meta).
        userdata=dict(type="str", no_log=True, aliases=["user_data"]),
        admin_password=dict(type="str", no_log=True),
        metadata=dict(type="dict", default={}, aliases=["meta"]),
        availability_zone=dict(type="str"),
        # Suboptions would make a string given here fail with Ansible's no_log scan's message, which
        # names no option; check_scheduler_hints checks the keys (request_spec.SCHEDULER_HINTS).
        scheduler_hints=dict(type="dict", default={}),
        config_drive=dict(type="bool", default=True),
        min_count=dict(type="int", default=1),
        max_count=dict(type="int"),
        wait=dict(type="bool", default=True),
        wait_for=dict(type="str", default="active", choices=["active", "lease", "ssh"]),
        timeout=dict(type="int", default=180),
        on_drift=dict(type="str", default="warn", choices=["warn", "fail"]),
        project=dict(type="str", default="default"),
        purge_orphans=dict(type="bool", default=False),
        allow_unchecked_names=dict(type="bool", default=False),
        override_lock=dict(type="bool", default=False),
        allow_resize=dict(type="bool", default=False),
        allow_resize_to_same_host=dict(type="bool", default=False),
        resize_auto_confirm=dict(type="bool", default=False),
    )
    spec.update(group_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_if=[("state", "present", ("image", "flavor"))],
                           supports_check_mode=True)
    if not connection.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(connection.LIBVIRT_IMPORT_ERROR))
    if not configdrive.HAS_PYCDLIB:
        module.fail_json(msg=missing_required_lib("pycdlib"), exception=str(configdrive.PYCDLIB_IMPORT_ERROR))
    result = run(module.params, check_mode=module.check_mode, diff=module._diff)
    for warning in result.pop("warnings", ()):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
