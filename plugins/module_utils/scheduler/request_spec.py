# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request spec: what the scheduler is asked to place (nova.objects.RequestSpec).

Plain value objects, no I/O: Flavor, ImageMeta, ServerGroup, Instance, RequestSpec,
and build_request_spec (nova.scheduler.utils.build_request_spec) which validates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SERVER_GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
SCHEDULER_HINTS = ("same_host", "different_host", "group")
# vm_states of instances that no longer exist (nova.compute.vm_states).
DELETED_VM_STATES = ("deleted",)

# Image property names: Nova's current name -> the legacy name it still accepts
# (nova.objects.ImageMetaProps._legacy_property_map).
LEGACY_IMAGE_PROPERTIES = {
    "hw_architecture": "architecture",
    "img_hv_type": "hypervisor_type",
    "hw_vm_mode": "vm_mode",
    "img_hv_requested_version": "hypervisor_version_requires",
}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(field, value, minimum=0):
    if not _is_int(value):
        raise ValueError("%s: must be an integer, got %r" % (field, value))
    if value < minimum:
        raise ValueError("%s: must be at least %d, got %d" % (field, minimum, value))
    return value


def _lenient_int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _as_list(values):
    return [values] if isinstance(values, str) else list(values)


def _check_name_list(field, values):
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise ValueError("%s: must be a list of strings" % field)
    result = []
    for value in values:
        if not isinstance(value, str) or not value:
            raise ValueError("%s: %r is not a non-empty string" % (field, value))
        result.append(value)
    return result


class Flavor:
    """nova.objects.Flavor: ram in MB, disk/ephemeral in GB, swap in MB."""

    def __init__(self, name, vcpus, ram, disk, ephemeral=0, swap=0, extra_specs=None):
        if not isinstance(name, str) or not name:
            raise ValueError("flavor.name: must be a non-empty string")
        self.name = name
        self.vcpus = _check_int("flavor.vcpus", vcpus)
        self.ram = _check_int("flavor.ram", ram)
        self.disk = _check_int("flavor.disk", disk)
        self.ephemeral = _check_int("flavor.ephemeral", ephemeral or 0)
        self.swap = _check_int("flavor.swap", swap or 0)
        if extra_specs is not None and not isinstance(extra_specs, dict):
            raise ValueError("flavor.extra_specs: must be a dictionary")
        self.extra_specs = dict((str(k), str(v)) for k, v in (extra_specs or {}).items())

    @classmethod
    def from_dict(cls, data):
        """Leniently, from a stored record (missing numbers are 0)."""
        data = data or {}
        return cls(str(data.get("name") or "unknown"), _lenient_int(data.get("vcpus")),
                   _lenient_int(data.get("ram")), _lenient_int(data.get("disk")),
                   _lenient_int(data.get("ephemeral")), _lenient_int(data.get("swap")),
                   data.get("extra_specs") if isinstance(data.get("extra_specs"), dict) else None)

    def to_dict(self):
        return {"name": self.name, "vcpus": self.vcpus, "ram": self.ram, "disk": self.disk,
                "ephemeral": self.ephemeral, "swap": self.swap, "extra_specs": dict(self.extra_specs)}

    # Nova's names for the same figures.
    @property
    def memory_mb(self):
        return self.ram

    @property
    def root_gb(self):
        return self.disk

    @property
    def ephemeral_gb(self):
        return self.ephemeral

    @property
    def total_disk_mb(self):
        """(root_gb + ephemeral_gb) * 1024 + swap, what DiskFilter asks for."""
        return (self.disk + self.ephemeral) * 1024 + self.swap

    def __eq__(self, other):
        return isinstance(other, Flavor) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "Flavor(%r, vcpus=%d, ram=%d, disk=%d, ephemeral=%d, swap=%d)" % (
            self.name, self.vcpus, self.ram, self.disk, self.ephemeral, self.swap)


class ImageMeta:
    """nova.objects.ImageMeta: the image's name, properties and minimums."""

    def __init__(self, name, properties=None, min_ram=0, min_disk=0, size_gb=0):
        if not isinstance(name, str) or not name:
            raise ValueError("image.name: must be a non-empty string")
        if properties is not None and not isinstance(properties, dict):
            raise ValueError("image.properties: must be a dictionary")
        self.name = name
        self.properties = dict((str(k), v) for k, v in (properties or {}).items())
        self.min_ram = _check_int("image.min_ram", min_ram or 0)
        self.min_disk = _check_int("image.min_disk", min_disk or 0)
        self.size_gb = _check_int("image.size_gb", size_gb or 0)

    def get(self, key, default=None):
        """A property by its current Nova name, falling back to its legacy name."""
        if key in self.properties:
            return self.properties[key]
        legacy = LEGACY_IMAGE_PROPERTIES.get(key)
        if legacy is not None and legacy in self.properties:
            return self.properties[legacy]
        return default

    def __repr__(self):
        return "ImageMeta(%r, properties=%r)" % (self.name, self.properties)


class ServerGroup:
    """nova.objects.InstanceGroup.

    members: instance uuids in the group. hosts: hosts holding members; the
    scheduler adds the hosts where it finds instances whose server_group is
    this group's name.
    """

    def __init__(self, name, policy, rules=None, members=None, hosts=None):
        if not isinstance(name, str) or not name:
            raise ValueError("server_group.name: must be a non-empty string")
        if policy not in SERVER_GROUP_POLICIES:
            raise ValueError("server_group.policy: %r is not one of %s"
                             % (policy, ", ".join(SERVER_GROUP_POLICIES)))
        rules = dict(rules or {})
        unknown = sorted(set(rules) - {"max_server_per_host"})
        if unknown:
            raise ValueError("server_group.rules: unknown rule %s" % ", ".join(unknown))
        if "max_server_per_host" in rules:
            if policy != "anti-affinity":
                raise ValueError("server_group.rules: max_server_per_host applies to the "
                                 "anti-affinity policy only")
            _check_int("server_group.rules.max_server_per_host", rules["max_server_per_host"], 1)
        self.name = name
        self.policy = policy
        self.rules = rules
        self.members = list(_check_name_list("server_group.members", members))
        self.hosts = list(_check_name_list("server_group.hosts", hosts))

    @property
    def max_server_per_host(self):
        return self.rules.get("max_server_per_host", 1)

    def member_set(self):
        """set(members), or None if a uuid is listed twice (then it counts twice)."""
        members = set(self.members)
        return members if len(members) == len(self.members) else None

    def copy(self, cls=None):
        """An independent copy (of cls, a subclass, if given), not checked again."""
        group = object.__new__(cls or ServerGroup)
        group.name, group.policy, group.rules = self.name, self.policy, dict(self.rules)
        group.members, group.hosts = list(self.members), list(self.hosts)
        return group

    def __repr__(self):
        return "ServerGroup(%r, %r, rules=%r, hosts=%r)" % (self.name, self.policy, self.rules, self.hosts)


class Instance:
    """An instance a host holds, as far as scheduling cares."""

    __slots__ = ("uuid", "name", "flavor", "vm_state", "task_state", "server_group", "project_id", "host")

    def __init__(self, uuid, name, flavor, vm_state="building", task_state=None, server_group=None,
                 project_id="default", host=None):
        if not isinstance(flavor, Flavor):
            flavor = Flavor.from_dict(flavor)
        self.uuid = uuid
        self.name = name
        self.flavor = flavor
        self.vm_state = vm_state
        self.task_state = task_state
        self.server_group = server_group or None
        self.project_id = project_id
        self.host = host

    @classmethod
    def from_dict(cls, record, host=None):
        """From an instance record (extra keys are ignored)."""
        return cls(record.get("uuid"), record.get("name"), Flavor.from_dict(record.get("flavor")),
                   record.get("vm_state"), record.get("task_state"), record.get("server_group"),
                   record.get("project_id"), record.get("host") or host)

    @property
    def deleted(self):
        return self.vm_state in DELETED_VM_STATES

    def __repr__(self):
        return "Instance(%r, %r, %r)" % (self.uuid, self.name, self.vm_state)


class RequestSpec:
    """nova.objects.RequestSpec: one request for num_instances servers.

    instance_uuid is the instance being placed right now (set by the scheduler).
    """

    def __init__(self, flavor, image, num_instances=1, availability_zone=None,
                 scheduler_hints=None, instance_group=None, project_id="default",
                 instance_uuids=None, ignore_hosts=None):
        self.flavor = flavor
        self.image = image
        self.num_instances = num_instances
        self.availability_zone = availability_zone
        self.scheduler_hints = dict(scheduler_hints or {})
        self.instance_group = instance_group
        self.project_id = project_id
        self.instance_uuids = _as_list(instance_uuids) if instance_uuids is not None else None
        self.ignore_hosts = _as_list(ignore_hosts or [])
        self.instance_uuid = None

    # The flavor figures under the names Nova's filters read.
    @property
    def memory_mb(self):
        return self.flavor.ram

    @property
    def vcpus(self):
        return self.flavor.vcpus

    @property
    def root_gb(self):
        return self.flavor.disk

    @property
    def ephemeral_gb(self):
        return self.flavor.ephemeral

    @property
    def swap(self):
        return self.flavor.swap

    def get_scheduler_hint(self, name, default=None):
        value = self.scheduler_hints.get(name)
        if value is None:
            return default
        if name in ("same_host", "different_host") and isinstance(value, str):
            return [value]
        return value

    def copy(self):
        """A copy the scheduler may change (the group is copied too)."""
        spec = RequestSpec(self.flavor, self.image, self.num_instances, self.availability_zone,
                           self.scheduler_hints,
                           self.instance_group.copy() if self.instance_group is not None else None,
                           self.project_id, self.instance_uuids, self.ignore_hosts)
        spec.instance_uuid = self.instance_uuid
        return spec

    def validate(self):
        """Raise ValueError naming the first bad field; return self."""
        if not isinstance(self.flavor, Flavor):
            raise ValueError("flavor: must be a Flavor")
        if not isinstance(self.image, ImageMeta):
            raise ValueError("image: must be an ImageMeta")
        _check_int("flavor.vcpus", self.flavor.vcpus, 1)
        _check_int("flavor.ram", self.flavor.ram, 1)
        _check_int("num_instances", self.num_instances, 1)
        # nova.compute.api._validate_flavor_image_nostatus
        if self.image.min_ram and self.flavor.ram < self.image.min_ram:
            raise ValueError("flavor.ram: %d MB is below the image's min_ram %d MB"
                             % (self.flavor.ram, self.image.min_ram))
        if self.flavor.disk and self.flavor.disk < max(self.image.min_disk, self.image.size_gb):
            raise ValueError("flavor.disk: %d GB is smaller than the image (min_disk %d GB, size %d GB)"
                             % (self.flavor.disk, self.image.min_disk, self.image.size_gb))
        if self.availability_zone is not None and (not isinstance(self.availability_zone, str)
                                                   or not self.availability_zone):
            raise ValueError("availability_zone: must be a non-empty string or None")
        for key, value in self.scheduler_hints.items():
            if key not in SCHEDULER_HINTS:
                raise ValueError("scheduler_hints.%s: is not a known hint (known: %s)"
                                 % (key, ", ".join(SCHEDULER_HINTS)))
            if key in ("same_host", "different_host"):
                self.scheduler_hints[key] = _check_name_list("scheduler_hints.%s" % key, value)
        if self.instance_group is not None and not isinstance(self.instance_group, ServerGroup):
            raise ValueError("instance_group: must be a ServerGroup")
        group = self.scheduler_hints.get("group")
        if group is not None:
            if self.instance_group is None:
                raise ValueError("scheduler_hints.group: server group %r was not resolved into "
                                 "instance_group" % (group,))
            if group != self.instance_group.name:
                raise ValueError("scheduler_hints.group: %r does not match instance_group %r"
                                 % (group, self.instance_group.name))
        if not isinstance(self.project_id, str) or not self.project_id:
            raise ValueError("project_id: must be a non-empty string")
        if self.instance_uuids is not None:
            self.instance_uuids = _check_name_list("instance_uuids", self.instance_uuids)
            if len(self.instance_uuids) != self.num_instances:
                raise ValueError("instance_uuids: %d given for num_instances %d"
                                 % (len(self.instance_uuids), self.num_instances))
            if len(set(self.instance_uuids)) != len(self.instance_uuids):
                raise ValueError("instance_uuids: must be distinct")
        self.ignore_hosts = _check_name_list("ignore_hosts", self.ignore_hosts)
        return self

    def __repr__(self):
        return "RequestSpec(flavor=%r, image=%r, num_instances=%r, min_count=%r, az=%r, group=%r)" % (
            self.flavor, self.image, self.num_instances, self.min_count, self.availability_zone,
            self.instance_group)


def build_request_spec(flavor, image, num_instances=1, availability_zone=None,
                       scheduler_hints=None, instance_group=None, project_id="default",
                       instance_uuids=None, ignore_hosts=None):
    """A validated RequestSpec; ValueError names the bad field.

    flavor and image may be Flavor/ImageMeta or dicts of their arguments.
    """
    if isinstance(flavor, dict):
        try:
            flavor = Flavor(**flavor)
        except TypeError as exc:
            raise ValueError("flavor: %s" % exc)
    if isinstance(image, dict):
        try:
            image = ImageMeta(**image)
        except TypeError as exc:
            raise ValueError("image: %s" % exc)
    if scheduler_hints is not None and not isinstance(scheduler_hints, dict):
        raise ValueError("scheduler_hints: must be a dictionary")
    spec = RequestSpec(flavor, image, num_instances=num_instances,
                       availability_zone=availability_zone, scheduler_hints=scheduler_hints,
                       instance_group=instance_group, project_id=project_id,
                       instance_uuids=instance_uuids, ignore_hosts=ignore_hosts)
    return spec.validate()


# ---------------------------------------------------------------- the stored request spec
# Nova keeps each server's RequestSpec (request_specs table) from create on, and every move asks
# the scheduler again with it (the flavor replaced for a resize, ignore_hosts set for the source).
# Here it is kept in the server's record: these are its plain-data form and back.

def spec_to_stored(spec):
    """A RequestSpec as plain data for the record (one instance: its own spec)."""
    group = spec.instance_group
    return {
        "flavor": spec.flavor.to_dict(),
        "image": {"name": spec.image.name, "properties": dict(spec.image.properties),
                  "min_ram": spec.image.min_ram, "min_disk": spec.image.min_disk},
        "availability_zone": spec.availability_zone,
        "scheduler_hints": dict(spec.scheduler_hints),
        "instance_group": None if group is None else {"name": group.name, "policy": group.policy,
                                                      "rules": dict(group.rules)},
        "project_id": spec.project_id,
    }


def spec_from_stored(data, flavor=None, ignore_hosts=None, instance_uuid=None):
    """The RequestSpec of a stored one (see spec_to_stored), for one instance; `flavor` (a Flavor)
    replaces the stored flavor (a resize), `ignore_hosts` the hosts a move leaves out."""
    image = data.get("image") or {}
    group = data.get("instance_group")
    hints = dict(data.get("scheduler_hints") or {})
    instance_group = None
    if group:
        instance_group = ServerGroup(group["name"], group["policy"], rules=group.get("rules") or {})
    hints.pop("group", None)
    spec = build_request_spec(
        flavor=flavor if flavor is not None else Flavor.from_dict(data.get("flavor")),
        image=ImageMeta(image.get("name") or "unknown", properties=image.get("properties") or {},
                        min_ram=image.get("min_ram") or 0, min_disk=image.get("min_disk") or 0),
        num_instances=1, availability_zone=data.get("availability_zone"), scheduler_hints=hints,
        instance_group=instance_group, project_id=data.get("project_id") or "default",
        instance_uuids=[instance_uuid] if instance_uuid else None, ignore_hosts=ignore_hosts)
    return spec
