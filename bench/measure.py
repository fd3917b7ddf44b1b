"""Run one command and print its wall time, peak RSS and exit code as JSON (last line).

bench/run.py starts this small launcher rather than the command itself: a child forked from the
runner would count the runner's own memory (the app it loaded) in its peak RSS until it execs.

    python -m bench.measure COMMAND [ARG...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(command: list[str]) -> None:
    started = time.perf_counter()
    proc = subprocess.Popen(command)  # noqa: S603 (the runner's own command line)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "exit": exit_code,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
