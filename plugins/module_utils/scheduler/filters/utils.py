# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.utils: what filters read of a host's aggregates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def aggregate_metadata_get_by_host(host_state, key=None):
    """{key: set(values)} over the host's aggregates (those with the key, if given);
    comma lists are split. Without key, one dict per host shape (the hosts of a shape
    share their aggregates, and the dict): read it, do not change it."""
    if key is not None:
        return _metadata(host_state.aggregates, key)
    shape = host_state.shape
    if shape.aggregate_metadata is None:
        shape.aggregate_metadata = _metadata(host_state.aggregates)
    return shape.aggregate_metadata


def _metadata(aggregates, key=None):
    metadata = {}
    for aggregate in aggregates:
        if key is None or key in aggregate.metadata:
            for k, v in aggregate.metadata.items():
                metadata.setdefault(k, set()).update(x.strip() for x in v.split(","))
    return metadata
