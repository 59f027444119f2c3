#!/usr/bin/env python3
"""Run a shell command; print its wall time and the bytes it read.

usage: python3 bench/rchar.py 'COMMAND'

The bytes read are rchar of /proc/self/io (read(2), pread(2) and the like,
page cache or disk alike), which the kernel adds a child's to when the
child is reaped: so the shell's and every process of the pipeline. What
--exclude and --path leave unread shows here (issue 15's figure):

  python3 bench/rchar.py 'tarflat rootfs.tar > /dev/null'
  python3 bench/rchar.py 'tarflat --exclude usr/share rootfs.tar > /dev/null'
"""
import subprocess, sys, time


def rchar():
    with open('/proc/self/io') as f:
        for line in f:
            key, value = line.split(':')
            if key == 'rchar':
                return int(value)
    return 0


if len(sys.argv) != 2:
    sys.exit(__doc__)
before, t0 = rchar(), time.monotonic()
subprocess.run(sys.argv[1], shell=True, check=True)
print("%.3f s, rchar %d" % (time.monotonic() - t0, rchar() - before))
