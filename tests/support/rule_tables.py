"""Boundary tables of the rule book shared by the tests of more than one rule."""

from __future__ import annotations

# clinical-rules.md, take_home_ceiling (and take_home_plan_ceiling, which applies it to an
# order): 7 consecutive methadone take-home days during treatment days 1-14, 14 during 15-30,
# 28 from day 31. (treatment day of the run's first day, days in the run, allowed)
TAKE_HOME_CEILING_BOUNDARIES = [
    (1, 7, True), (1, 8, False),
    (14, 7, True), (14, 8, False),
    (15, 14, True), (15, 15, False),
    (30, 14, True), (30, 15, False),
    (31, 28, True), (31, 29, False),
]  # fmt: skip
