# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ElementTree helpers for libvirt's XML documents."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET


def xml_text(element, path, default=None):
    found = element.find(path)
    return found.text if found is not None and found.text is not None else default


def xml_string(element):
    return ET.tostring(element, encoding="unicode")
