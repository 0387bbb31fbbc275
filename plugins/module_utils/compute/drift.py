# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an existing server differs from its request: create's idempotence check (on_drift)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute.utils import user_data_matches


DRIFT_FLAVOR_FIGURES = ("vcpus", "ram", "disk", "ephemeral", "swap", "extra_specs")


def instance_drift(request, record, hv=None):
    """[{field, requested, actual}]: how an existing server differs from the request, in what
    the request sets and the server keeps (metadata aside: it is updated). User data is never
    shown, only whether it is the same."""
    drift = []

    def differs(field, requested, actual):
        if requested != actual:
            drift.append({"field": field, "requested": requested, "actual": actual})

    wanted, flavor = request["flavor"], record.get("flavor") or {}
    if wanted["name"] != flavor.get("name"):
        differs("flavor", wanted["name"], flavor.get("name"))
    else:
        figures = [key for key in DRIFT_FLAVOR_FIGURES if (wanted.get(key) or 0) != (flavor.get(key) or 0)]
        if figures:
            differs("flavor", dict((key, wanted.get(key)) for key in figures),
                    dict((key, flavor.get(key)) for key in figures))
    differs("image", request["image"]["name"], record.get("image"))
    ports = [{"network": port.get("network"), "fixed_ip": port.get("ip")} for port in record.get("ports") or []]
    requested_nics = [dict(nic) for nic in request["nics"]]
    shown = [dict(port, fixed_ip=port["fixed_ip"] if nic.get("fixed_ip") else None)
             for nic, port in zip(requested_nics, ports)] + ports[len(requested_nics):]
    if [nic["network"] for nic in requested_nics] != [port["network"] for port in ports] or any(
            nic.get("fixed_ip") and nic["fixed_ip"] != port["fixed_ip"] for nic, port in zip(requested_nics, ports)):
        differs("nics", requested_nics, shown)
    differs("key_name", request.get("key_name") or None, record.get("key_name") or None)
    same = user_data_matches(request.get("userdata"), record.get("user_data_digest"))
    if same is False:
        differs("user_data", "given" if request.get("userdata") is not None else None,
                "other user data" if record.get("user_data_digest") else None)
    zone = request.get("availability_zone")
    actual_zone = record.get("availability_zone") or (hv.config["availability_zone"] if hv else None)
    if zone is not None:
        differs("availability_zone", zone, actual_zone)
    differs("server_group", request["scheduler_hints"].get("group"), record.get("server_group") or None)
    differs("config_drive", bool(request["config_drive"]), bool(record.get("config_drive")))
    return drift


def drift_message(drifted):
    """'server web1 differs from the request in flavor (requested ..., actual ...), ...' for
    [(name, drift)]."""
    return "; ".join("server %s differs from the request in %s" % (name, ", ".join(
        "%s (requested %s, actual %s)" % (item["field"], _shown(item["requested"]), _shown(item["actual"]))
        for item in drift)) for name, drift in drifted)


def _shown(value):
    if isinstance(value, list):
        return "[%s]" % ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        if set(value) == {"network", "fixed_ip"}:
            return value["network"] + ("=" + value["fixed_ip"] if value["fixed_ip"] else "")
        return "{%s}" % ", ".join("%s: %s" % (key, _shown(item)) for key, item in sorted(value.items()))
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)
