"""The one stored form of an order's schedule, as JSON text in ``orders.schedule``.

Pure: no Flask, no database. Amounts are written as strings of their ``Decimal`` value so that
what the prescriber signed is read back digit for digit; dates are ISO strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mat.formulary.catalog import Product
from mat.orders.schedule import DAILY, PlannedDose, Step, TakeHome, dose_on, planned_doses
from mat.orders.spec import OrderSpec, Schedule

# How far past its last step an open-ended order is shown when a whole curve is asked for.
SHOWN_AFTER_LAST_STEP = timedelta(days=27)
LONGEST_SHOWN = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    steps: tuple[Step, ...]
    end: date | None
    split: tuple[tuple[str, Decimal], ...]
    take_home: TakeHome | None

    @classmethod
    def of(cls, spec: OrderSpec, schedule: Schedule) -> StoredSchedule:
        return cls(schedule.steps, schedule.end, spec.split, spec.take_home)

    @property
    def start(self) -> date:
        return self.steps[0].start

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(slot for slot, _ in (self.split or DAILY))

    def dose_on(self, day: date) -> Decimal | None:
        return dose_on(self.steps, self.end, day)

    def step_since(self, day: date) -> date | None:
        """The date the dose in effect on ``day`` started (None outside the order)."""
        if self.dose_on(day) is None:
            return None
        return max(step.start for step in self.steps if step.start <= day)

    def planned(self, product: Product, start: date, stop: date) -> list[PlannedDose]:
        return planned_doses(self.steps, self.end, self.split, self.take_home, product, start, stop)

    def whole_curve(self) -> tuple[date, date]:
        """The dates a prescriber sees before signing: to the end, or a month past the last
        step of an open-ended order; at most a year."""
        stop = self.end if self.end is not None else self.steps[-1].start + SHOWN_AFTER_LAST_STEP
        return self.start, min(stop, self.start + LONGEST_SHOWN)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "steps": [[s.start.isoformat(), str(s.dose_mg)] for s in self.steps],
            "end": self.end.isoformat() if self.end else None,
            "split": [[slot, str(fraction)] for slot, fraction in self.split],
            "take_home": None,
        }
        if self.take_home is not None:
            data["take_home"] = {
                "weekdays": sorted(self.take_home.weekdays),
                "dates": sorted(d.isoformat() for d in self.take_home.dates),
            }
            if self.take_home.split_slots:  # absent from orders signed before split_slots
                data["take_home"]["split_slots"] = sorted(self.take_home.split_slots)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoredSchedule:
        data = json.loads(text)
        take_home = data["take_home"]
        return cls(
            steps=tuple(Step(date.fromisoformat(d), Decimal(mg)) for d, mg in data["steps"]),
            end=date.fromisoformat(data["end"]) if data["end"] else None,
            split=tuple((slot, Decimal(f)) for slot, f in data["split"]),
            take_home=TakeHome(
                weekdays=frozenset(take_home["weekdays"]),
                dates=frozenset(date.fromisoformat(d) for d in take_home["dates"]),
                split_slots=frozenset(take_home.get("split_slots", ())),
            )
            if take_home
            else None,
        )
