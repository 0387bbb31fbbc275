# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.extra_specs_ops: does a value satisfy an extra spec's requirement."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import operator

_OPS = {
    "=": lambda x, y: float(x) >= float(y),
    "<in>": lambda x, y: y in x,
    "<all-in>": lambda x, y: all(val in x for val in y),
    "==": lambda x, y: float(x) == float(y),
    "!=": lambda x, y: float(x) != float(y),
    ">=": lambda x, y: float(x) >= float(y),
    "<=": lambda x, y: float(x) <= float(y),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
}


def match(value, req):
    """Does a host value satisfy a requirement such as '>= 4', '<in> ssd' or '<or> a <or> b'?"""
    words = req.split()
    op = words.pop(0) if words else None
    method = _OPS.get(op)
    if op != "<or>" and method is None:
        return value == req
    if value is None:
        return False
    if op == "<or>":
        return value in words[0::2]
    if not words:
        return False
    try:
        return bool(method(value, words if op == "<all-in>" else words[0]))
    except ValueError:
        return False
