"""A clinic profile against us-federal: what it may loosen, and only with a reason.

Per number (``mat/profiles/basis.py`` marks each one):
- **law**: never looser; a reason does not help (42 CFR 8.12 binds every clinic);
- **label** and **policy**: looser only with a ``reasons`` entry that says why.
Per severity (block > justify > warn):
- a **law** or **safeguard** rule is never weaker;
- a **label** or **policy** rule is weaker only with a ``reasons["severities.<rule>"]`` entry;
- a flag (``FLAGS``) stays ``warn``, whichever way it would change.
Every looser number and severity is named at once, in one ``ProfileError``. Pure Python.
"""

from __future__ import annotations

from typing import Any

from mat.profiles import NUMBERS, PER_SUBSTANCE, Profile, ProfileError
from mat.profiles.basis import FLAGS, NUMBER_BASIS, RULE_BASIS

__all__ = ["refuse_looser"]

# block > justify > warn: a profile may make a rule harsher; softer only where the basis allows.
_STRENGTH: dict[str, int] = {"block": 3, "justify": 2, "warn": 1}


def refuse_looser(profile: Profile, federal: Profile) -> None:
    """Raise ``ProfileError`` naming everything ``profile`` loosens without the right to."""
    unknown = sorted({rule for rule, _ in profile.severities} - {r for r, _ in federal.severities})
    if unknown:
        raise ProfileError(
            f"Rule profile {profile.label} is invalid: {unknown[0]!r} is not a rule id of the "
            "rule book."
        )
    found: list[str] = []
    for name, spec in NUMBERS.items():
        looser = _looser(name, getattr(profile, name), getattr(federal, name), spec.stricter)
        found += _refused(profile, name, looser)
    for name, spec in PER_SUBSTANCE.items():
        mine: dict[str, Any] = dict(getattr(profile, name))
        looser = []
        for substance, limit in getattr(federal, name):
            if substance not in mine:
                looser.append(f"{name}.{substance} is missing (federal: {limit})")
            else:
                looser += _looser(f"{name}.{substance}", mine[substance], limit, spec.stricter)
        found += _refused(profile, name, looser)
    found += _refused(profile, "take_home_ceiling_days", _looser_tiers(profile, federal))
    found += _looser_severities(profile, federal)
    if found:
        raise ProfileError(
            f"Rule profile {profile.label} is refused because it is looser than {federal.label}: "
            + "; ".join(found)
            + "."
        )


def _looser(name: str, mine: Any, federal: Any, stricter: str) -> list[str]:
    if stricter == "lower" and mine > federal:
        return [f"{name} is {mine} but federal allows at most {federal}"]
    if stricter == "higher" and mine < federal:
        return [f"{name} is {mine} but federal requires at least {federal}"]
    return []


def _refused(profile: Profile, name: str, looser: list[str]) -> list[str]:
    """The loosenings of one number that stand refused: all of a law number's, and a label or
    policy number's when the profile gives no reason for it."""
    if not looser:
        return []
    basis = NUMBER_BASIS[name]
    if basis == "law":
        return [f"{text} (law: a clinic may only make it stricter)" for text in looser]
    if profile.reason(name) is None:
        return [
            f"{text} ({basis}: loosening it needs a reason, reasons[{name!r}])" for text in looser
        ]
    return []


def _looser_tiers(profile: Profile, federal: Profile) -> list[str]:
    breakpoints = {
        first for first, _ in profile.take_home_ceiling_days + federal.take_home_ceiling_days
    }
    found = []
    for day in sorted(breakpoints):
        mine_days, federal_days = profile.take_home_ceiling(day), federal.take_home_ceiling(day)
        if mine_days > federal_days:
            found.append(
                f"the take-home ceiling from treatment day {day} is {mine_days} consecutive days "
                f"but federal allows at most {federal_days}"
            )
    return found


def _looser_severities(profile: Profile, federal: Profile) -> list[str]:
    mine = dict(profile.severities)
    found = []
    for rule, severity in federal.severities:
        if rule not in mine:
            found.append(f"the severity of {rule} is missing (federal: {severity})")
            continue
        if rule in FLAGS:
            if mine[rule] != severity:
                found.append(
                    f"{rule} is {mine[rule]} but it stays {severity}: it flags what the law "
                    "allows or reminds, and refuses nothing"
                )
            continue
        if _STRENGTH[mine[rule]] >= _STRENGTH[severity]:
            continue
        basis = RULE_BASIS[rule]
        text = f"{rule} is {mine[rule]} but federal makes it {severity}"
        if basis in ("law", "safeguard"):
            found.append(f"{text} ({basis}: never weaker)")
        elif profile.reason(f"severities.{rule}") is None:
            found.append(f"{text} ({basis}: weaker needs a reason, reasons['severities.{rule}'])")
    return found
