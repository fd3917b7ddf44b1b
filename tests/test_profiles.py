"""Rule profiles: the built-in us-federal book, stricter overlays, and refusals of looser ones."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mat.profiles import FEDERAL_ID, Profile, ProfileError, load_profile


def federal_data() -> dict[str, Any]:
    text = resources.files("mat.profiles").joinpath("us-federal.json").read_text("utf-8")
    return json.loads(text)


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "profile.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def overlay(**changes: Any) -> dict[str, Any]:
    """A state overlay: the federal file with its own id and the given changes."""
    data = federal_data() | {"id": "us-xx", "version": "2025.1"}
    return data | changes


# ---- the built-in profile -------------------------------------------------------------------


def test_us_federal_is_found_in_the_package_and_names_its_version() -> None:
    assert resources.files("mat.profiles").joinpath("us-federal.json").is_file()
    profile = load_profile("us-federal")
    assert isinstance(profile, Profile)
    assert (profile.id, profile.version) == (FEDERAL_ID, "2024.2")
    assert profile.label == "us-federal 2024.2"


@pytest.mark.parametrize(
    "number, rule_book",
    [
        ("methadone_first_day_max_mg", Decimal(50)),
        ("methadone_first_dose_label_mg", Decimal(30)),
        ("methadone_first_day_label_total_mg", Decimal(40)),
        ("methadone_increase_step_max_mg", Decimal(10)),
        ("methadone_increase_min_days_apart", 3),
        ("methadone_high_dose_mg", Decimal(100)),
        ("buprenorphine_day1_max_mg", Decimal(8)),
        ("buprenorphine_day2_max_mg", Decimal(16)),
        ("buprenorphine_high_dose_mg", Decimal(24)),
        ("taper_step_max_percent", Decimal(10)),
        ("taper_step_min_days_apart", 7),
        ("dose_jump_factor", Decimal(2)),
        ("dose_implausible_factor", Decimal(10)),
        ("drug_screen_max_age_days", 30),
        ("step_back_positive_screens", 2),
        ("step_back_window_days", 60),
        ("missed_doses_review_days", 3),
        ("missed_doses_reduced_fraction", Decimal("0.5")),
        ("missed_doses_reduced_cap_mg", Decimal(40)),
        ("missed_doses_reduced_cap_days", 4),
        ("drug_screens_per_year", 8),
        ("take_home_loss_reports", 2),
        ("take_home_loss_window_days", 90),
    ],
)
def test_us_federal_carries_the_numbers_of_the_rule_book(number: str, rule_book: object) -> None:
    value = getattr(load_profile("us-federal"), number)
    assert value == rule_book
    assert type(value) is type(rule_book)  # mg as Decimal, days as int: never float


def test_us_federal_ceilings_reinduction_and_take_home_tiers() -> None:
    profile = load_profile("us-federal")
    assert profile.absolute_ceiling("methadone") == 300
    assert profile.absolute_ceiling("buprenorphine") == 32
    assert profile.absolute_ceiling("naltrexone") is None
    assert profile.reinduction_after_missed_days("methadone") == 5
    assert profile.reinduction_after_missed_days("buprenorphine") == 7
    assert profile.split_interval_hours("methadone") == 4
    assert profile.split_interval_hours("buprenorphine") == 2
    assert profile.split_interval_hours("naltrexone") is None
    ceilings = {day: profile.take_home_ceiling(day) for day in (1, 14, 15, 30, 31, 400)}
    assert ceilings == {1: 7, 14: 7, 15: 14, 30: 14, 31: 28, 400: 28}
    assert profile.take_home_tier(20) == (15, 30, 14)
    assert profile.take_home_tier(31) == (31, None, 28)


@pytest.mark.parametrize(
    "rule, severity",
    [
        ("prescriber_required", "block"),
        ("methadone_first_day_max", "justify"),
        ("methadone_increase_step", "justify"),
        ("methadone_high_dose", "warn"),
        ("buprenorphine_day1_max", "justify"),
        ("buprenorphine_high_dose", "warn"),
        ("taper_step_max", "warn"),
        ("dose_jump", "justify"),
        ("dose_implausible", "block"),
        ("dose_not_measurable", "block"),
        ("take_home_plan_ceiling", "block"),
        ("late_entry", "warn"),
        ("clinic_closed", "warn"),
        ("split_interval", "block"),
        ("methadone_first_dose_label", "warn"),
        ("missed_doses_dose_not_reduced", "justify"),
        ("take_home_criteria", "justify"),
        ("take_home_exception", "warn"),
        ("drug_screen_frequency", "warn"),
        ("take_home_correction", "block"),
        ("take_home_loss", "warn"),
    ],
)
def test_us_federal_severities(rule: str, severity: str) -> None:
    assert load_profile("us-federal").severity(rule) == severity


def test_an_unknown_rule_has_no_severity() -> None:
    with pytest.raises(KeyError, match="no_such_rule"):
        load_profile("us-federal").severity("no_such_rule")


def test_the_federal_file_loaded_by_path_is_the_built_in_profile(tmp_path: Path) -> None:
    assert load_profile(write(tmp_path, federal_data())) == load_profile("us-federal")


# ---- stricter profiles load -------------------------------------------------------------------

STRICT_TIERS = [{"from_treatment_day": 1, "days": 0}, {"from_treatment_day": 91, "days": 28}]
LOOSE_DAY_15 = [{"from_treatment_day": 1, "days": 7}, {"from_treatment_day": 15, "days": 21},
                {"from_treatment_day": 31, "days": 28}]  # fmt: skip
EARLY_DAY_10 = [{"from_treatment_day": 1, "days": 7}, {"from_treatment_day": 10, "days": 14},
                {"from_treatment_day": 31, "days": 28}]  # fmt: skip


def severities(**changes: str) -> dict[str, str]:
    return federal_data()["severities"] | changes


@pytest.mark.parametrize(
    "changes",
    [
        {"methadone_first_day_max_mg": 40},
        {"methadone_increase_min_days_apart": 5},
        {"taper_step_max_percent": 5.5},
        {"absolute_ceiling_mg": {"methadone": 200, "buprenorphine": 24, "naltrexone": 100}},
        {"take_home_ceiling_days": STRICT_TIERS},
        {"step_back_window_days": 90, "step_back_positive_screens": 1},
        {"severities": severities(methadone_high_dose="justify")},
    ],
)
def test_a_stricter_state_overlay_loads(tmp_path: Path, changes: dict[str, Any]) -> None:
    profile = load_profile(write(tmp_path, overlay(**changes)))
    assert (profile.id, profile.version) == ("us-xx", "2025.1")


def test_a_stricter_overlay_keeps_its_numbers_exact(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, overlay(methadone_first_day_max_mg=40)))
    assert profile.methadone_first_day_max_mg == Decimal(40)
    profile = load_profile(write(tmp_path, overlay(taper_step_max_percent=5.5)))
    assert profile.taper_step_max_percent == Decimal("5.5")


# ---- looser profiles are refused --------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, says",
    [
        ({"methadone_first_day_max_mg": 60},
         "methadone_first_day_max_mg is 60 but federal allows at most 50"),
        ({"buprenorphine_day2_max_mg": 16.5},
         "buprenorphine_day2_max_mg is 16.5 but federal allows at most 16"),
        ({"dose_implausible_factor": 12},
         "dose_implausible_factor is 12 but federal allows at most 10"),
        ({"absolute_ceiling_mg": {"methadone": 350, "buprenorphine": 32}},
         "absolute_ceiling_mg.methadone is 350"),
        ({"absolute_ceiling_mg": {"methadone": 300}},
         "absolute_ceiling_mg.buprenorphine is missing"),
        ({"reinduction_missed_days": {"methadone": 6, "buprenorphine": 7}},
         "reinduction_missed_days.methadone is 6"),
        ({"drug_screen_max_age_days": 45},
         "drug_screen_max_age_days is 45 but federal allows at most 30"),
        ({"take_home_ceiling_days": LOOSE_DAY_15},
         "from treatment day 15 is 21 consecutive days but federal allows at most 14"),
        ({"take_home_ceiling_days": EARLY_DAY_10},
         "from treatment day 10 is 14 consecutive days but federal allows at most 7"),
        ({"methadone_increase_min_days_apart": 2},
         "methadone_increase_min_days_apart is 2 but federal requires at least 3"),
        ({"taper_step_min_days_apart": 6},
         "taper_step_min_days_apart is 6 but federal requires at least 7"),
        ({"split_min_interval_hours": {"methadone": 3, "buprenorphine": 2}},
         "split_min_interval_hours.methadone is 3 but federal requires at least 4"),
        ({"split_min_interval_hours": {"methadone": 4}},
         "split_min_interval_hours.buprenorphine is missing"),
        ({"drug_screens_per_year": 7},
         "drug_screens_per_year is 7 but federal requires at least 8 (law"),
        ({"missed_doses_reduced_fraction": 0.75},
         "missed_doses_reduced_fraction is 0.75 but federal allows at most 0.5 (policy"),
        ({"severities": severities(take_home_criteria="warn")},
         "take_home_criteria is warn but federal makes it justify (law: never weaker)"),
        ({"severities": severities(witness_required="justify")},
         "witness_required is justify but federal makes it block (safeguard: never weaker)"),
        ({"severities": severities(clinic_closed="block")},
         "clinic_closed is block but it stays warn"),
        ({"severities": severities(drug_screen_frequency="justify")},
         "drug_screen_frequency is justify but it stays warn"),
        ({"step_back_window_days": 30},
         "step_back_window_days is 30 but federal requires at least 60"),
        ({"severities": severities(dose_implausible="warn")},
         "dose_implausible is warn but federal makes it block"),
        ({"severities": severities(dose_jump="warn")},
         "dose_jump is warn but federal makes it justify"),
    ],
)  # fmt: skip
def test_a_looser_profile_is_refused_naming_the_number(
    tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(ProfileError, match=r"looser than us-federal 2024\.2") as refused:
        load_profile(write(tmp_path, overlay(**changes)))
    assert says in str(refused.value)
    assert str(refused.value).endswith(".")


def test_every_looser_number_is_named_at_once(tmp_path: Path) -> None:
    data = overlay(methadone_first_day_max_mg=60, step_back_window_days=30)
    with pytest.raises(ProfileError) as refused:
        load_profile(write(tmp_path, data))
    assert "methadone_first_day_max_mg" in str(refused.value)
    assert "step_back_window_days" in str(refused.value)


# ---- law, label, policy: what a clinic may loosen, saying why --------------------------------

REASON = "Board policy 2026-04, approved by the state authority: see the clinic manual."


def test_every_number_and_rule_is_marked_law_label_or_policy() -> None:
    from mat.profiles import NUMBERS, PER_SUBSTANCE
    from mat.profiles.basis import FLAGS, NUMBER_BASIS, RULE_BASIS

    numbers = {*NUMBERS, *PER_SUBSTANCE, "take_home_ceiling_days"}
    assert set(NUMBER_BASIS) == numbers
    assert set(RULE_BASIS) == set(federal_data()["severities"])
    assert set(RULE_BASIS) >= FLAGS
    # The law numbers of the rule book, and nothing else.
    law = {name for name, basis in NUMBER_BASIS.items() if basis == "law"}
    assert law == {"methadone_first_day_max_mg", "take_home_ceiling_days", "drug_screens_per_year"}


def test_a_clinic_whose_policy_is_a_90_day_screen_window_runs_when_it_says_why(
    tmp_path: Path,
) -> None:
    without_reason = overlay(drug_screen_max_age_days=90)
    with pytest.raises(
        ProfileError, match="needs a reason, reasons\\['drug_screen_max_age_days'\\]"
    ):
        load_profile(write(tmp_path, without_reason))
    data = overlay(drug_screen_max_age_days=90, reasons={"drug_screen_max_age_days": REASON})
    profile = load_profile(write(tmp_path, data))
    assert profile.drug_screen_max_age_days == 90
    assert profile.reason("drug_screen_max_age_days") == REASON


@pytest.mark.parametrize(
    "changes, reason_key",
    [
        ({"methadone_high_dose_mg": 120}, "methadone_high_dose_mg"),  # label
        ({"buprenorphine_day1_max_mg": 12}, "buprenorphine_day1_max_mg"),  # label
        ({"methadone_first_dose_label_mg": 40}, "methadone_first_dose_label_mg"),  # label
        ({"taper_step_max_percent": 20}, "taper_step_max_percent"),  # policy
        ({"split_min_interval_hours": {"methadone": 3, "buprenorphine": 2}},
         "split_min_interval_hours"),  # policy, one reason for the map
        ({"absolute_ceiling_mg": {"methadone": 300}}, "absolute_ceiling_mg"),  # no bup ceiling
        ({"take_home_loss_reports": 3}, "take_home_loss_reports"),  # policy
        ({"severities": severities(taper_step_max="warn", dose_jump="warn")}, None),
    ],
)  # fmt: skip
def test_label_and_policy_numbers_and_severities_loosen_with_a_reason(
    tmp_path: Path, changes: dict[str, Any], reason_key: str | None
) -> None:
    with pytest.raises(ProfileError, match="needs a reason"):
        load_profile(write(tmp_path, overlay(**changes)))
    keys = [reason_key] if reason_key else ["severities.taper_step_max", "severities.dose_jump"]
    reasons = dict.fromkeys(keys, REASON)
    profile = load_profile(write(tmp_path, overlay(**changes, reasons=reasons)))
    assert all(profile.reason(key) == REASON for key in keys)


def test_one_severity_reason_does_not_cover_another(tmp_path: Path) -> None:
    data = overlay(
        severities=severities(taper_step_max="warn", dose_jump="warn"),
        reasons={"severities.taper_step_max": REASON},
    )
    with pytest.raises(ProfileError) as refused:
        load_profile(write(tmp_path, data))
    assert "dose_jump is warn" in str(refused.value)
    assert "taper_step_max" not in str(refused.value)


@pytest.mark.parametrize(
    "changes, reasons, says",
    [
        ({"methadone_first_day_max_mg": 60}, {"methadone_first_day_max_mg": REASON},
         "methadone_first_day_max_mg is 60 but federal allows at most 50 (law: a clinic may "
         "only make it stricter)"),
        ({"take_home_ceiling_days": LOOSE_DAY_15}, {"take_home_ceiling_days": REASON},
         "from treatment day 15 is 21 consecutive days but federal allows at most 14 (law"),
        ({"drug_screens_per_year": 4}, {"drug_screens_per_year": REASON},
         "drug_screens_per_year is 4 but federal requires at least 8 (law"),
        ({"severities": severities(methadone_first_day_max="warn")},
         {"severities.methadone_first_day_max": REASON},
         "methadone_first_day_max is warn but federal makes it justify (law: never weaker)"),
        ({"severities": severities(patient_on_hold="warn")},
         {"severities.patient_on_hold": REASON}, "patient_on_hold is warn"),
        ({"severities": severities(take_home_exception="block")},
         {"severities.take_home_exception": REASON}, "take_home_exception is block but it stays"),
    ],
)  # fmt: skip
def test_law_and_safeguards_are_never_loosened_even_with_a_reason(
    tmp_path: Path, changes: dict[str, Any], reasons: dict[str, str], says: str
) -> None:
    with pytest.raises(ProfileError) as refused:
        load_profile(write(tmp_path, overlay(**changes, reasons=reasons)))
    assert says in str(refused.value)


def test_a_stricter_law_severity_loads_without_a_reason(tmp_path: Path) -> None:
    data = overlay(severities=severities(take_home_criteria="block", taper_step_max="block"))
    assert load_profile(write(tmp_path, data)).severity("take_home_criteria") == "block"


@pytest.mark.parametrize(
    "reasons, says",
    [
        ([REASON], "'reasons' must map numbers"),
        ({"drug_screen_max_age_dayz": REASON}, "'reasons' names 'drug_screen_max_age_dayz'"),
        ({"severities.no_such_rule": REASON}, "'reasons' names 'severities.no_such_rule'"),
        ({"drug_screen_max_age_days": "policy"}, "must be text of 10 to 2000 characters"),
        ({"drug_screen_max_age_days": 90}, "must be text of 10 to 2000 characters"),
    ],
)
def test_malformed_reasons_are_refused(tmp_path: Path, reasons: Any, says: str) -> None:
    with pytest.raises(ProfileError, match="is invalid") as refused:
        load_profile(write(tmp_path, overlay(reasons=reasons)))
    assert says in str(refused.value)


def test_a_file_may_not_reuse_the_built_in_id_with_other_rules(tmp_path: Path) -> None:
    data = federal_data() | {"methadone_first_day_max_mg": 40}
    with pytest.raises(ProfileError, match="reuses the built-in id 'us-federal'"):
        load_profile(write(tmp_path, data))


# ---- malformed files are refused ----------------------------------------------------------------


def without(key: str) -> dict[str, Any]:
    data = overlay()
    del data[key]
    return data


def edited(old: str, new: str) -> str:
    """The overlay as JSON text with ``old`` replaced: for what ``json.dumps`` cannot write."""
    return json.dumps(overlay()).replace(old, new)


@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "it is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        (without("dose_jump_factor"), "'dose_jump_factor' is missing"),
        (without("severities"), "'severities' is missing"),
        (overlay(methadone_first_day_max_mx=40),
         "'methadone_first_day_max_mx' is not a rule profile key"),
        (overlay(methadone_first_day_max_mg="40"), "'methadone_first_day_max_mg' must be a number"),
        (overlay(methadone_first_day_max_mg=True), "'methadone_first_day_max_mg' must be a number"),
        (overlay(methadone_first_day_max_mg=0), "it must be above 0"),
        (overlay(methadone_increase_min_days_apart=3.5), "must be a whole number"),
        (overlay(dose_jump_factor=1), "'dose_jump_factor' is 1; it must be above 1"),
        (overlay(taper_step_max_percent=0), "'taper_step_max_percent' is 0"),
        (overlay(id=""), "'id' must be text"),
        (overlay(id="x" * 41), "'id' must be text of 1 to 40 characters"),
        (overlay(version=2025), "'version' must be text"),
        (overlay(absolute_ceiling_mg={"methadone": 300, "buprenorphine": 32, "heroin": 1}),
         "'heroin'"),
        (overlay(take_home_ceiling_days=[{"from_treatment_day": 2, "days": 7}]),
         "must start at treatment day 1"),
        (overlay(take_home_ceiling_days=[{"from": 1, "days": 7}]),
         "needs exactly 'from_treatment_day' and 'days'"),
        (overlay(severities=severities(dose_jump="maybe")),
         "the severity of 'dose_jump' is 'maybe'"),
        (overlay(severities=severities(dose_jmp="block")), "'dose_jmp' is not a rule id"),
        (edited('"dose_jump_factor": 2', '"dose_jump_factor": NaN'), "NaN is not a number"),
        (edited('"version"', '"dose_jump_factor": 1.5, "version"'),
         "'dose_jump_factor' appears twice"),
    ],
)  # fmt: skip
def test_a_malformed_profile_is_refused_with_one_clear_sentence(
    tmp_path: Path, content: dict[str, Any] | str, says: str
) -> None:
    with pytest.raises(ProfileError, match="is invalid") as refused:
        load_profile(write(tmp_path, content))
    message = str(refused.value)
    assert says in message
    assert message.endswith(".")
    assert message.count("\n") == 0


def test_an_unknown_id_or_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="No built-in rule profile is named 'us-texas'"):
        load_profile("us-texas")
    with pytest.raises(ProfileError, match="no file exists there"):
        load_profile(str(tmp_path / "absent.json"))


def test_the_app_runs_under_a_clinic_profile_that_says_why(tmp_path: Path) -> None:
    from mat import create_app

    data = overlay(
        id="riverside",
        drug_screen_max_age_days=90,
        reasons={"drug_screen_max_age_days": REASON},
    )
    path = write(tmp_path, data)
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    app = create_app({"TESTING": True, "MAT_RULE_PROFILE": path, "SQLALCHEMY_DATABASE_URI": url})
    assert app.extensions["mat_profile"].label == "riverside 2025.1"
    del data["reasons"]
    with pytest.raises(ProfileError, match="drug_screen_max_age_days is 90"):
        create_app({"TESTING": True, "MAT_RULE_PROFILE": write(tmp_path, data)})
