# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_server's arguments as AnsibleModule hands them to the engine: through the module's own
argument spec, by ArgumentSpecValidator (the validator AnsibleModule uses), so that the engine's
tests feed it what it really gets."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.novalite.compute.plugins.modules import nova_server
from ansible_collections.novalite.compute.plugins.module_utils.validation.catalogs import check_catalogs


def spec_errors(params):
    """The messages nova_server's argument spec refuses `params` with (AnsibleModule reports the
    first); [] when it takes them."""
    return ArgumentSpecValidator(nova_server.argument_spec()).validate(params).error_messages


def validated(params):
    """`params` as nova_server's argument spec makes them (types converted, defaults set)."""
    result = ArgumentSpecValidator(nova_server.argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def checked_catalogs(name="web1", **catalogs):
    """check_catalogs of the catalogs given, as nova_server's spec hands them over."""
    params = validated(dict(catalogs, name=name))
    return check_catalogs(params["flavors"], params["images"], params["hypervisors"],
                          params["server_groups"], params["keypairs"])
