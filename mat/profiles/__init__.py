"""Rule profiles: the versioned numbers and severities of docs/clinical-rules.md.

``us-federal`` is built in (``us-federal.json`` next to this file, found through
``importlib.resources`` so it works from an installed wheel too). A clinic loads its own profile,
a state overlay for example, by path. Every number is marked law, label or policy
(``mat/profiles/basis.py``): a clinic profile may tighten anything, and may loosen a label or
policy number (or the severity of a label or policy rule) only when it says why, never a law
number. Anything else looser than ``us-federal`` is refused with ``ProfileError``
(``mat/profiles/looser.py``), so the app never starts under a weaker rule book.

The reason for a loosened number is a ``reasons`` entry of the file, keyed by the number's name
(one reason covers a per-substance map such as ``split_min_interval_hours``) or by
``severities.<rule id>`` for a severity, in at least ten characters::

    "drug_screen_max_age_days": 90,
    "reasons": {"drug_screen_max_age_days": "Board policy 2026-04: stable patients are screened
                every 90 days; the state allows it."}

A reason may also document a tightened number; a reason for a key that is not in the rule book
is refused (a typo would leave the loosened number without one).

Design choices, so a profile file can be audited on its own:
- a file lists every number and every severity; a missing or unknown key is an error (a typo
  such as ``methadone_first_day_mx`` must not silently fall back to anything);
- a file loaded by path may not reuse a built-in id with different contents, because records
  store only ``id`` and ``version`` and an auditor must be able to tell the rule books apart.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from mat.violations import SEVERITIES, Severity

__all__ = ["FEDERAL_ID", "Profile", "ProfileError", "load_profile"]

FEDERAL_ID = "us-federal"
SUBSTANCES = ("methadone", "buprenorphine", "naltrexone")
_BUILT_IN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# Column widths of orders.profile_id / profile_version: a longer id would fail at the first save.
_MAX_ID, _MAX_VERSION = 40, 20


class ProfileError(Exception):
    """A profile file that cannot be used: unreadable, malformed, or looser than us-federal."""


Stricter = Literal["lower", "higher"]
Fail = Callable[[str], ProfileError]  # builds the "is invalid: ..." error of one file


@dataclass(frozen=True, slots=True)
class _Number:
    """How one number of the rule book is read and which direction is stricter."""

    type: type[int] | type[Decimal]
    stricter: Stricter  # "lower": a limit or ceiling; "higher": a minimum interval or window
    least: Decimal  # smallest sensible value
    least_inclusive: bool = True
    most: Decimal | None = None


_MG = _Number(Decimal, "lower", Decimal(0), least_inclusive=False)
_FACTOR = _Number(Decimal, "lower", Decimal(1), least_inclusive=False)  # 1x would always fire
_FRACTION = _Number(Decimal, "lower", Decimal(0), least_inclusive=False, most=Decimal(1))
_MAX_DAYS = _Number(int, "lower", Decimal(1))
_MIN_DAYS = _Number(int, "higher", Decimal(1))
# A count's tolerance (clinical-rules.md, stock_reconciliation): 0 is allowed (no tolerance).
_TOLERANCE = _Number(Decimal, "lower", Decimal(0))

NUMBERS: dict[str, _Number] = {
    "methadone_first_day_max_mg": _MG,
    "methadone_first_dose_label_mg": _MG,
    "methadone_first_day_label_total_mg": _MG,
    "methadone_increase_step_max_mg": _MG,
    "methadone_increase_min_days_apart": _MIN_DAYS,
    "methadone_high_dose_mg": _MG,
    "buprenorphine_day1_max_mg": _MG,
    "buprenorphine_day2_max_mg": _MG,
    "buprenorphine_high_dose_mg": _MG,
    "taper_step_max_percent": _Number(Decimal, "lower", Decimal(0), False, Decimal(100)),
    "taper_step_min_days_apart": _MIN_DAYS,
    "dose_jump_factor": _FACTOR,
    "dose_implausible_factor": _FACTOR,
    "drug_screen_max_age_days": _MAX_DAYS,
    "step_back_positive_screens": _MAX_DAYS,  # fewer positives before step-back is stricter
    "step_back_window_days": _MIN_DAYS,  # a longer look-back window is stricter
    "missed_doses_review_days": _MAX_DAYS,
    # A lower fraction, a lower cap and a cap from fewer missed days all ask for a smaller dose.
    "missed_doses_reduced_fraction": _FRACTION,
    "missed_doses_reduced_cap_mg": _MG,
    "missed_doses_reduced_cap_days": _MAX_DAYS,
    "drug_screens_per_year": _Number(int, "higher", Decimal(1), most=Decimal(365)),
    "take_home_loss_reports": _MAX_DAYS,  # fewer losses before the warning is stricter
    "take_home_loss_window_days": _MIN_DAYS,  # a longer look-back window is stricter
    "stock_tolerance_liquid_percent": _TOLERANCE,
    "stock_tolerance_liquid_min_ml": _TOLERANCE,
    "stock_tolerance_solid_units": _TOLERANCE,
}
PER_SUBSTANCE: dict[str, _Number] = {
    "absolute_ceiling_mg": _MG,
    "reinduction_missed_days": _MAX_DAYS,
    # A substance left out has no interval beyond the order of the slots.
    "split_min_interval_hours": _MIN_DAYS,
}
_OTHER_KEYS = ("id", "version", "description", "take_home_ceiling_days", "severities", "reasons")
# A reason says why in words: "policy" alone is not one.
_SHORTEST_REASON, _LONGEST_REASON = 10, 2000
_REQUIRED = ("id", "version", *NUMBERS, *PER_SUBSTANCE, "take_home_ceiling_days", "severities")


@dataclass(frozen=True, slots=True)
class Profile:
    """One rule book. Mappings are tuples of pairs so a profile is immutable and hashable."""

    id: str
    version: str
    methadone_first_day_max_mg: Decimal
    methadone_first_dose_label_mg: Decimal  # the first single dose of an induction
    methadone_first_day_label_total_mg: Decimal
    methadone_increase_step_max_mg: Decimal
    methadone_increase_min_days_apart: int
    methadone_high_dose_mg: Decimal
    buprenorphine_day1_max_mg: Decimal
    buprenorphine_day2_max_mg: Decimal
    buprenorphine_high_dose_mg: Decimal
    taper_step_max_percent: Decimal
    taper_step_min_days_apart: int
    dose_jump_factor: Decimal
    dose_implausible_factor: Decimal
    drug_screen_max_age_days: int
    step_back_positive_screens: int
    step_back_window_days: int
    missed_doses_review_days: int
    missed_doses_reduced_fraction: Decimal  # of the last dose given, after a review
    missed_doses_reduced_cap_mg: Decimal
    missed_doses_reduced_cap_days: int  # missed days from which the cap applies as well
    drug_screens_per_year: int
    take_home_loss_reports: int
    take_home_loss_window_days: int
    # stock_reconciliation: a liquid line may differ by the larger of this percent of the day's
    # volume drawn from the lot and this many mL; a solid line by this many units.
    stock_tolerance_liquid_percent: Decimal
    stock_tolerance_liquid_min_ml: Decimal
    stock_tolerance_solid_units: Decimal
    absolute_ceiling_mg: tuple[tuple[str, Decimal], ...]  # substance -> mg; absent: no ceiling
    reinduction_missed_days: tuple[tuple[str, int], ...]  # substance -> consecutive missed days
    split_min_interval_hours: tuple[tuple[str, int], ...]  # substance -> hours; absent: none
    take_home_ceiling_days: tuple[tuple[int, int], ...]  # (from treatment day, max run), sorted
    severities: tuple[tuple[str, Severity], ...]
    description: str = ""
    reasons: tuple[tuple[str, str], ...] = ()  # number or "severities.<rule>" -> why loosened

    @property
    def label(self) -> str:
        """``us-federal 2024.2``: what records and reports print."""
        return f"{self.id} {self.version}"

    def severity(self, rule_id: str) -> Severity:
        for rule, severity in self.severities:
            if rule == rule_id:
                return severity
        raise KeyError(f"Profile {self.label} has no severity for rule {rule_id!r}.")

    def absolute_ceiling(self, substance: str) -> Decimal | None:
        return dict(self.absolute_ceiling_mg).get(substance)

    def reinduction_after_missed_days(self, substance: str) -> int | None:
        return dict(self.reinduction_missed_days).get(substance)

    def split_interval_hours(self, substance: str) -> int | None:
        """Least hours between the parts of a split dose; ``None``: only the slots' order."""
        return dict(self.split_min_interval_hours).get(substance)

    def reason(self, key: str) -> str | None:
        """Why the profile loosens ``key`` (a number, or ``severities.<rule>``), if it says."""
        return dict(self.reasons).get(key)

    def take_home_ceiling(self, treatment_day: int) -> int:
        """Most consecutive methadone take-home days for a run starting on ``treatment_day``."""
        return self.take_home_tier(treatment_day)[2]

    def take_home_tier(self, treatment_day: int) -> tuple[int, int | None, int]:
        """(first treatment day, last treatment day or None, ceiling) of the tier holding the day.

        Days before day 1 (an order dated before admission) fall in the first tier.
        """
        tiers = self.take_home_ceiling_days
        for i, (first, days) in enumerate(tiers):
            last = tiers[i + 1][0] - 1 if i + 1 < len(tiers) else None
            if last is None or treatment_day <= last:
                return first, last, days
        raise AssertionError("take_home_ceiling_days is never empty")  # pragma: no cover


def load_profile(id_or_path: str) -> Profile:
    """A built-in profile by id (``us-federal``) or a profile file by path.

    Raises ``ProfileError`` when the file is missing, malformed or looser than us-federal.
    """
    if _BUILT_IN_ID.match(id_or_path) and _built_in_file(id_or_path).is_file():
        profile = _built_in(id_or_path)
    else:
        path = Path(id_or_path).expanduser()
        if not path.is_file():
            raise ProfileError(
                f"No built-in rule profile is named {id_or_path!r} and no file exists there."
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"Rule profile file {path} cannot be read: {exc}.") from exc
        profile = _parse(text, str(path))
        if _BUILT_IN_ID.match(profile.id) and _built_in_file(profile.id).is_file():
            same = replace(profile, description="") == replace(
                _built_in(profile.id), description=""
            )
            if not same:
                raise ProfileError(
                    f"Rule profile file {path} reuses the built-in id {profile.id!r} with "
                    "different rules; give it its own id so records show which rule book applied."
                )
    if profile.id != FEDERAL_ID:
        from mat.profiles.looser import refuse_looser  # it reads this module's number specs

        refuse_looser(profile, _built_in(FEDERAL_ID))
    return profile


def _built_in_file(profile_id: str) -> Traversable:
    return resources.files(__name__).joinpath(f"{profile_id}.json")


@cache
def _built_in(profile_id: str) -> Profile:
    text = _built_in_file(profile_id).read_text(encoding="utf-8")
    return _parse(text, f"built-in {profile_id}")


# ---- reading a file ----------------------------------------------------------------------


def _parse(text: str, source: str) -> Profile:
    def fail(problem: str) -> ProfileError:
        return ProfileError(f"Rule profile {source} is invalid: {problem}.")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:  # a second value could hide a looser one
                raise fail(f"the key {key!r} appears twice")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise fail(f"{name} is not a number")

    try:
        data = json.loads(
            text,
            parse_float=Decimal,  # exact: 0.1 stays 0.1
            parse_constant=no_constants,
            object_pairs_hook=no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise fail(f"it is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise fail("it must be a JSON object")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise fail(f"{missing[0]!r} is missing")
    unknown = sorted(set(data) - set(_OTHER_KEYS) - set(NUMBERS) - set(PER_SUBSTANCE))
    if unknown:
        raise fail(f"{unknown[0]!r} is not a rule profile key")

    values: dict[str, Any] = {}
    values["id"] = _text(data["id"], "id", _MAX_ID, fail)
    values["version"] = _text(data["version"], "version", _MAX_VERSION, fail)
    values["description"] = data.get("description", "")
    if not isinstance(values["description"], str):
        raise fail("'description' must be text")
    for name, spec in NUMBERS.items():
        values[name] = _number(data[name], name, spec, fail)
    for name, spec in PER_SUBSTANCE.items():
        values[name] = _per_substance(data[name], name, spec, fail)
    values["take_home_ceiling_days"] = _tiers(data["take_home_ceiling_days"], fail)
    values["severities"] = _severities(data["severities"], fail)
    values["reasons"] = _reasons(data.get("reasons", {}), values["severities"], fail)
    return Profile(**values)


def _text(value: Any, name: str, longest: int, fail: Fail) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise fail(f"{name!r} must be text of 1 to {longest} characters")
    return value


def _number(value: Any, name: str, spec: _Number, fail: Fail) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise fail(f"{name!r} must be a number")
    if spec.type is int and (isinstance(value, Decimal) and value != value.to_integral_value()):
        raise fail(f"{name!r} must be a whole number")
    amount = Decimal(value)
    too_small = amount < spec.least if spec.least_inclusive else amount <= spec.least
    if too_small or (spec.most is not None and amount > spec.most):
        bound = "at least" if spec.least_inclusive else "above"
        upper = f" and at most {spec.most}" if spec.most is not None else ""
        raise fail(f"{name!r} is {value}; it must be {bound} {spec.least}{upper}")
    return int(amount) if spec.type is int else amount


def _per_substance(value: Any, name: str, spec: _Number, fail: Fail) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, dict):
        raise fail(f"{name!r} must map substances to numbers")
    for substance in value:
        if substance not in SUBSTANCES:
            raise fail(f"{name!r} names {substance!r}, which is not a substance of the formulary")
    return tuple(
        (s, _number(value[s], f"{name}.{s}", spec, fail)) for s in SUBSTANCES if s in value
    )


def _tiers(value: Any, fail: Fail) -> tuple[tuple[int, int], ...]:
    name = "take_home_ceiling_days"
    if not isinstance(value, list) or not value:
        raise fail(f"{name!r} must be a non-empty list")
    tiers: list[tuple[int, int]] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"from_treatment_day", "days"}:
            raise fail(f"each {name!r} entry needs exactly 'from_treatment_day' and 'days'")
        first = _number(item["from_treatment_day"], f"{name}.from_treatment_day", _MAX_DAYS, fail)
        days = _number(item["days"], f"{name}.days", _Number(int, "lower", Decimal(0)), fail)
        tiers.append((int(first), int(days)))
    starts = [first for first, _ in tiers]
    if starts[0] != 1 or starts != sorted(set(starts)):
        raise fail(f"{name!r} must start at treatment day 1 and go forward")
    return tuple(tiers)


def _severities(value: Any, fail: Fail) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict) or not value:
        raise fail("'severities' must map rule ids to block, justify or warn")
    for rule, severity in value.items():
        if severity not in SEVERITIES:
            raise fail(f"the severity of {rule!r} is {severity!r}; use block, justify or warn")
    return tuple(sorted(value.items()))


def _reasons(
    value: Any, severities: tuple[tuple[str, Severity], ...], fail: Fail
) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise fail("'reasons' must map numbers or severities.<rule id> to text")
    keys = {*NUMBERS, *PER_SUBSTANCE, "take_home_ceiling_days"}
    keys |= {f"severities.{rule}" for rule, _ in severities}
    for key, text in value.items():
        if key not in keys:
            raise fail(f"'reasons' names {key!r}, which is not a number or severities.<rule id>")
        if not isinstance(text, str) or not (
            _SHORTEST_REASON <= len(text.strip()) <= _LONGEST_REASON
        ):
            raise fail(
                f"the reason for {key!r} must be text of {_SHORTEST_REASON} to "
                f"{_LONGEST_REASON} characters saying why"
            )
    return tuple(sorted((key, text.strip()) for key, text in value.items()))
