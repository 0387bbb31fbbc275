# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute manager's server actions (nova.compute.manager: stop_instance, start_instance,
reboot_instance, pause_instance, unpause_instance, suspend_instance, resume_instance, the lock,
get_console_output): each begun under the instance's lock (expected_task_state), walking Nova's
task_states with every step saved; init_instance recovers a task whose run died."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.novalite.compute.plugins.module_utils.compute import instance_actions as ia
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import ComputeError
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import driver
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import instance_record
from ansible_collections.novalite.compute.plugins.module_utils.virt.libvirt import locks


REBOOT_TASKS = (states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED, states.REBOOTING_HARD,
                states.REBOOT_PENDING_HARD, states.REBOOT_STARTED_HARD)


class ServerActions:
    """ComputeManager's server actions (a part of it: compute/manager.py)."""

    # ------------------------------------------------------------------ server actions
    def _instance_lock(self, record):
        """The instance's lock on its host: held only to read and save the record at a task's
        start (the compare-and-set Nova's database does for expected_task_state)."""
        return locks.HostLock(self.hv.pool(), "instance-" + record["uuid"],
                              timeout=self.api.remaining("taking %s's instance lock" % record["name"]))

    def _current(self, record):
        """(domain, the record as the host holds it now, its vm_state synced with the power state)."""
        dom = guest.find_domain(self.hv.conn, record["domain"])
        current = instance_record.read_record(dom) if dom is not None else None
        if current is None or current.get("uuid") != record["uuid"]:
            raise ComputeError("server %s (uuid %s) is no longer on %s" % (record["name"], record["uuid"], self.hv.name))
        current.update(domain=record["domain"], power_state=guest.power_state(dom))
        return dom, states.sync_power_state(current)

    def begin_task(self, record, task_state, check=None):
        """compute.api: instance.task_state = task_state; instance.save(expected_task_state=[None]),
        under the instance's lock: of two runs that both passed the API's checks, the first saves
        its task, the second finds it set and gets UnexpectedTaskState before it changes anything.
        `check(current)`, asked again under the lock, raises for a refusal or returns True when
        the server is already where the action leads (then: (None, record), nothing done)."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            if current.get("task_state") is not None:
                raise ia.UnexpectedTaskState(
                    "Conflict updating instance %s. Expected: {'task_state': [None]}. Actual: {'task_state': %r} "
                    "(another run is acting on it)" % (record["name"], current.get("task_state")))
            record.clear()
            record.update(current)
            if check is not None and check(current):
                return None, record
            self._save(dom, record, task_state=task_state)
        return dom, record

    def _save_task(self, dom, record, expected=None, **changes):
        """instance.save(expected_task_state=expected): the record re-read first; another
        task_state means another run took the server (this run's lease ran out). A lock set
        meanwhile is kept."""
        expected = (record["task_state"],) if expected is None else expected
        current = instance_record.read_record(dom) or {}
        if current.get("task_state") not in expected:
            raise ia.UnexpectedTaskState(
                "Conflict updating instance %s. Expected: {'task_state': %r}. Actual: {'task_state': %r}"
                % (record["name"], list(expected), current.get("task_state")))
        for key in ("locked", "locked_by"):
            if key in current:
                record[key] = current[key]
        self._save(dom, record, **changes)

    def _fail_task(self, dom, record, action, exc):
        """@reverts_task_state: a failed action leaves no task behind; the vm_state is what the
        domain's power state says, the fault says what failed."""
        expected = (record.get("task_state"),)
        try:
            record.update(power_state=guest.power_state(dom), task_state=None)
            states.sync_power_state(record)
            record["fault"] = {"code": 500, "created": utcnow(), "message": "%s failed: %s" % (action, exc)}
            self._save_task(dom, record, expected=expected)
        except Exception:  # the record could not be saved: the lease ends, the next run recovers it
            pass

    def run_action(self, record, action, task_state, work, check=None):
        """One action on one server: ACTION.start, the task begun (guarded), work(dom, record)
        (which may step through more task_states with _step and returns the record's changes
        and a detail for the result), the task ended with every change saved, ACTION.end.
        Returns (record, detail); (record, None) when check found it already there."""
        event = "compute.instance.%s" % ia.NOTIFICATION_NAMES[action]
        dom, record = self.begin_task(record, task_state, check)
        if dom is None:
            return record, None
        self.notifier.notify(event + ".start", self.hv.name, notification_payload(record))
        try:
            self._building = (dom, record)
            try:
                with self.api.heartbeat.holding(self):  # the task's lease renewed while it runs
                    changes, detail = work(dom, record)
                    record.pop("fault", None)
                    self._save_task(dom, record, expected=changes.pop("_expected", None),
                                    **dict(changes, task_state=None, power_state=guest.power_state(dom)))
            finally:
                self._building = None
        except ia.UnexpectedTaskState:
            raise
        except Exception as exc:
            self._fail_task(dom, record, action, exc)
            self.notifier.notify(event + ".error", self.hv.name, notification_payload(
                record, fault={"message": str(exc)}), "ERROR")
            raise ComputeError("%s of %s on %s failed: %s" % (action, record["name"], self.hv.name, exc))
        self.notifier.notify(event + ".end", self.hv.name, notification_payload(record))
        return record, detail

    def _step(self, dom, record, task_state):
        self._save_task(dom, record, task_state=task_state)

    def stop_instance(self, record, shutdown_timeout, check=None):
        """ComputeManager.stop_instance: powering-off; a clean ACPI shutdown within
        shutdown_timeout, then the plug (driver.power_off); stopped."""
        def work(dom, record):
            clean = driver.power_off(dom, min(shutdown_timeout, self.api.remaining("stopping %s" % record["name"])))
            if record.get("rescue_image"):  # a rescued server stopped: its rescue definition is gone with it
                self._remove_rescue_disk(record)
            return {"vm_state": states.STOPPED}, {"clean_shutdown": clean}
        return self.run_action(record, ia.STOP, states.POWERING_OFF, work, check)

    def start_instance(self, record, check=None):
        """ComputeManager.start_instance: powering-on; the domain started; active."""
        def work(dom, _record):
            driver.power_on(dom, self.api.remaining("starting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.START, states.POWERING_ON, work, check)

    def reboot_instance(self, record, reboot_type, shutdown_timeout, check=None):
        """ComputeManager.reboot_instance: rebooting (or rebooting_hard), reboot_pending,
        reboot_started; driver.reboot (soft: ACPI shutdown and start, hard after
        shutdown_timeout); active."""
        hard = reboot_type == "hard"

        def work(dom, record):
            self._step(dom, record, states.REBOOT_PENDING_HARD if hard else states.REBOOT_PENDING)
            self._step(dom, record, states.REBOOT_STARTED_HARD if hard else states.REBOOT_STARTED)
            done = driver.reboot(dom, reboot_type, min(shutdown_timeout, self.api.remaining("rebooting")),
                                 self.api.remaining("rebooting %s" % record["name"]))
            return {"vm_state": states.ACTIVE}, {"reboot_type": done}
        return self.run_action(record, ia.REBOOT, ia.reboot_task_state(reboot_type), work, check)

    def pause_instance(self, record, check=None):
        def work(dom, _record):
            driver.pause(dom)
            return {"vm_state": states.PAUSED}, {}
        return self.run_action(record, ia.PAUSE, states.PAUSING, work, check)

    def unpause_instance(self, record, check=None):
        def work(dom, _record):
            driver.unpause(dom)
            return {"vm_state": states.ACTIVE}, {}
        return self.run_action(record, ia.UNPAUSE, states.UNPAUSING, work, check)

    def suspend_instance(self, record, check=None):
        """ComputeManager.suspend_instance: suspending; the managed save; suspended."""
        def work(dom, _record):
            driver.suspend(dom)
            return {"vm_state": states.SUSPENDED}, {}
        return self.run_action(record, ia.SUSPEND, states.SUSPENDING, work, check)

    def resume_instance(self, record, check=None):
        """ComputeManager.resume_instance: resuming; started from the managed save; active. The
        record (task_state resuming, the lease) goes into the saved definition first, so that the
        guest restored from it shows this task, not the suspend's it was saved with."""
        def work(dom, record):
            if guest.has_managed_save(dom):
                with self._record_lock:
                    guest.save_record_in_managed_save(dom, instance_record.stored(record))
            driver.resume(dom, self.api.remaining("resuming %s" % record["name"]))
            return {"vm_state": states.ACTIVE, "_expected": (states.RESUMING, states.SUSPENDING)}, {}
        return self.run_action(record, ia.RESUME, states.RESUMING, work, check)

    def set_lock(self, record, locked, locked_by="owner"):
        """compute.api.lock / unlock: the record's lock flag, under the instance's lock."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            if bool(current.get("locked")) == locked:
                record.update(current)
                return False
            current.update(locked=locked, locked_by=locked_by if locked else None)
            instance_record.save_record(dom, instance_record.stored(current))
            record.clear()
            record.update(current)
        self.notifier.notify("compute.instance.%s" % ("lock" if locked else "unlock"), self.hv.name,
                             notification_payload(record))
        return True

    def get_console_output(self, record, length=None):
        """ComputeManager.get_console_output: the serial console's log, read through libvirt."""
        return driver.get_console_output(self.hv.conn, self.hv.pool(), record["uuid"], length)

    def init_instance(self, record):
        """ComputeManager._init_instance for a server whose task's run died (task_state set,
        its lease over): a rebuild cut off leaves the server in error (its disks may be half
        made; rebuild it again); a reboot (or an unrescue) cut off with the guest down is
        finished, hard, as _retry_reboot does; any other task is cleared and the vm_state is what the domain
        is (its rescue definition running: rescued, running: active, paused: paused, saved:
        suspended, off: stopped; a rescue disk no rescue runs on is removed), so the server can
        be acted on again. Returns the task that was recovered, or None (another run did it)."""
        with self._instance_lock(record):
            dom, current = self._current(record)
            task = current.get("task_state")
            if task is None or states.task_in_progress(current, time.time()):
                record.clear()
                record.update(current)
                return None
            power = current["power_state"]
            if task in states.REBUILD_STATES:
                current["vm_state"] = states.ERROR
                current["fault"] = {"code": 500, "created": utcnow(), "message": "rebuild abandoned at task_state %s: "
                                    "its run stopped; rebuild the server again" % task}
            elif task in REBOOT_TASKS + (states.UNRESCUING,) and power != states.RUNNING:
                # _retry_reboot: a reboot cut off with the guest down is finished, hard
                driver.hard_reboot(dom)
                driver.power_on(dom, self.api.remaining("restarting %s" % record["name"]))
                current.update(vm_state=states.ACTIVE, power_state=guest.power_state(dom))
            elif power in (states.RUNNING, states.PAUSED_POWER) and guest.is_rescue(dom):
                current["vm_state"] = states.RESCUED
            elif power == states.RUNNING:
                current["vm_state"] = states.ACTIVE
            elif power == states.PAUSED_POWER:
                current["vm_state"] = states.PAUSED
            elif guest.has_managed_save(dom):
                current["vm_state"] = states.SUSPENDED
            else:
                current["vm_state"] = states.STOPPED
            if current["vm_state"] != states.RESCUED and task in (states.RESCUING, states.UNRESCUING):
                self._remove_rescue_disk(current)
            current.update(task_state=None, lease_until=None, updated_at=utcnow())
            instance_record.save_record(dom, instance_record.stored(current))
            record.clear()
            record.update(current)
        return task
