# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance quota: nova.compute.utils.check_num_instances_quota, no I/O.

Limits are {instances, cores, ram}; None or -1 means unlimited. Usage is
counted by the caller (count_usage) from the instances the hosts hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor, Instance

QUOTA_RESOURCES = ("instances", "cores", "ram")
UNLIMITED = -1
# Instances that no longer count (Nova counts deleted=0 and vm_state != soft-delete).
UNCOUNTED_VM_STATES = ("deleted", "soft-delete")


class QuotaExceeded(Exception):
    """nova.exception.TooManyInstances. overs: the resources over quota;
    requested/used/limits: {resource: value} for them; allowed: instances that fit."""

    def __init__(self, overs, requested, used, limits, allowed):
        self.overs = list(overs)
        self.requested = requested
        self.used = used
        self.limits = limits
        self.allowed = allowed
        join = ", ".join
        message = "Quota exceeded for %s: Requested %s, but already used %s of %s %s" % (
            join(overs), join(str(requested[r]) for r in overs), join(str(used[r]) for r in overs),
            join(str(limits[r]) for r in overs), join(overs))
        super(QuotaExceeded, self).__init__(message)


def _limit(limits, resource):
    value = limits.get(resource)
    if value is None or value == UNLIMITED:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("quotas.%s: %r must be -1 (unlimited) or a non-negative integer" % (resource, value))
    return value


def _flavor_figures(flavor):
    if isinstance(flavor, Flavor):
        return flavor.vcpus, flavor.ram
    return int(flavor.get("vcpus") or 0), int(flavor.get("ram") or 0)


def check_num_instances_quota(limits, usage, flavor, min_count, max_count):
    """How many of max_count instances fit the quota: max_count, or fewer but at
    least min_count. Raises QuotaExceeded when not even min_count fit."""
    limits = dict(limits or {})
    usage = dict(usage or {})
    unknown = sorted(set(limits) - set(QUOTA_RESOURCES))
    if unknown:
        raise ValueError("quotas.%s: unknown quota (known: %s)" % (unknown[0], ", ".join(QUOTA_RESOURCES)))
    for name, value in (("min_count", min_count), ("max_count", max_count)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError("%s: must be an integer of at least 1, got %r" % (name, value))
    if min_count > max_count:
        raise ValueError("min_count: %d is greater than max_count %d" % (min_count, max_count))
    vcpus, ram = _flavor_figures(flavor)
    per_instance = {"instances": 1, "cores": vcpus, "ram": ram}
    used = dict((r, int(usage.get(r) or 0)) for r in QUOTA_RESOURCES)
    caps = dict((r, _limit(limits, r)) for r in QUOTA_RESOURCES)

    overs = [r for r in QUOTA_RESOURCES
             if caps[r] is not None and used[r] + max_count * per_instance[r] > caps[r]]
    if not overs:
        return max_count
    allowed = max_count
    for resource in QUOTA_RESOURCES:
        if caps[resource] is not None and per_instance[resource]:
            allowed = min(allowed, (caps[resource] - used[resource]) // per_instance[resource])
    if allowed >= min_count:
        return allowed
    count = str(min_count) if min_count == max_count else "%d-%d" % (min_count, max_count)
    requested = {"instances": count, "cores": max_count * vcpus, "ram": max_count * ram}
    raise QuotaExceeded(overs, requested, used, dict((r, caps[r]) for r in overs), max(allowed, 0))


def _instances_of(item):
    if hasattr(item, "instances") and isinstance(getattr(item, "instances"), dict):
        return list(item.instances.values())
    if isinstance(item, (Instance, dict)):
        return [item]
    return list(item)


def count_usage(host_states_or_instance_lists, project_id):
    """{instances, cores, ram} used by the project's instances.

    Takes HostStates, lists of instance records (dicts) or Instances, or a mix;
    an instance seen twice (same uuid) counts once; deleted and soft-deleted
    instances do not count.
    """
    totals = {"instances": 0, "cores": 0, "ram": 0}
    seen = set()
    for item in host_states_or_instance_lists or ():
        for instance in _instances_of(item):
            if isinstance(instance, dict):
                instance = Instance.from_dict(instance)
            if instance.project_id != project_id or instance.vm_state in UNCOUNTED_VM_STATES:
                continue
            if instance.uuid is not None:
                if instance.uuid in seen:
                    continue
                seen.add(instance.uuid)
            totals["instances"] += 1
            totals["cores"] += instance.flavor.vcpus
            totals["ram"] += instance.flavor.ram
    return totals
