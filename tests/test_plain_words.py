"""Schema messages and field names turned into a nurse's words (mat/plain_words.py)."""

from __future__ import annotations

from mat.plain_words import plain_fields, plain_message


def test_schema_messages_become_what_to_do() -> None:
    assert plain_message("Length must be between 3 and 2000.") == (
        "Write at least 3 characters (at most 2000)."
    )
    assert plain_message("Missing data for required field.") == "Fill this in."
    assert plain_message("Not a valid date.") == "Enter a date, like 2026-03-14."
    assert plain_message("Send a number, like 40 or 37.5, not text.").startswith("Enter a number")
    assert plain_message("Must be one of: void, spill.") == "Choose one of the listed options."


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
        "Reason for the late entry": ["Write at least 3 characters (at most 2000)."],
        "Witness's password": ["Fill this in."],
        "Results (cocaine)": ["Choose one of the listed options."],
    }


def test_one_table_serves_every_page() -> None:
    """The admin's and the prescriber's forms read the same words (no page keeps its own)."""
    assert plain_message("Length must be between 1 and 80.") == (
        "Fill this in, in at most 80 characters."
    )
    assert plain_message("Not a valid boolean.") == "This value cannot be read; check it."
    assert plain_message("Must be greater than or equal to 1.") == (
        "This number is out of range: check it."
    )
