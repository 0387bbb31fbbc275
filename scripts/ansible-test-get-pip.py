"""Stand-in for pip's get-pip.py, which ansible-test downloads from a host this machine cannot
reach: bootstrap pip from the interpreter's own ensurepip, then `pip install` the arguments
(ansible-test passes the pinned pip it wants), from the package index."""

import runpy
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
# get-pip.py options that `pip install` does not know.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", "--upgrade"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
