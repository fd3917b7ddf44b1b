"""``make deps-audit`` says what pip-audit found, or plainly that it could not check."""

from __future__ import annotations

from tools.deps_audit import judge


def test_nothing_checkable_is_said_in_one_line_and_does_not_fail() -> None:
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "skip_reason": "not found"}]}
    status, lines = judge(report)
    assert status == 0 and len(lines) == 1
    assert lines[0].startswith("pip-audit: no dependency could be checked")


def test_a_clean_environment_passes() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "mat-private", "version": "1", "skip_reason": "not on PyPI"},
        ]
    }
    assert judge(report) == (
        0,
        ["pip-audit: 1 dependencies checked, none vulnerable, 1 not on PyPI and not checked."],
    )


def test_a_known_vulnerability_fails_and_names_the_fix() -> None:
    report = {
        "dependencies": [
            {
                "name": "werkzeug",
                "version": "3.0.0",
                "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.0.6"], "aliases": []}],
            }
        ]
    }
    status, lines = judge(report)
    assert status == 1
    assert lines[1] == "  werkzeug 3.0.0: GHSA-xxxx (fixed in 3.0.6)"
