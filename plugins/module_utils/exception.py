# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the compute flow (nova.exception's ComputeError-like failures and the
reschedule signals of nova.exception.RescheduledException)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ComputeError(Exception):
    """The request failed; `servers` and `details` say what was left where."""

    def __init__(self, message, servers=None, details=None):
        super(ComputeError, self).__init__(message)
        self.servers = servers or []
        self.details = details or {}


class RescheduledException(Exception):
    """A build on one host failed in a way another host may not: try an alternate."""


class RescheduledByPolicyException(RescheduledException):
    """The claim found the server group's policy would break on this host (another run
    placed a member there meanwhile). As in Nova, not counted as the host's failed build."""


class InstanceExists(ComputeError):
    """The claim found the server's name taken on some hypervisor (nova.exception.InstanceExists):
    by another run's server (`host`, `uuid` given: that run builds or built it, and this run waits
    for it), or by a domain novalite.compute does not manage. Never a reason to reschedule."""

    def __init__(self, message, host=None, uuid=None):
        super(InstanceExists, self).__init__(message)
        self.host = host
        self.uuid = uuid


class TaskTimeout(ComputeError):
    """The task's timeout ran out; the message says during what."""
