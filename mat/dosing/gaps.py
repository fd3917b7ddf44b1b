"""Which days count for the missed-dose rules: the pure half of ``mat/dosing/tolerance.py``.

clinical-rules.md: "A missed day is a day the governing order planned a dose and none was given
(observed or take home), and also every day with no order at all between the patient's last dose
and a new order: tolerance is lost whether or not an order was running."

``scheduled_days`` lists, for ``[first, stop]``, each day that counts, as ``ScheduledDay``:
- a day an order plans a dose: taken when a dose counts for it;
- a day no order covers, after the patient's last dose: missed (``ordered`` False);
- a day an order covers but plans nothing (a 0 mg step) is left out: it neither counts nor
  breaks a run; so is a day no order covers before the patient's first dose ever (treatment has
  not begun: nothing to lose).
``assume_taken_from``: planned days from this date on are taken to be dosed (the order rules
look ahead to a new order's start; what the patient will do on a planned day is not known yet,
and the window's own rule judges it when it comes). Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from mat.dosing.rules import ScheduledDay

__all__ = ["scheduled_days"]


def scheduled_days(
    first: date,
    stop: date,
    *,
    planned: Collection[date],
    covered: Collection[date],
    taken: Collection[date],
    last_dose_on: date | None,
    assume_taken_from: date | None = None,
) -> tuple[ScheduledDay, ...]:
    """The days of ``[first, stop]`` that count for a missed-dose run, oldest first."""
    days = []
    day = first
    while day <= stop:
        if day in planned:
            assumed = assume_taken_from is not None and day >= assume_taken_from
            days.append(ScheduledDay(day, day in taken or assumed))
        elif day not in covered and last_dose_on is not None and day > last_dose_on:
            days.append(ScheduledDay(day, False, ordered=False))
        day += timedelta(days=1)
    return tuple(days)
