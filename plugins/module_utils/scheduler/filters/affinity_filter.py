# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.affinity_filter: ServerGroupAntiAffinityFilter,
ServerGroupAffinityFilter, SameHostFilter and DifferentHostFilter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters.base import BaseHostFilter, split


class _GroupAffinityFilter(BaseHostFilter):
    """A filter for the server groups of one policy."""

    policy_name = None

    def applies_to(self, spec_obj):
        group = spec_obj.instance_group
        return group is not None and group.policy == self.policy_name


def _below_max_members(host_state, group, members, limit, instance_uuid):
    """The anti-affinity rule: the host holds the instance itself (a move's source), or fewer
    than limit members of the group (members: group.member_set())."""
    instances = host_state.instances
    if instance_uuid is not None and instance_uuid in instances:
        return True
    if members is not None and members.isdisjoint(instances):     # only tagged members: counted already
        return host_state.group_counts.get(group.name, 0) < limit
    return host_state.count_group_members(group, members) < limit


class ServerGroupAntiAffinityFilter(_GroupAffinityFilter):
    """anti-affinity: fewer than max_server_per_host (default 1) group members on the host."""

    name = "ServerGroupAntiAffinityFilter"
    policy_name = "anti-affinity"

    def host_passes(self, host_state, spec_obj):
        if not self.applies_to(spec_obj):
            return True
        group = spec_obj.instance_group
        return _below_max_members(host_state, group, group.member_set(), group.max_server_per_host,
                                  spec_obj.instance_uuid)

    def partition(self, hosts, spec_obj):
        """host_passes over the hosts, with the group's figures read once."""
        if not hosts or not self.applies_to(spec_obj):
            return hosts, []
        group = spec_obj.instance_group
        members, limit, uuid = group.member_set(), group.max_server_per_host, spec_obj.instance_uuid
        if members is None:
            return split(hosts, [_below_max_members(host, group, members, limit, uuid) for host in hosts])
        # The rule's commonest case first (no listed member there, few tagged): true
        # exactly where the rule is; the rule itself decides the other hosts.
        disjoint, name = members.isdisjoint, group.name
        return split(hosts, [(disjoint(host.instances) and host.group_counts.get(name, 0) < limit)
                             or _below_max_members(host, group, members, limit, uuid) for host in hosts])

    def reason(self, spec_obj):
        group = spec_obj.instance_group
        return "already holds %d member(s) of group %s" % (
            group.max_server_per_host if group else 1, group.name if group else "?")


class ServerGroupAffinityFilter(_GroupAffinityFilter):
    """affinity: once the group has hosts, only those hosts."""

    name = "ServerGroupAffinityFilter"
    policy_name = "affinity"

    def reads_group_hosts(self, spec_obj):
        return self.applies_to(spec_obj)

    def host_passes(self, host_state, spec_obj):
        if not self.applies_to(spec_obj):
            return True
        group_hosts = spec_obj.instance_group.hosts
        return not group_hosts or host_state.host in group_hosts

    def reason(self, spec_obj):
        group = spec_obj.instance_group
        return "not a host of group %s" % (group.name if group else "?")


class SameHostFilter(BaseHostFilter):
    """same_host hint: the host holds one of the named instances (uuid or name)."""

    name = "SameHostFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.get_scheduler_hint("same_host"))

    def host_passes(self, host_state, spec_obj):
        wanted = spec_obj.get_scheduler_hint("same_host")
        if not wanted:
            return True
        return any(host_state.holds_instance(value) for value in wanted)

    def reason(self, spec_obj):
        return "holds none of %s" % ", ".join(spec_obj.get_scheduler_hint("same_host") or [])


class DifferentHostFilter(BaseHostFilter):
    """different_host hint: the host holds none of the named instances (uuid or name)."""

    name = "DifferentHostFilter"
    run_filter_once_per_request = True

    def applies_to(self, spec_obj):
        return bool(spec_obj.get_scheduler_hint("different_host"))

    def host_passes(self, host_state, spec_obj):
        avoid = spec_obj.get_scheduler_hint("different_host")
        if not avoid:
            return True
        return not any(host_state.holds_instance(value) for value in avoid)

    def reason(self, spec_obj):
        return "holds one of %s" % ", ".join(spec_obj.get_scheduler_hint("different_host") or [])
