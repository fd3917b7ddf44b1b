"""Properties every schedule keeps, whatever the numbers a prescriber types."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from mat.formulary.catalog import PRODUCTS, Product
from mat.orders.schedule import (
    WEEKDAYS,
    ScheduleError,
    Step,
    TakeHome,
    planned_doses,
    taper_steps,
    titration_steps,
)
from mat.orders.spec import OrderSpec, Taper, Titration, steps_of

START = date(2026, 11, 2)
SPLITS = [
    (),
    (("am", Decimal("0.5")), ("pm", Decimal("0.5"))),
    (("am", Decimal("0.6")), ("pm", Decimal("0.4"))),
    (("am", Decimal("0.25")), ("pm", Decimal("0.75"))),
    (("am", Decimal("0.2")), ("noon", Decimal("0.3")), ("pm", Decimal("0.5"))),
]
products = st.sampled_from(PRODUCTS)
percents = st.integers(1, 1000).map(lambda tenths: Decimal(tenths) / 10)  # 0.1 % .. 100 %
take_homes = st.one_of(
    st.none(),
    st.builds(
        TakeHome,
        weekdays=st.frozensets(st.sampled_from(WEEKDAYS)),
        dates=st.frozensets(st.integers(0, 90).map(lambda n: START + timedelta(days=n))),
    ),
)


def units(product: Product, low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Amounts the product measures: whole numbers of its smallest step."""
    return st.integers(low, high).map(lambda n: n * product.smallest_step_mg)


@st.composite
def titrations(draw: st.DrawFn) -> tuple[Product, Titration]:
    product = draw(products)
    start = draw(units(product, 0, 100))
    target = start + draw(units(product, 0, 100))
    return product, Titration(start, draw(units(product, 1, 30)), draw(st.integers(1, 14)), target)


@st.composite
def tapers(draw: st.DrawFn) -> tuple[Product, Taper]:
    product = draw(products)
    start = draw(st.integers(1, 400))
    end = draw(st.just(0) | st.integers(0, start - 1))
    step = product.smallest_step_mg
    return product, Taper(start * step, draw(percents), draw(st.integers(1, 28)), end * step)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Product, tuple[Step, ...], date | None]:
    """Any stored schedule: explicit steps, a titration or a taper, maybe with an end date."""
    product = draw(products)
    end = draw(st.none() | st.integers(0, 120).map(lambda n: START + timedelta(days=n)))
    way = draw(st.sampled_from(["steps", "titration", "taper"]))
    if way == "titration":
        product, titration = draw(titrations())
        spec = OrderSpec(product.code, "titration", START, end_date=end, titration=titration)
    elif way == "taper":
        product, taper = draw(tapers())
        spec = OrderSpec(product.code, "taper", START, end_date=end, taper=taper)
    else:
        gaps = draw(st.lists(st.integers(1, 20), max_size=6))
        dates = [START + timedelta(days=sum(gaps[:i])) for i in range(len(gaps) + 1)]
        dates = [d for d in dates if end is None or d <= end]
        doses = draw(st.lists(units(product, 0, 200), min_size=len(dates), max_size=len(dates)))
        spec = OrderSpec(product.code, "maintenance", START, end_date=end,
                         steps=tuple(zip(dates, doses, strict=True)))  # fmt: skip
    schedule = steps_of(spec, product)
    return product, schedule.steps, schedule.end


@given(titrations())
def test_titration_never_decreases_never_passes_the_target_and_ends_on_it(
    case: tuple[Product, Titration],
) -> None:
    product, t = case
    steps = titration_steps(START, t.start_mg, t.step_mg, t.every_days, t.target_mg)
    doses = [s.dose_mg for s in steps]
    assert doses == sorted(doses)
    assert all(d <= t.target_mg for d in doses)
    assert doses[0] == t.start_mg and doses[-1] == t.target_mg
    assert all(b.start - a.start == timedelta(days=t.every_days) for a, b in pairwise(steps))
    assert all(product.is_measurable(d) for d in doses)


@given(tapers())
@settings(deadline=None)  # 0.1 % steps from 400 units take a few hundred steps
def test_taper_never_rises_never_passes_the_end_and_every_dose_is_measurable(
    case: tuple[Product, Taper],
) -> None:
    product, t = case
    steps, end = taper_steps(START, t.start_mg, t.step_percent, t.every_days, t.end_mg, product)
    doses = [s.dose_mg for s in steps]
    assert all(b < a for a, b in pairwise(doses))  # strictly: the taper always progresses
    assert all(d >= t.end_mg for d in doses)
    assert all(product.is_measurable(d) for d in doses)
    if t.end_mg == 0:
        assert doses[-1] == product.smallest_step_mg or doses == [t.start_mg]
        assert end == steps[-1].start + timedelta(days=t.every_days - 1)
    else:
        assert doses[-1] == t.end_mg and end is None


@given(schedules(), st.sampled_from(SPLITS), take_homes, st.integers(-5, 130), st.integers(0, 60))
@settings(deadline=None)
def test_planned_parts_are_measurable_and_add_up_to_the_day_dose(
    case: tuple[Product, tuple[Step, ...], date | None],
    split: tuple[tuple[str, Decimal], ...],
    take_home: TakeHome | None,
    offset: int,
    length: int,
) -> None:
    product, steps, end = case
    first = START + timedelta(days=offset)
    last = first + timedelta(days=length)
    try:
        planned = planned_doses(steps, end, split, take_home, product, first, last)
    except ScheduleError as refused:  # a part the product cannot measure: refused, not rounded
        assert refused.rule == "dose_not_measurable"
        assert split
        return
    by_date: dict[date, Decimal] = {}
    for dose in planned:
        assert product.is_measurable(dose.dose_mg) and dose.dose_mg > 0
        assert first <= dose.date <= last and dose.date >= steps[0].start
        assert end is None or dose.date <= end
        assert (dose.volume_ml is None) != product.is_liquid
        if dose.volume_ml is not None:
            assert dose.volume_ml * product.strength_mg == dose.dose_mg
        authorized = take_home is not None and take_home.authorizes(dose.date)
        assert dose.mode == ("take_home" if authorized else "observed")
        by_date[dose.date] = by_date.get(dose.date, Decimal(0)) + dose.dose_mg
    for day, total in by_date.items():
        assert total == next(s.dose_mg for s in reversed(steps) if s.start <= day)


@given(st.sampled_from(PRODUCTS), st.sampled_from(SPLITS), st.integers(1, 15))
def test_a_split_of_a_round_dose_is_never_refused(
    product: Product, split: tuple[tuple[str, Decimal], ...], twentieths: int
) -> None:
    dose = twentieths * 20 * product.smallest_step_mg  # every split fraction is a twentieth
    planned = planned_doses((Step(START, dose),), START, split, None, product, START, START)
    assert sum(p.dose_mg for p in planned) == dose
    assert [p.slot for p in planned] == ([slot for slot, _ in split] or ["daily"])


@given(schedules(), take_homes, st.integers(-5, 130), st.integers(0, 40), st.integers(0, 40))
@settings(deadline=None)
def test_planning_a_range_is_planning_its_parts_one_after_the_other(
    case: tuple[Product, tuple[Step, ...], date | None],
    take_home: TakeHome | None,
    offset: int,
    before: int,
    after: int,
) -> None:
    product, steps, end = case
    first = START + timedelta(days=offset)
    cut = first + timedelta(days=before)
    last = cut + timedelta(days=after)
    whole = planned_doses(steps, end, (), take_home, product, first, last)
    head = planned_doses(steps, end, (), take_home, product, first, cut)
    tail = planned_doses(steps, end, (), take_home, product, cut + timedelta(days=1), last)
    assert whole == head + tail
