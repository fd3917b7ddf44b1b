"""Known vulnerabilities in the installed dependencies: ``make deps-audit`` (CI runs it).

Runs pip-audit against the environment, which asks PyPI's advisory data about each installed
version. Three outcomes, each said in plain words:

- a dependency has a known vulnerability: the advisories are listed and the exit status is 1
  (tighten the range in setup.cfg past the fixed version);
- every dependency that could be checked is clean: one line, exit 0;
- nothing could be checked (no network, or the index this machine reaches has no record of
  the installed versions): one line saying so, exit 0. Not a failure: the check could not run,
  and saying so is the honest answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

PIP_AUDIT = [
    sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
    "--skip-editable",
]  # fmt: skip


def judge(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit status and the lines to print for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    checked = [d for d in dependencies if "skip_reason" not in d]
    skipped = len(dependencies) - len(checked)
    if not checked:
        return 0, [
            f"pip-audit: no dependency could be checked ({skipped} skipped): the vulnerability "
            "database has no record of the installed versions from this machine."
        ]
    vulnerable = [d for d in checked if d.get("vulns")]
    if not vulnerable:
        note = f", {skipped} not on PyPI and not checked" if skipped else ""
        return 0, [f"pip-audit: {len(checked)} dependencies checked, none vulnerable{note}."]
    lines = [f"pip-audit: {len(vulnerable)} dependencies have known vulnerabilities:"]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(
                f"  {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})"
            )
    return 1, lines


def main() -> int:
    result = subprocess.run(PIP_AUDIT, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except ValueError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: not run, the vulnerability database cannot be reached ({reason}).")  # noqa: T201
        return 0
    status, lines = judge(report)
    print("\n".join(lines))  # noqa: T201
    return status


if __name__ == "__main__":
    sys.exit(main())
