# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.novalite.compute.plugins.module_utils.compute.quota import (
    QuotaExceeded, check_num_instances_quota, count_usage)
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.request_spec import Flavor, Instance

SMALL = Flavor("small", 1, 512, 1)
LARGE = Flavor("large", 4, 4096, 10)


def usage(instances=0, cores=0, ram=0):
    return {"instances": instances, "cores": cores, "ram": ram}


@pytest.mark.parametrize("limits", [{}, None, {"instances": -1, "cores": None, "ram": -1}])
def test_unlimited(limits):
    assert check_num_instances_quota(limits, usage(100, 400, 10 ** 6), LARGE, 1, 50) == 50


def test_fits_exactly():
    limits = {"instances": 10, "cores": 20, "ram": 10240}
    assert check_num_instances_quota(limits, usage(8, 12, 2048), LARGE, 2, 2) == 2


def test_headroom_reduces_max_count():
    assert check_num_instances_quota({"instances": 10}, usage(8), SMALL, 1, 5) == 2
    assert check_num_instances_quota({"cores": 10}, usage(cores=2), LARGE, 1, 5) == 2
    assert check_num_instances_quota({"ram": 8192, "cores": 100}, usage(ram=1024), LARGE, 1, 3) == 1


def test_cores_exceeded_message_like_nova():
    with pytest.raises(QuotaExceeded) as info:
        check_num_instances_quota({"cores": 10}, usage(cores=8), LARGE, 1, 1)
    assert str(info.value) == "Quota exceeded for cores: Requested 4, but already used 8 of 10 cores"
    assert info.value.overs == ["cores"] and info.value.allowed == 0


def test_below_min_count_raises_with_range():
    with pytest.raises(QuotaExceeded) as info:
        check_num_instances_quota({"instances": 10}, usage(8), SMALL, 3, 5)
    assert str(info.value) == "Quota exceeded for instances: Requested 3-5, but already used 8 of 10 instances"
    assert info.value.allowed == 2


def test_several_resources_over():
    with pytest.raises(QuotaExceeded) as info:
        check_num_instances_quota({"cores": 4, "ram": 4096}, usage(cores=2, ram=1024), LARGE, 1, 1)
    assert str(info.value) == ("Quota exceeded for cores, ram: Requested 4, 4096, but already used 2, 1024 "
                               "of 4, 4096 cores, ram")


def test_already_over_quota():
    with pytest.raises(QuotaExceeded, match="instances: Requested 1, but already used 12 of 10"):
        check_num_instances_quota({"instances": 10}, usage(12), {"vcpus": 1, "ram": 64}, 1, 1)


@pytest.mark.parametrize("limits,field", [
    ({"instances": -2}, "quotas.instances"),
    ({"cores": "10"}, "quotas.cores"),
    ({"floating_ips": 3}, "quotas.floating_ips"),
])
def test_bad_limits(limits, field):
    with pytest.raises(ValueError, match=field):
        check_num_instances_quota(limits, usage(), SMALL, 1, 1)


def test_bad_counts():
    with pytest.raises(ValueError, match="min_count"):
        check_num_instances_quota({}, usage(), SMALL, 3, 2)
    with pytest.raises(ValueError, match="max_count"):
        check_num_instances_quota({}, usage(), SMALL, 1, 0)


def record(uuid, project="p", vm_state="active", vcpus=2, ram=1024):
    return {"uuid": uuid, "name": uuid, "vm_state": vm_state, "project_id": project,
            "flavor": {"name": "f", "vcpus": vcpus, "ram": ram, "disk": 1}}


def test_count_usage_from_instance_lists():
    lists = [[record("a"), record("b", vm_state="error"), record("c", project="q")],
             [record("d", vm_state="deleted"), record("e", vm_state="soft-delete"), record("a")],
             [record("f", vm_state="building", vcpus=1, ram=256)]]
    assert count_usage(lists, "p") == {"instances": 3, "cores": 5, "ram": 2304}
    assert count_usage(lists, "q") == {"instances": 1, "cores": 2, "ram": 1024}
    assert count_usage([], "p") == {"instances": 0, "cores": 0, "ram": 0}


def test_count_usage_from_host_states_and_instances():
    facts = {"hypervisor_hostname": "n", "vcpus": 4, "memory_mb": 4096, "local_gb": 10,
             "instances": [record("a"), record("b")]}
    hs = HostState.from_facts(facts, {"name": "h1"})
    extra = Instance("z", "z", Flavor("f", 1, 128, 0), "active", project_id="p")
    assert count_usage([hs, [extra], record("b")], "p") == {"instances": 3, "cores": 5, "ram": 2176}
