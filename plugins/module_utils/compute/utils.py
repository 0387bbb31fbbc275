# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers of the compute flow: time stamps and the threads builds run in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import threading


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Latch:
    """Counts down arrivals (each key once); wait() returns when all have arrived."""

    def __init__(self, count):
        self._cond = threading.Condition()
        self._pending = count
        self._arrived = set()

    def arrive(self, key):
        with self._cond:
            if key not in self._arrived:
                self._arrived.add(key)
                self._pending -= 1
                self._cond.notify_all()

    def wait(self, timeout):
        with self._cond:
            return self._cond.wait_for(lambda: self._pending <= 0, timeout)


class Background(threading.Thread):
    """func(*args) in a thread; wait() joins it and raises what it raised."""

    def __init__(self, func, *args):
        super(Background, self).__init__(name="%s-%s" % (threading.current_thread().name, func.__name__))
        self.daemon = True
        self._call = (func, args)
        self.error = None
        self.start()

    def run(self):
        func, args = self._call
        try:
            func(*args)
        except Exception as exc:  # handed to wait()
            self.error = exc

    def wait(self):
        self.join()
        if self.error is not None:
            raise self.error
