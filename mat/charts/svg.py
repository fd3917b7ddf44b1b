"""Planned against given mg per day as an inline SVG, built from plain data (no request, no
database): the chart page draws the last 90 days, the order preview draws the whole schedule.

Styles come from classes (``mat/static/charts.css``): the Content-Security-Policy forbids
inline styles, and SVG presentation by class keeps one place for the colours. Every number a
person reads is also in the table next to the chart (the text alternative); the drawing uses
floats only for coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 900
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 36
X_LABELS = 8  # about this many date labels under the axis


@dataclass(frozen=True, slots=True)
class ChartDay:
    day: date
    planned_mg: Decimal
    given_mg: Decimal | None = None  # None: nothing is given yet (a preview's future)
    withheld: bool = False
    hold: bool = False
    corrected: bool = False  # a dose of the day was voided or spilled
    closed: bool = False  # the clinic was closed


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}"


def summary(days: Sequence[ChartDay]) -> str:
    """One sentence a screen reader says for the chart (its table has every day)."""
    if not days:
        return "No days to show."
    counted = [d for d in days if d.given_mg is not None]
    parts = [f"{len(days)} days from {days[0].day} to {days[-1].day}"]
    planned = [d for d in days if d.planned_mg > 0]
    if planned:
        low = min(d.planned_mg for d in planned)
        high = max(d.planned_mg for d in planned)
        parts.append(
            f"planned {_mg(low)} mg" if low == high else f"planned {_mg(low)} to {_mg(high)} mg"
        )
    if counted:
        short = [
            d for d in counted if d.planned_mg > 0 and (d.given_mg or Decimal(0)) < d.planned_mg
        ]
        parts.append(f"{len(short)} planned days given less than planned or not at all")
    for flag, word in (
        ("withheld", "withheld"),
        ("hold", "on hold"),
        ("corrected", "with a voided or spilled dose"),
        ("closed", "clinic closed"),
    ):
        n = sum(1 for d in days if getattr(d, flag))
        if n:
            parts.append(f"{n} day{'s' * (n != 1)} {word}")
    return "; ".join(parts) + "."


def dose_chart(days: Sequence[ChartDay], *, title: str, chart_id: str = "dose-chart") -> Markup:
    """The SVG: a dashed step line for planned mg, a bar per day for given mg, and marks for
    withheld days (triangle), holds (red band), corrections (cross) and closures (grey band)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(days), 1)
    step = plot_w / n
    values = [float(d.planned_mg) for d in days] + [float(d.given_mg or 0) for d in days]
    top = max([*values, 1.0]) * 1.15

    def x(i: float) -> float:
        return LEFT + i * step

    def y(mg: float) -> float:
        return TOP + plot_h - (mg / top) * plot_h

    desc = summary(days)
    out = [
        f'<svg class="dose-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    # Bands behind everything: closures and holds span their whole day.
    for i, d in enumerate(days):
        for flag, css in (("closed", "band-closed"), ("hold", "band-hold")):
            if getattr(d, flag):
                out.append(
                    f'<rect class="{css}" x="{_num(x(i))}" y="{TOP}" width="{_num(step)}" '
                    f'height="{_num(plot_h)}"/>'
                )
    # Axes and the mg grid: 0, half and the top value.
    for frac in (0, 0.5, 1):
        mg = top / 1.15 * frac
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y(mg))}" '
            f'y2="{_num(y(mg))}"/>'
        )
        out.append(
            f'<text class="axis" x="{LEFT - 6}" y="{_num(y(mg) + 4)}" text-anchor="end">'
            f"{_num(mg)} mg</text>"
        )
    every = max(1, round(n / X_LABELS))
    for i, d in enumerate(days):
        if i % every == 0:
            out.append(
                f'<text class="axis" x="{_num(x(i + 0.5))}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{d.day.strftime("%m-%d")}</text>'
            )
    # Given: a bar per day.
    bar = max(step * 0.6, 1.0)
    for i, d in enumerate(days):
        if d.given_mg is not None and d.given_mg > 0:
            given = float(d.given_mg)
            out.append(
                f'<rect class="given" x="{_num(x(i) + (step - bar) / 2)}" y="{_num(y(given))}" '
                f'width="{_num(bar)}" height="{_num(y(0) - y(given))}"/>'
            )
    # Planned: a step line, flat over each day.
    if days:
        points = []
        for i, d in enumerate(days):
            level = _num(y(float(d.planned_mg)))
            points += [f"{_num(x(i))},{level}", f"{_num(x(i + 1))},{level}"]
        out.append(f'<polyline class="planned" points="{" ".join(points)}"/>')
    # Marks under the bars' feet: withheld (triangle) and corrections (cross).
    base = y(0)
    for i, d in enumerate(days):
        mid = x(i + 0.5)
        if d.withheld:
            out.append(
                f'<polygon class="mark-withheld" points="{_num(mid)},{_num(base - 12)} '
                f'{_num(mid - 5)},{_num(base - 2)} {_num(mid + 5)},{_num(base - 2)}"/>'
            )
        if d.corrected:
            top_y = base - 26
            out.append(
                f'<path class="mark-corrected" d="M{_num(mid - 4)},{_num(top_y)} '
                f"L{_num(mid + 4)},{_num(top_y + 8)} M{_num(mid + 4)},{_num(top_y)} "
                f'L{_num(mid - 4)},{_num(top_y + 8)}"/>'
            )
    out.append(f'<line class="axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(base)}" '
               f'y2="{_num(base)}"/>')  # fmt: skip
    out.append("</svg>")
    # Every piece of text in ``out`` is a number, a date or escaped above.
    return Markup("".join(out))  # noqa: S704
