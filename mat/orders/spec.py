"""A prescriber's order as typed (the "Order body" of api-contract.md), and its schedule.

``OrderSpec`` is the parsed body; ``steps_of`` turns any way of writing the dose (a single
``dose_mg``, explicit ``steps``, a ``titration`` or a ``taper``) into the one stored
representation, a ``Schedule`` of ``Step``s plus the effective end date. Pure Python: no Flask,
no database; structural mistakes (which the marshmallow schema already catches) raise
``ValueError``, a dose the product cannot measure raises ``ScheduleError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from mat.formulary.catalog import Product
from mat.orders.schedule import (
    ScheduleError,
    Step,
    TakeHome,
    dose_on,
    measure_text,
    mg_text,
    normalized,
    taper_steps,
    titration_steps,
)

__all__ = [
    "KINDS",
    "OrderSpec",
    "Schedule",
    "ScheduleError",
    "Step",
    "TakeHome",
    "Taper",
    "Titration",
    "draft_schedule",
    "spec_from_body",
    "steps_of",
    "unmeasurable_doses",
]

Kind = Literal["induction", "titration", "maintenance", "taper"]
KINDS: tuple[str, ...] = get_args(Kind)


def _amount(value: object, what: str) -> None:
    # Floats would round silently (0.1 + 0.2); amounts arrive as Decimal from mat.jsonio.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{what} must be a finite Decimal, not {type(value).__name__}.")
    if value < 0:
        raise ValueError(f"{what} cannot be below 0 mg.")


@dataclass(frozen=True, slots=True)
class Titration:
    start_mg: Decimal
    step_mg: Decimal
    every_days: int
    target_mg: Decimal

    def __post_init__(self) -> None:
        for name in ("start_mg", "step_mg", "target_mg"):
            _amount(getattr(self, name), f"The titration {name}")
        if self.step_mg <= 0 or self.every_days < 1:
            raise ValueError("A titration rises by more than 0 mg, at least one day apart.")
        if self.target_mg < self.start_mg:
            raise ValueError("The titration target is below its start dose.")


@dataclass(frozen=True, slots=True)
class Taper:
    start_mg: Decimal
    step_percent: Decimal
    every_days: int
    end_mg: Decimal

    def __post_init__(self) -> None:
        for name in ("start_mg", "end_mg"):
            _amount(getattr(self, name), f"The taper {name}")
        _amount(self.step_percent, "The taper step_percent")
        if not 0 < self.step_percent <= 100 or self.every_days < 1:
            raise ValueError(
                "A taper lowers by more than 0 % and at most 100 %, a day apart or more."
            )
        if self.end_mg >= self.start_mg:
            raise ValueError("A taper ends below its start dose.")


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """The order body. Exactly one of ``dose_mg``, ``steps``, ``titration`` or ``taper``.

    ``split`` empty means one daily slot named ``daily``; ``take_home`` None means every dose is
    observed. ``take_home_criteria`` are the prescriber's answers to the federal take-home
    criteria (``take_home_criteria`` fires on a "no"); the service stores them with the rationale.
    """

    medication: str
    kind: Kind
    start_date: date
    end_date: date | None = None
    dose_mg: Decimal | None = None
    steps: tuple[tuple[date, Decimal], ...] = ()
    titration: Titration | None = None
    taper: Taper | None = None
    split: tuple[tuple[str, Decimal], ...] = ()
    take_home: TakeHome | None = None
    justification: str | None = None
    take_home_criteria: tuple[tuple[str, bool], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.kind!r} is not an order kind; use one of {', '.join(KINDS)}.")
        given = [self.dose_mg is not None, bool(self.steps), self.titration, self.taper]
        if sum(1 for g in given if g) != 1:
            raise ValueError("Give exactly one of dose_mg, steps, titration or taper.")
        if self.titration is not None and self.kind != "titration":
            raise ValueError("Titration parameters belong to a titration order.")
        if self.taper is not None and self.kind != "taper":
            raise ValueError("Taper parameters belong to a taper order.")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("The end date is before the start date.")
        if self.dose_mg is not None:
            _amount(self.dose_mg, "The dose")
        dates = [day for day, _ in self.steps]
        if dates and (dates != sorted(set(dates)) or dates[0] != self.start_date):
            raise ValueError("Steps start on the start date and go forward one date at a time.")
        if dates and self.end_date is not None and dates[-1] > self.end_date:
            raise ValueError(f"The step on {dates[-1]} is after the end date {self.end_date}.")
        for day, dose in self.steps:
            _amount(dose, f"The dose on {day}")
        slots = [slot for slot, _ in self.split]
        if len(set(slots)) != len(slots) or not all(slots):
            raise ValueError("Each split slot has a name and appears once.")
        for slot, fraction in self.split:
            _amount(fraction, f"The {slot} fraction")
            if fraction == 0:
                raise ValueError(f"The {slot} fraction must be above 0.")
        split_slots = self.take_home.split_slots if self.take_home else frozenset()
        if split_slots and (not slots or slots[0] in split_slots or split_slots - set(slots)):
            raise ValueError(
                "Split take-home slots are later slots of the split; the first is observed."
            )


@dataclass(frozen=True, slots=True)
class Schedule:
    """What an order dispenses: steps in date order and the effective last day (None: open)."""

    steps: tuple[Step, ...]
    end: date | None

    @property
    def first_dose_mg(self) -> Decimal:
        return self.steps[0].dose_mg

    def dose_on(self, day: date) -> Decimal | None:
        """The total daily dose on ``day``; ``None`` when the order does not cover it."""
        return dose_on(self.steps, self.end, day)


def spec_from_body(body: Mapping[str, Any]) -> OrderSpec:
    """An ``OrderSpec`` from the order body as the marshmallow schema loaded it (dates as
    ``date``, amounts as ``Decimal``; absent parts as ``None``)."""
    titration, taper, take_home = body.get("titration"), body.get("taper"), body.get("take_home")
    return OrderSpec(
        medication=body["medication"],
        kind=body["kind"],
        start_date=body["start_date"],
        end_date=body.get("end_date"),
        dose_mg=body.get("dose_mg"),
        steps=tuple((s["date"], s["dose_mg"]) for s in body.get("steps") or ()),
        titration=Titration(**titration) if titration else None,
        taper=Taper(**taper) if taper else None,
        split=tuple((s["slot"], s["fraction"]) for s in body.get("split") or ()),
        take_home=TakeHome(
            weekdays=frozenset(take_home.get("weekdays") or ()),
            dates=frozenset(take_home.get("dates") or ()),
            split_slots=frozenset(take_home.get("split_slots") or ()),
        )
        if take_home
        else None,
        justification=body.get("justification"),
        take_home_criteria=tuple(sorted((take_home.get("criteria") or {}).items()))
        if take_home
        else (),
    )


def unmeasurable_doses(spec: OrderSpec, product: Product) -> list[str]:
    """One sentence per amount the prescriber wrote that the product cannot measure.

    Generated taper doses are not listed: they are rounded to measurable amounts on purpose.
    """
    written: list[tuple[str, Decimal]] = []
    if spec.dose_mg is not None:
        written.append(("The dose", spec.dose_mg))
    written += [(f"The dose from {day}", dose) for day, dose in spec.steps]
    if spec.titration is not None:
        t = spec.titration
        written += [
            ("The titration start", t.start_mg),
            ("The titration step", t.step_mg),
            ("The titration target", t.target_mg),
        ]
    if spec.taper is not None:
        written += [("The taper start", spec.taper.start_mg), ("The taper end", spec.taper.end_mg)]
    return [
        f"{what} of {mg_text(amount)} cannot be measured with {product.name}, which "
        f"{measure_text(product)}."
        for what, amount in written
        if not product.is_measurable(amount)
    ]


def draft_schedule(spec: OrderSpec, product: Product) -> Schedule:
    """The schedule exactly as written, amounts not yet checked: what the rules judge, so that a
    preview lists every problem at once. Store only what ``steps_of`` returns."""
    if spec.medication != product.code:
        raise ValueError(f"The order is for {spec.medication}, not {product.code}.")
    end = spec.end_date
    if spec.titration is not None:
        t = spec.titration
        raw = titration_steps(
            spec.start_date, t.start_mg, t.step_mg, t.every_days, t.target_mg, until=end
        )
    elif spec.taper is not None:
        p = spec.taper
        raw, runs_out = taper_steps(
            spec.start_date, p.start_mg, p.step_percent, p.every_days, p.end_mg, product, until=end
        )
        if runs_out is not None:
            end = runs_out if end is None else min(end, runs_out)
    elif spec.steps:
        raw = [Step(day, dose) for day, dose in spec.steps]
    else:
        assert spec.dose_mg is not None  # OrderSpec guarantees one way of giving the dose
        raw = [Step(spec.start_date, spec.dose_mg)]
    steps, end = normalized(raw, end)
    return Schedule(steps, end)


def steps_of(spec: OrderSpec, product: Product) -> Schedule:
    """The stored schedule of an order; refuses (``ScheduleError``, rule ``dose_not_measurable``)
    any dose the prescriber wrote that the product cannot measure, never rounding it."""
    problems = unmeasurable_doses(spec, product)
    if problems:
        raise ScheduleError("dose_not_measurable", " ".join(problems))
    return draft_schedule(spec, product)
