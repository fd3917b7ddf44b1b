"""The one shape every clinical rule answers with.

Pure Python: rules in ``mat/orders/rules.py`` and ``mat/dosing/rules.py`` return lists of
``Violation``; services turn a list that contains blocking ones into a ``RuleViolation`` error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["block", "justify", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "justify", "warn")


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule that fired: its stable id from clinical-rules.md, its severity and a sentence."""

    rule: str
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}


def blocking(violations: list[Violation], *, justified: bool = False) -> list[Violation]:
    """What refuses the action: every ``block``, and each ``justify`` without a justification."""
    return [
        v
        for v in violations
        if v.severity == "block" or (v.severity == "justify" and not justified)
    ]


def warnings(violations: list[Violation], *, justified: bool = False) -> list[Violation]:
    """What an accepted action carries: ``warn``, and ``justify`` rules a justification covered."""
    return [
        v for v in violations if v.severity == "warn" or (v.severity == "justify" and justified)
    ]


def rule_ids(found: list[Violation]) -> list[str]:
    """Each rule that fired, once, in the order found: what the audit trail stores."""
    return list(dict.fromkeys(v.rule for v in found))
