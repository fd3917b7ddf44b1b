"""The dispensing log's two statements name their columns as ``LOG_COLUMNS`` says:
``log_rows`` reads each row by position, so a column moved in one statement and not in the
names would put a dispenser's id where the instant is expected."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from mat.reports.log_rows import LogQuery, LogSnapshot
from mat.reports.log_statements import LOG_COLUMNS, log_statements


@pytest.mark.parametrize("medication_ids", [None, [1, 2]])
def test_both_statements_have_the_columns_in_the_order_rows_are_read(
    medication_ids: list[int] | None,
) -> None:
    query = LogQuery(date(2026, 11, 1), date(2026, 11, 30))
    statements = log_statements(
        query, ZoneInfo("America/Chicago"), medication_ids, LogSnapshot(9, 9)
    )
    for statement in statements:
        assert tuple(column.name for column in statement.selected_columns) == LOG_COLUMNS
