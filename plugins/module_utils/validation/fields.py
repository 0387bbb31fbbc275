# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks the others build on: names, whole numbers, ratios, text and paths, and entries
checked against their argument spec by ansible's own validator. Pure functions; each error
names the field it is about (InvalidRequest)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import NoLogError, UnsupportedError

# \Z, not $: $ also matches before a trailing newline.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")
MAX_NAME_LENGTH = 63
NAME_RULE = "letters, digits, '.', '_' and '-', at most 63 characters, starting with a letter or digit"
MAX_TEXT_LENGTH = 255


class InvalidRequest(ValueError):
    """Bad input; the message starts with the field it is about."""


# A refusal quotes what it refuses: at most this many characters of it.
MAX_MESSAGE = 400


def fail(field, message):
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "... (%d characters more)" % (len(message) - MAX_MESSAGE)
    raise InvalidRequest("%s: %s" % (field, message))


def check_name(field, value):
    if not isinstance(value, str) or not NAME_RE.match(value):
        fail(field, "%r is not a valid name: use %s" % (value, NAME_RULE))
    return value


def check_int(field, value, minimum=0, maximum=None):
    if isinstance(value, bool):
        fail(field, "%r is not a whole number" % (value,))
    try:
        number = int(value)
    except (TypeError, ValueError):
        fail(field, "%r is not a whole number" % (value,))
    if isinstance(value, float) and value != number:
        fail(field, "%r is not a whole number" % (value,))
    if number < minimum:
        fail(field, "%s is below the minimum of %s" % (number, minimum))
    if maximum is not None and number > maximum:
        fail(field, "%s is above the maximum of %s" % (number, maximum))
    return number


def check_ratio(field, value):
    if isinstance(value, bool):
        fail(field, "%r is not a number" % (value,))
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(field, "%r is not a number" % (value,))
    if not math.isfinite(number) or number <= 0 or number > 1000:
        fail(field, "%r must be above 0 and at most 1000" % (value,))
    return number


def is_control(ch):
    code = ord(ch)
    return (code < 32 and ch != "\t") or 0x7f <= code < 0xa0 or 0xd800 <= code < 0xe000 \
        or code in (0xfffe, 0xffff)


def text_problem(value, maximum, allow_empty=True):
    """Why `value` is not acceptable text, or None."""
    if not isinstance(value, str):
        return "%r is not a string" % (value,)
    if not allow_empty and not value:
        return "must not be empty"
    if len(value) > maximum:
        return "is %d characters long, more than the maximum of %d" % (len(value), maximum)
    if any(is_control(ch) for ch in value):
        return "contains control characters"
    return None


def check_text(field, value, maximum=MAX_TEXT_LENGTH, allow_empty=True):
    problem = text_problem(value, maximum, allow_empty)
    if problem:
        fail(field, problem)
    return value


def check_options(field, options, value):
    """`value`, a dictionary, checked against the argument spec `options` by ansible's
    ArgumentSpecValidator, the validator AnsibleModule applies to suboptions: types converted,
    defaults set, required and unknown keys and choices checked. For entries that do not come
    through AnsibleModule (the nova inventory plugin's hypervisors, the nova_compute role's host
    variables). Returns the validated dictionary; the error, the first as AnsibleModule reports
    it, names `field`."""
    if not isinstance(value, dict):
        fail(field, "must be a dictionary")
    result = ArgumentSpecValidator(options).validate(value)
    # A value that is no dictionary also fails the no_log scan; the type error says more.
    errors = [error for error in result.errors.errors if not isinstance(error, NoLogError)] or result.errors.errors
    if errors:
        unsupported = isinstance(errors[0], UnsupportedError)
        fail(field, ("unsupported parameters: " if unsupported else "") + errors[0].msg)
    return result.validated_parameters


def plain_absolute(value):
    """Whether `value` is an absolute path with no '..' or '.' component and no NUL."""
    return isinstance(value, str) and value.startswith("/") and "\x00" not in value \
        and not any(part in ("..", ".") for part in value.split("/")) \
        and os.path.normpath(value) == (value.rstrip("/") or "/")


def check_path(field, value):
    """An absolute, normalised path to an existing regular file."""
    if not isinstance(value, str) or not value:
        fail(field, "must be an absolute path to a file")
    if "\x00" in value:
        fail(field, "contains a NUL byte")
    if not os.path.isabs(value):
        fail(field, "%r is not an absolute path" % value)
    if not plain_absolute(value):
        fail(field, "%r is not a normalised path ('..' and '.' components are refused)" % value)
    if not os.path.isfile(value):
        fail(field, "%r is not an existing file" % value)
    return value


# Directories a storage pool must never be: building a pool sets its directory's mode (0700).
SYSTEM_DIRECTORIES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                      "/run", "/sbin", "/sys", "/usr")
SHARED_DIRECTORIES = ("/home", "/opt", "/root", "/srv", "/tmp", "/var", "/var/cache", "/var/lib",
                      "/var/lib/libvirt", "/var/log", "/var/mail", "/var/spool", "/var/tmp")
STORAGE_PATH_RE = re.compile(r"^[A-Za-z0-9/._-]+\Z")


def check_storage_path(field, value):
    """A directory of its own for a storage pool: absolute, plain, not a system or shared one."""
    if not isinstance(value, str) or not STORAGE_PATH_RE.match(value) or not plain_absolute(value):
        fail(field, "%r is not a plain absolute path (letters, digits, '/', '.', '_', '-'; no '..')" % (value,))
    path = value.rstrip("/")
    if not path or path in SHARED_DIRECTORIES or \
            any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRECTORIES):
        fail(field, "%r is a system or shared directory; give the pool a directory of its own, "
                    "such as /var/lib/novalite/instances" % (value,))
    return value
