# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The conductor's part of a build (nova.conductor.manager): the request's instances to
their hosts in parallel, powered on together, with reschedules to the alternates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.novalite.compute.plugins.module_utils.compute import resource_tracker
from ansible_collections.novalite.compute.plugins.module_utils.compute import states
from ansible_collections.novalite.compute.plugins.module_utils.compute.manager import ComputeManager
from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import notification_payload
from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import Latch, utcnow
from ansible_collections.novalite.compute.plugins.module_utils.exception import (
    InstanceExists, RescheduledByPolicyException, RescheduledException, TaskTimeout)


class ComputeTaskManager:
    """nova.conductor.manager.ComputeTaskManager for one request: hand each instance to its
    host, rescheduling to the alternates the scheduler gave (Nova's build_instances)."""

    def __init__(self, api):
        self.api = api
        self.power_on = Latch(0)

    def build_instances(self, request, instances, selections):
        """Hand each instance to its chosen host; hosts build in parallel.

        The servers of one request are powered on together: each is started paused and resumed
        once every build of the request has started its domain (or failed). Otherwise the first
        guests, booting (a TCG boot takes seconds of CPU), slow the start of all the others."""
        threads = []
        self.power_on = Latch(len(instances))
        for instance, selection in zip(instances, selections):
            thread = threading.Thread(target=self._build_and_arrive,
                                      args=(request, instance, selection), name="build-" + instance["name"])
            thread.daemon = True
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return instances

    def _build_and_arrive(self, request, instance, selection):
        try:
            self.build_and_run_instance(request, instance, selection)
        finally:
            self.power_on.arrive(instance["uuid"])  # a build that failed holds no one back

    def build_and_run_instance(self, request, instance, selection):
        """The host, then its alternates, up to max_attempts; then vm_state error."""
        hosts = [selection.host] + list(selection.alternates)
        hosts = hosts[:self.api.scheduler_config.max_attempts]
        for attempt, host in enumerate(hosts, 1):
            hv = self.api.hypervisors[host]
            try:
                ComputeManager(self.api, hv, self.power_on).build_and_run_instance(request, instance)
                resource_tracker.record_build(hv, failed=False)
                return instance
            except InstanceExists as exc:
                # The name is taken: another run's server (this run reports it once that run is
                # done) or a foreign domain. Never rescheduled: another host would make a second.
                if exc.uuid is not None:
                    instance.update(taken=True, host=exc.host)
                    return instance
                instance.update(vm_state=states.ERROR, task_state=None, host=None, fault={
                    "code": 409, "message": str(exc), "host": host, "attempt": attempt, "created": utcnow()})
                self.api.faults.append(dict(instance["fault"], server=instance["name"]))
                return instance
            except TaskTimeout as exc:  # the task's timeout ran out: no alternate is tried
                instance["fault"] = {"code": 500, "message": str(exc), "host": host, "attempt": attempt,
                                     "created": utcnow()}
                self.api.faults.append(dict(instance["fault"], server=instance["name"]))
                break
            except RescheduledException as exc:
                fault = {"code": 500, "message": str(exc), "host": host, "attempt": attempt,
                         "created": utcnow()}
                self.api.faults.append(dict(fault, server=instance["name"]))
                instance["fault"] = fault
                if not isinstance(exc, RescheduledByPolicyException):
                    resource_tracker.record_build(hv, failed=True)
        instance.update(vm_state=states.ERROR, task_state=None, host=None)
        self.api.notifier.notify("compute.instance.create.error", hosts[-1] if hosts else "none",
                                 notification_payload(instance, fault=instance.get("fault")), "ERROR")
        return instance
