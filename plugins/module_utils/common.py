# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument pieces the modules share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


HYPERVISORS_ARGUMENT_SPEC = dict(
    hypervisors=dict(type="list", elements="dict", default=[{"name": "localhost", "uri": "qemu:///system"}]),
    hypervisor_group=dict(type="str", default="nova_compute"),
    connect_timeout=dict(type="int", default=30),
)
