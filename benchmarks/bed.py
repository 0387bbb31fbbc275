"""The benchmarks' test bed: three systemd-nspawn hypervisor hosts (tests/testbed), named
`nlbench` (NOVALITE_BENCH_BED) so it never meets the test sessions' beds.

    bed.py up      hosts up, prepare_compute.yml (the nova_compute role, the `private`
                   network), precache_images.yml (the tiny image in every _base cache)
    bed.py down    every host stopped and removed; exits 1 if anything is left
"""

import os
import sys

import common


def up():
    bed = common.testbed()
    bed.up()
    try:
        common.log("bed %s up; preparing the hosts (prepare_compute.yml)" % bed.name)
        wall, data, proc = common.playbook(os.path.join(common.REPO, "playbooks", "prepare_compute.yml"),
                                           {"nova_compute_networks": [common.BED_NETWORK]})
        if proc.returncode != 0:
            raise RuntimeError("prepare_compute.yml failed: %s" % (common.failures(data) or proc.stderr[-2000:]))
        common.log("prepared in %.1f s; pre-caching the tiny image" % wall)
        wall, data, proc = common.playbook(os.path.join(common.REPO, "playbooks", "precache_images.yml"),
                                           common.catalog())
        if proc.returncode != 0:
            raise RuntimeError("precache_images.yml failed: %s" % (common.failures(data) or proc.stderr[-2000:]))
        common.log("images cached in %.1f s" % wall)
    except BaseException:
        bed.down()
        raise


def down():
    bed = common.testbed()
    bed.down()
    left = bed.leftovers()
    if left:
        common.log("left behind: " + ", ".join(left))
        return 1
    common.log("bed %s down, nothing left" % bed.name)
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "up":
        up()
    elif action == "down":
        sys.exit(down())
    else:
        sys.exit("usage: bed.py up|down")
