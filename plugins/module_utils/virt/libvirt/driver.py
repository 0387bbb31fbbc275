# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power operations of nova.virt.libvirt.driver.LibvirtDriver on one domain: power_off (a
clean ACPI shutdown within a timeout, then the plug), power_on, reboot (soft: shut down and start
again, falling back to hard; hard: power off and start), pause/unpause, suspend/resume (the
managed save), and get_console_output. The guest's primitives are guest.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils import units
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt.connection import DriverError

# nova.compute.manager: SHUTDOWN_RETRY_INTERVAL (the ACPI button pressed again every 10 s).
SHUTDOWN_RETRY_INTERVAL = 10
# nova.virt.libvirt.driver: MAX_CONSOLE_BYTES, what get_console_output reads at most.
MAX_CONSOLE_BYTES = 100 * units.Ki
POLL_SECONDS = 0.2
SHUTDOWN_STATES = (states.SHUTDOWN, states.CRASHED, states.NOSTATE)


def clean_shutdown(dom, timeout, retry_interval=SHUTDOWN_RETRY_INTERVAL):
    """LibvirtDriver._clean_shutdown: the ACPI power button, pressed again every retry_interval
    seconds, until the guest is off or `timeout` seconds pass. True if it shut itself down."""
    if guest.power_state(dom) in SHUTDOWN_STATES:
        return True
    guest.shutdown(dom)
    deadline = time.monotonic() + timeout
    pressed = time.monotonic()
    while time.monotonic() < deadline:
        if guest.power_state(dom) in SHUTDOWN_STATES:
            return True
        if time.monotonic() - pressed >= retry_interval:
            guest.shutdown(dom)
            pressed = time.monotonic()
        time.sleep(POLL_SECONDS)
    return guest.power_state(dom) in SHUTDOWN_STATES


def power_off(dom, timeout=0, retry_interval=SHUTDOWN_RETRY_INTERVAL):
    """LibvirtDriver.power_off: a clean shutdown within `timeout` (0: none), then the plug.
    True when the guest shut down cleanly."""
    clean = bool(timeout) and clean_shutdown(dom, timeout, retry_interval)
    guest.poweroff(dom)
    return clean


def power_on(dom, timeout):
    """LibvirtDriver.power_on: start the domain (from its managed save when it has one) and wait
    until it runs."""
    if not dom.isActive():
        guest.start_domain(dom)
    if guest.power_state(dom) == states.PAUSED_POWER:
        guest.resume_domain(dom)
    if not guest.wait_for_state(dom, states.RUNNING, timeout):
        raise DriverError("domain %s did not reach RUNNING within %ss" % (dom.name(), timeout))


def soft_reboot(dom, timeout):
    """LibvirtDriver._soft_reboot: the ACPI power button, then, once the guest is off, start it
    again. False when it did not shut down within `timeout` (the caller reboots it hard)."""
    if guest.power_state(dom) == states.RUNNING:
        guest.shutdown(dom)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if guest.power_state(dom) in SHUTDOWN_STATES:
            guest.start_domain(dom)
            return True
        time.sleep(POLL_SECONDS)
    return False


def hard_reboot(dom):
    """LibvirtDriver._hard_reboot: power off, start again (the same definition)."""
    guest.poweroff(dom)
    guest.start_domain(dom)


def reboot(dom, reboot_type, shutdown_timeout, timeout):
    """LibvirtDriver.reboot: soft (falling back to hard when the guest does not shut down
    within shutdown_timeout) or hard; then wait until the guest runs. Returns the reboot done:
    "soft" or "hard"."""
    done = "hard"
    if reboot_type == "soft" and soft_reboot(dom, shutdown_timeout):
        done = "soft"
    else:
        hard_reboot(dom)
    if not guest.wait_for_state(dom, states.RUNNING, timeout):
        raise DriverError("domain %s did not reach RUNNING within %ss after its reboot" % (dom.name(), timeout))
    return done


def pause(dom):
    if guest.power_state(dom) != states.PAUSED_POWER:
        guest.pause(dom)


def unpause(dom):
    if guest.power_state(dom) == states.PAUSED_POWER:
        guest.resume_domain(dom)


def suspend(dom):
    """LibvirtDriver.suspend: the guest's memory into the managed save; the domain shuts off."""
    if dom.isActive():
        guest.save_memory_state(dom)


def resume(dom, timeout):
    """LibvirtDriver.resume: start the domain from its managed save."""
    power_on(dom, timeout)


def get_console_output(conn, pool, instance_uuid, length=None):
    """LibvirtDriver.get_console_output (its last MAX_CONSOLE_BYTES), as the API's
    os-getConsoleOutput trims it: the last `length` lines (all when None)."""
    return guest.console_tail(conn, pool, instance_uuid, lines=length, limit=MAX_CONSOLE_BYTES)
