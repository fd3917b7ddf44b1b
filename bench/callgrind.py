"""Counting instructions with valgrind's callgrind, where the machines the bench runs on are too
noisy for a clock: ``bench.pdf_instructions`` and ``bench.plan_instructions`` each run a program
of theirs twice under it, once without the work measured (run 0) and once with it (run 1), and
read the difference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys


def require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: apt-get install valgrind (Debian)")


def run_pair(module: str, args: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """``python -m module --run 0|1 *args`` under callgrind, both at once (two cores): their
    instruction counts. ``PYTHONHASHSEED`` is fixed, so that two counts of the same code agree.
    A run that fails ends the program with its output."""
    env = {**(os.environ if env is None else env), "PYTHONHASHSEED": "0"}
    runs = [_start(module, [str(run), *args], env) for run in (0, 1)]
    outputs = [run.communicate()[1] for run in runs]
    for run, stderr in zip(runs, outputs, strict=True):
        if run.returncode:
            sys.exit(f"a run under callgrind failed:\n{stderr[-3000:]}")
    first, second = (_refs(stderr) for stderr in outputs)
    return first, second


def _start(module: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", module, "--run", *args,
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603 (our own command line)


def _refs(stderr: str) -> int:
    match = re.search(r"I\s+refs:\s+([\d,]+)", stderr)
    if match is None:
        sys.exit(f"valgrind printed no instruction count:\n{stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))
