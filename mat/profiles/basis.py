"""Where each number and rule of the rule book comes from: law, label or policy.

docs/clinical-rules.md marks every number **law** (42 CFR 8.12 or DEA: a clinic may only make it
stricter), **label** (FDA labeling: a clinic may change it with a documented reason) or
**policy** (a common program default: a clinic may set its own, saying why). The marks live here,
in code, and not in a profile file: a clinic's file cannot re-mark a law number as policy to
loosen it.

Severities follow the rule they belong to (``RULE_BASIS``), with two more kinds:

- ``safeguard``: the rules that keep the record true and the right person acting (roles,
  discharge, holds, double doses, what the order says, append-only records, witnesses). The rule
  book gives them no number and no room: their severity is never made weaker.
- ``FLAGS``: rules that do not refuse anything but mark what the law lets through
  (``clinic_closed``, ``take_home_exception``) or remind (``drug_screen_frequency``, shown on the
  chart and in reports, judged at no action). Their severity stays ``warn``: a flag made
  ``block`` would refuse a closure-day dose or an approved exception the law allows (leaving a
  patient with no dose on a day the clinic is shut), and a reminder made ``block`` would gate
  nothing while seeming to.

"Weaker" for a severity is the order block > justify > warn. For a law or safeguard rule a
weaker severity is refused; for a label or policy rule it is allowed with a reason, like a
looser number. Pure Python.
"""

from __future__ import annotations

from typing import Literal

Basis = Literal["law", "label", "policy"]
RuleBasis = Literal["law", "label", "policy", "safeguard"]

__all__ = ["FLAGS", "NUMBER_BASIS", "RULE_BASIS", "Basis", "RuleBasis"]

NUMBER_BASIS: dict[str, Basis] = {
    # Order rules
    "methadone_first_day_max_mg": "law",  # 42 CFR 8.12: 50 mg on the first day
    "methadone_first_dose_label_mg": "label",  # the first single dose
    "methadone_first_day_label_total_mg": "label",  # day-1 total at most 40 mg
    "methadone_increase_step_max_mg": "label",
    "methadone_increase_min_days_apart": "label",
    "methadone_high_dose_mg": "label",
    "buprenorphine_day1_max_mg": "label",
    "buprenorphine_day2_max_mg": "label",
    "buprenorphine_high_dose_mg": "label",
    "taper_step_max_percent": "policy",
    "taper_step_min_days_apart": "policy",
    "dose_jump_factor": "policy",
    "dose_implausible_factor": "policy",
    "absolute_ceiling_mg": "policy",
    "missed_doses_reduced_fraction": "policy",
    "missed_doses_reduced_cap_mg": "policy",
    "missed_doses_reduced_cap_days": "policy",
    # Dosing rules
    "missed_doses_review_days": "policy",
    "reinduction_missed_days": "policy",
    "split_min_interval_hours": "policy",
    # Take-home rules
    "take_home_ceiling_days": "law",  # 42 CFR 8.12: 7 / 14 / 28 consecutive days
    "drug_screen_max_age_days": "policy",
    "step_back_positive_screens": "policy",
    "step_back_window_days": "policy",
    "drug_screens_per_year": "law",  # 42 CFR 8.12: at least eight tests a year
    # Corrections: the rule book gives the loss count no source; it is a program default.
    "take_home_loss_reports": "policy",
    "take_home_loss_window_days": "policy",
    # Controlled-substance stock: the daily count is law, its tolerance is policy.
    "stock_tolerance_liquid_percent": "policy",
    "stock_tolerance_liquid_min_ml": "policy",
    "stock_tolerance_solid_units": "policy",
}

RULE_BASIS: dict[str, RuleBasis] = {
    # Order rules
    "prescriber_required": "safeguard",
    "methadone_first_day_max": "law",
    "methadone_first_dose_label": "label",
    "methadone_increase_step": "label",
    "methadone_high_dose": "label",
    "buprenorphine_day1_max": "label",
    "buprenorphine_high_dose": "label",
    "taper_step_max": "policy",
    "dose_jump": "policy",
    "dose_implausible": "policy",
    "missed_doses_dose_not_reduced": "policy",
    "dose_not_measurable": "safeguard",
    "take_home_plan_ceiling": "law",
    # Dosing rules
    "dispenser_required": "safeguard",
    "patient_not_active": "safeguard",
    "no_active_order": "safeguard",
    "patient_on_hold": "safeguard",
    "already_dosed": "safeguard",
    "amount_mismatch": "safeguard",
    "missed_doses_review": "policy",
    "missed_doses_reinduction": "policy",
    "late_entry": "policy",
    "split_interval": "policy",
    # Take-home rules
    "take_home_not_authorized": "safeguard",
    "take_home_criteria": "law",
    "take_home_ceiling": "law",
    "take_home_exception": "law",
    "take_home_drug_screen": "policy",
    "take_home_step_back": "policy",
    "clinic_closed": "law",
    "drug_screen_frequency": "law",
    # Corrections
    "append_only": "safeguard",
    "witness_required": "safeguard",
    "take_home_correction": "safeguard",
    "take_home_loss": "policy",
    # Controlled-substance stock (DEA 21 CFR 1304.11, 1304.22, 1301.74)
    "stock_receipt": "law",
    "stock_expired": "safeguard",
    "stock_insufficient": "safeguard",
    "stock_reconciliation": "law",
    "stock_loss_report": "law",
}

# Rules whose severity is always ``warn`` (see the module docstring).
FLAGS: frozenset[str] = frozenset({"clinic_closed", "take_home_exception", "drug_screen_frequency"})
