"""A/B timing of builds of pycnn: alternating fresh processes, each from a fresh copy.

Each build is a package directory (a copy of ``pycnn/`` with its compiled
extension). Every round runs the command once per build, in a new process
whose PYTHONPATH leads to a copy of that build made for this run alone and
deleted after it.

Why the copies: two fixed copies of one and the same build, alternated this
way, read apart by up to 10-15 %, consistently over rounds (face conv1's
forward 1.05-1.14 against 1.15-1.25 ms, mnist conv1's 0.225 against 0.26 ms,
the files byte-identical); with a fresh copy per run they read alike. Where
a copy's files lie in memory matters, not the code, so an A/B of two fixed
copies can show a difference neither build makes.

    python tools/ab_builds.py --rounds 4 /tmp/a/pycnn /tmp/b/pycnn -- \\
        python -c "import pycnn; ..."

Each run's output is printed after the build's name. Time with
``time.process_time`` at one thread (robust to other processes on a shared
host) and compare medians or minimums over the rounds.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def run_copy(package, command):
    """Output of `command` run against a fresh copy of `package`."""
    with tempfile.TemporaryDirectory(prefix="pycnn-ab-") as parent:
        shutil.copytree(package, os.path.join(parent, "pycnn"))
        env = dict(os.environ, PYTHONPATH=parent)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{command[0]} failed against {package}:\n{done.stderr}")
        return done.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="%(prog)s [--rounds N] BUILD [BUILD ...] -- COMMAND [ARG ...]")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("builds", nargs="+", help="package directories (each a pycnn/ with its extension)")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("give the command after --")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]
    for build in args.builds:
        if not os.path.isfile(os.path.join(build, "__init__.py")):
            parser.error(f"{build} is not a package directory (no __init__.py)")
    width = max(len(b) for b in args.builds)
    for _ in range(args.rounds):
        for build in args.builds:
            print(f"{build:<{width}}  {run_copy(build, command)}", flush=True)


if __name__ == "__main__":
    main()
