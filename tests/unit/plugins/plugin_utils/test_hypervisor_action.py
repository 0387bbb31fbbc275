# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors about hypervisors built from the inventory name the host variable they came from."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.plugin_utils.hypervisor_action import inventory_hint


def test_inventory_errors_name_the_host_variable():
    hosts = ["c1", "c2"]
    assert inventory_hint("hypervisors[1].cpu_allocation_ratio: -1.0 must be above 0", hosts).endswith(
        "(host variable nova_cpu_allocation_ratio of host c2)")
    assert "nova_libvirt_uri" in inventory_hint("hypervisors[0].uri: 'x' is not valid", hosts)
    assert inventory_hint("hypervisors[0].name: 'a b' is not valid", hosts).endswith("(the inventory name of host c1)")
    assert inventory_hint("hypervisors[5].enabled: bad", hosts) == "hypervisors[5].enabled: bad"
    assert inventory_hint("flavor: unknown", hosts) == "flavor: unknown"
