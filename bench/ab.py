#!/usr/bin/env python3
"""Paired whole-process timing of two or more commands, interleaved.

    bench/ab.py N 'CMD A …' 'CMD B …' ['CMD C …']

Runs the commands N times each, in a fresh random order in every round, and
prints each one's median and mean and, for the first two, the paired
difference and in how many rounds the first was slower. hyperfine runs all
of one command's runs before the next's, so on a VM whose speed drifts over
seconds its medians of two builds can differ by more than the change being
measured; interleaving cancels the drift. An A/A run (the same command
twice) shows the noise floor: its paired median is ~0 and "first slower"
about N/2. Commands are split on spaces (no shell); stdout and stderr go to
/dev/null; RUST_BACKTRACE and RUST_LIB_BACKTRACE are removed from the
environment, as bench/verify-one.sh does.
"""
import os
import random
import statistics
import sys
import time

n = int(sys.argv[1])
cmds = [c.split() for c in sys.argv[2:]]
if n < 1 or len(cmds) < 2:
    sys.exit(__doc__)
devnull = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
env = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")}


def run(cmd):
    start = time.perf_counter_ns()
    pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    took = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) < 0:
        sys.exit(f"killed by a signal: {' '.join(cmd)}")
    return took


for cmd in cmds:  # warm-up: page cache, the loader's cache
    for _ in range(20):
        run(cmd)
times = [[] for _ in cmds]
for _ in range(n):
    order = list(range(len(cmds)))
    random.shuffle(order)
    for i in order:
        times[i].append(run(cmds[i]))
for cmd, t in zip(cmds, times):
    print(f"{statistics.median(t) / 1e6:8.3f} ms median {statistics.mean(t) / 1e6:8.3f} ms mean  {' '.join(cmd)[:70]}")
d = [a - b for a, b in zip(times[0], times[1])]
print(
    f"paired, first minus second: median {statistics.median(d) / 1e6:.3f} ms, mean {statistics.mean(d) / 1e6:.3f} ms; "
    f"first slower in {sum(x > 0 for x in d)} of {n} rounds"
)
