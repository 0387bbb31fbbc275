# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A notifications file that cannot be written never decides a build's outcome."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.novalite.compute.plugins.module_utils.compute.notifications import Notifier


def test_a_full_notifications_file_is_reported_not_raised():
    notifier = Notifier("/dev/full")
    notifier.notify("compute.instance.create.start", "h1", {"instance_id": "u1"})
    notifier.notify("compute.instance.create.end", "h1", {"instance_id": "u1"})
    assert [e["event_type"] for e in notifier.events] == ["compute.instance.create.start",
                                                          "compute.instance.create.end"]
    assert notifier.write_error.startswith("notifications_file: cannot write /dev/full: ")


def test_a_writable_file_gets_every_event(tmp_path):
    path = tmp_path / "events.jsonl"
    notifier = Notifier(str(path))
    notifier.notify("compute.instance.create.start", "h1", {"instance_id": "u1"})
    assert notifier.write_error is None
    assert path.read_text().count("\n") == 1
