# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The heartbeat that renews this run's builds' leases (compute/leases.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import leases, states


class Build:
    def __init__(self, fail=False):
        self.renewals = 0
        self.fail = fail
        self.event = threading.Event()

    def renew(self):
        self.renewals += 1
        if self.renewals >= 3:
            self.event.set()
        if self.fail:
            raise RuntimeError("host gone")


def test_a_held_build_is_renewed_until_released_and_failures_do_not_stop_the_others():
    heartbeat = leases.Heartbeat(every=0.01)
    held, failing = Build(), Build(fail=True)
    with heartbeat.holding(failing):
        with heartbeat.holding(held):
            assert held.event.wait(5) and failing.event.wait(5)
        count = held.renewals
        time.sleep(0.1)
        assert held.renewals <= count + 1        # released: at most one renewal in flight
    assert failing.renewals >= 3


def test_the_lease_outlasts_several_renewals():
    assert leases.RENEW_EVERY * 3 < states.LEASE_SECONDS


def test_lease_seconds_from_the_environment_bounded_and_named():
    assert states.lease_seconds({}) == 60
    assert states.lease_seconds({"NOVALITE_LEASE_SECONDS": "20"}) == 20
    for bad in ("9", "3601", "abc", "1.5", ""):
        with pytest.raises(ValueError) as exc:
            states.lease_seconds({"NOVALITE_LEASE_SECONDS": bad})
        assert str(exc.value).startswith("NOVALITE_LEASE_SECONDS: ")
