# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""URI safety: libvirt URIs to a QEMU driver, whose host, user and query parameters must never
become options (ssh -oProxyCommand=..., command=, netcat=), and image URLs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.novalite.compute.plugins.module_utils.validation.fields import (
    fail, plain_absolute, text_problem)

# No "test": libvirt's test driver reads the file a test:///PATH URI names and quotes it in its
# errors, so any readable file of the control node could be printed.
URI_SCHEMES = ("qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "qemu+libssh", "qemu+libssh2")
URI_PARAMETERS = ("keyfile", "known_hosts", "known_hosts_verify", "no_verify", "no_tty", "sshauth",
                  "mode", "socket", "proxy", "pkipath")
URI_VALUE_RE = re.compile(r"^[A-Za-z0-9/._,:+-]*\Z")
URI_PATH_PARAMETERS = ("keyfile", "known_hosts", "socket", "pkipath")
URI_CHOICES = {
    "known_hosts_verify": ("normal", "auto", "ignore"),
    "no_verify": ("0", "1"),
    "no_tty": ("0", "1"),
    "mode": ("auto", "legacy", "direct"),
    "proxy": ("auto", "netcat", "native"),
}
SSH_AUTH_METHODS = ("agent", "privkey", "password", "keyboard-interactive")
HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOST_RE = re.compile(r"^%s(?:\.%s)*\.?\Z" % (HOST_LABEL, HOST_LABEL))
USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\Z")


def check_uri_authority(field, value, parts):
    """Host, user and port of a remote URI: a host name or address, never an option for ssh."""
    try:
        port = parts.port
    except ValueError:
        fail(field, "%r has an invalid port" % value)
    host = parts.hostname
    if host is not None:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if len(host) > 253 or not HOST_RE.match(host):
                fail(field, "%r names host %r, which is not a host name or IP address" % (value, host))
    if parts.username is not None and not USER_RE.match(parts.username):
        fail(field, "%r names user %r, which is not a user name" % (value, parts.username))
    if parts.password is not None:
        fail(field, "%r carries a password; use a key (keyfile) instead" % value)
    return port


def check_uri(field, value):
    """A libvirt URI to a QEMU driver; query parameters that run commands are refused."""
    if not isinstance(value, str) or not value:
        fail(field, "must be a libvirt URI such as qemu:///system or qemu+ssh://root@host/system")
    if any(ch.isspace() for ch in value) or any(ch in value for ch in "<>\"'`;|$\\#"):
        fail(field, "%r is not a valid libvirt URI" % value)
    parts = urlsplit(value)
    if parts.scheme not in URI_SCHEMES:
        fail(field, "%r has scheme %r; expected one of %s" % (value, parts.scheme, ", ".join(URI_SCHEMES)))
    if parts.scheme != "test" and parts.path not in ("/system", "/session"):
        fail(field, "%r must end in /system or /session" % value)
    if "+" in parts.scheme and parts.scheme != "qemu+unix" and not parts.hostname:
        fail(field, "%r names no host" % value)
    if parts.fragment:
        fail(field, "%r has a fragment" % value)
    check_uri_authority(field, value, parts)
    if parts.query:
        for pair in parts.query.split("&"):
            key, _sep, val = pair.partition("=")
            if key not in URI_PARAMETERS:
                fail(field, "%r has query parameter %r; allowed: %s" % (value, key, ", ".join(URI_PARAMETERS)))
            if not URI_VALUE_RE.match(val):
                fail(field, "%r has an unsafe value for %s" % (value, key))
            if key in URI_PATH_PARAMETERS and not plain_absolute(val):
                fail(field, "%r: %s must be a plain absolute path (no '..')" % (value, key))
            if key in URI_CHOICES and val not in URI_CHOICES[key]:
                fail(field, "%r: %s must be one of %s" % (value, key, ", ".join(URI_CHOICES[key])))
            if key == "sshauth" and not all(m in SSH_AUTH_METHODS for m in val.split(",")):
                fail(field, "%r: sshauth takes %s" % (value, ", ".join(SSH_AUTH_METHODS)))
    return value


def check_image_url(field, url):
    """An http(s) URL with a host, or a file URL to a plain absolute path."""
    problem = text_problem(url, 2048, allow_empty=False)
    if problem or any(ch.isspace() for ch in url):
        fail(field, "%r is not an http, https or file URL" % (url,))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        fail(field, "%r is not an http, https or file URL" % (url,))
    if parts.scheme in ("http", "https"):
        if not parts.hostname or (port is not None and not 0 < port < 65536):
            fail(field, "%r names no host" % (url,))
        check_uri_authority(field, url, parts)
    elif parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not plain_absolute(parts.path):
            fail(field, "%r is not a file URL to a plain absolute path (no '..')" % (url,))
    else:
        fail(field, "%r is not an http, https or file URL" % (url,))
    return url
