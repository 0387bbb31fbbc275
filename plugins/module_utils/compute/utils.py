# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers of the compute flow: time stamps, the threads builds run in, UUIDs given as
names, and the digest of a server's user data."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import hmac
import os
import threading
import uuid as uuidlib

# The user data digest kept in the instance record: PBKDF2-SHA256 with a random salt per server,
# slow enough that guessing user data from a record costs, fast enough for a rerun (about 8 ms).
USER_DATA_DIGEST = "pbkdf2-sha256"
USER_DATA_ITERATIONS = 20000


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


def is_uuid(value):
    """Is `value` a UUID in its canonical text form (as Nova and openstack.cloud show ids)?"""
    try:
        return str(uuidlib.UUID(value)) == value.lower()
    except (AttributeError, TypeError, ValueError):
        return False


def user_data_digest(user_data, salt=None, iterations=USER_DATA_ITERATIONS):
    """The record's digest of a server's user data: "" for none, else
    pbkdf2-sha256$ITERATIONS$SALT$DIGEST (salt and digest base64)."""
    if user_data is None:
        return ""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", user_data.encode("utf-8"), salt, iterations)
    return "%s$%d$%s$%s" % (USER_DATA_DIGEST, iterations, base64.b64encode(salt).decode("ascii"),
                            base64.b64encode(digest).decode("ascii"))


def user_data_matches(user_data, digest):
    """Whether `user_data` (None for none) is what `digest` was made of; None when the digest
    cannot tell (a record made before digests were kept, or one this version cannot read)."""
    if digest is None:
        return None
    if digest == "":
        return user_data is None
    parts = digest.split("$")
    if len(parts) != 4 or parts[0] != USER_DATA_DIGEST or not parts[1].isdigit():
        return None
    if user_data is None:
        return False
    try:
        salt = base64.b64decode(parts[2], validate=True)
    except ValueError:
        return None
    return hmac.compare_digest(user_data_digest(user_data, salt, int(parts[1])), digest)
