# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument pieces the modules share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.scheduler import SchedulerConfig
from ansible_collections.novalite.compute.plugins.module_utils.validation import InvalidRequest

HYPERVISORS_ARGUMENT_SPEC = dict(
    hypervisors=dict(type="list", elements="dict", default=[{"name": "localhost", "uri": "qemu:///system"}]),
    hypervisor_group=dict(type="str", default="nova_compute"),
    connect_timeout=dict(type="int", default=30),
)


def scheduler_config(options):
    """SchedulerConfig from the module's `scheduler` dictionary (Nova's option names)."""
    options = dict(options or {})
    enabled_filters = options.pop("enabled_filters", None)
    max_attempts = options.pop("max_attempts", 3)
    host_subset_size = options.pop("host_subset_size", 1)
    try:
        return SchedulerConfig(enabled_filters=enabled_filters, weight_multipliers=options,
                               max_attempts=max_attempts, host_subset_size=host_subset_size)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest("scheduler: %s" % exc)
