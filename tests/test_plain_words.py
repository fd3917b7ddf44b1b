"""Schema messages and field names turned into a nurse's words (mat/plain_words.py)."""

from __future__ import annotations

from mat.plain_words import plain_fields, plain_message


def test_schema_messages_become_what_to_do() -> None:
    assert plain_message("Length must be between 3 and 2000.") == (
        "write at least 3 characters (at most 2000)."
    )
    assert plain_message("Missing data for required field.") == "fill this in."
    assert plain_message("Not a valid date.") == "enter a date, like 2026-03-14."
    assert plain_message("Send a number, like 40 or 37.5, not text.").startswith("enter a number")
    assert plain_message("Must be one of: void, spill.") == "choose one of the offered values."


def test_a_sentence_of_ours_is_kept() -> None:
    assert plain_message("Use a date from 2026-11-09 on.") == "Use a date from 2026-11-09 on."


def test_field_names_become_the_form_s_labels() -> None:
    plain = plain_fields(
        {
            "late_entry_reason": ["Length must be between 3 and 2000."],
            "witness.password": ["Missing data for required field."],
            "results.cocaine": ["Must be one of: positive, negative."],
        }
    )
    assert plain == {
        "Reason for the late entry": ["write at least 3 characters (at most 2000)."],
        "Witness's password": ["fill this in."],
        "Results (cocaine)": ["choose one of the offered values."],
    }
