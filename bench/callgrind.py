"""Counting instructions with valgrind's callgrind, where the machines the bench runs on are too
noisy for a clock: ``bench.pdf_instructions`` and ``bench.plan_instructions`` each run a program
of theirs twice under it, once without the work measured (run 0) and once with it (run 1), and
read the difference; ``bench.pdf_command_instructions`` counts whole commands side by side."""

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
    instruction counts. A run that fails ends the program with its output."""
    first, second = count_at_once(
        [[sys.executable, "-m", module, "--run", str(run), *args] for run in (0, 1)], env
    )
    return first, second


def count_at_once(commands: list[list[str]], env: dict[str, str] | None = None) -> list[int]:
    """Each command under callgrind, all at once (two at a time fit two cores): their
    instruction counts, in order. ``PYTHONHASHSEED`` is fixed, so that two counts of the same
    code agree. What they print is not shown; a command that fails ends the program with its
    errors."""
    env = {**(os.environ if env is None else env), "PYTHONHASHSEED": "0"}
    runs = [_start(command, env) for command in commands]
    outputs = [run.communicate()[1] for run in runs]
    for run, stderr in zip(runs, outputs, strict=True):
        if run.returncode:
            sys.exit(f"a run under callgrind failed:\n{stderr[-3000:]}")
    return [refs(stderr) for stderr in outputs]


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [*valgrind, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def refs(stderr: str) -> int:
    """The instruction count valgrind printed at the end of a run."""
    match = re.search(r"I\s+refs:\s+([\d,]+)", stderr)
    if match is None:
        sys.exit(f"valgrind printed no instruction count:\n{stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))
