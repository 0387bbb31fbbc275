# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova.scheduler.filters.utils: what filters read of a host's aggregates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def aggregate_metadata_get_by_host(host_state, key=None):
    """{key: set(values)} over the host's aggregates; comma lists are split."""
    metadata = {}
    for aggregate in host_state.aggregates:
        if key is None or key in aggregate.metadata:
            for k, v in aggregate.metadata.items():
                metadata.setdefault(k, set()).update(x.strip() for x in v.split(","))
    return metadata
