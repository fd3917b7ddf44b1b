"""The dispensing log PDF's layout in CPU instructions: a measure of a change to the layout that
a noisy machine's clock cannot blur (two runs of the same command a minute apart have differed
by half on the machines the bench runs on).

    python -m bench.pdf_instructions [--patients 450] [--days 30]

Builds a month of log entries in memory, deterministically (no database: the read is measured
by the full bench), and counts the instructions of ``write_log_pdf`` laying them out, with
valgrind's callgrind: the program is run twice under it, once building the entries only and
once laying them out too, and the difference is the layout's. Needs valgrind
(``apt-get install valgrind``); both runs go in parallel, about three minutes on two cores for
the default month of 13,634 rows. ``PYTHONHASHSEED`` is fixed: two counts of the same code agreed to
the instruction.

    python -m bench.pdf_instructions --run 0|1 ...   (one run, as valgrind is given it)
"""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.callgrind import require_valgrind, run_pair
from mat.reports.log_pdf import write_log_pdf  # imported by both runs: not the layout's cost
from mat.reports.log_rows import LogEntry, LogQuery, LogRow

FIRST = date(2026, 11, 1)
# (code, substance, form, strength, name, strength in mg a unit): the bench clinic's formulary.
PRODUCTS = (
    ("METH-10MGML", "methadone", "liquid", "10 mg/mL", "Methadone oral concentrate", 10),
    ("BUP-8MG-SL", "buprenorphine", "tablet", "8 mg/tablet", "Buprenorphine sublingual", 8),
)
STAFF = ((1, "AN", "Ann Nurse"), (2, "BO", "Ben Okafor"), (3, "CŁ", "Celina Łukaszewska"))
FAMILIES = ("Nguyễn", "Smith", "Okafor", "García", "Featherstonehaugh-Cholmondeley", "Lee")
GIVEN = ("Łukasz", "Ann", "Maria", "Chen", "José", "Aaliyah", "Tomás")


def month(patients: int, days: int) -> tuple[LogQuery, list[LogEntry]]:
    """``patients`` dosed every day of ``days`` in log order (day, dispenser, time): every 7th
    patient on buprenorphine, every 5th takes Sunday's dose home, every 97th dose entered late
    and every 101st voided by a correction row."""
    entries: list[LogEntry] = []
    dose_id = 1_000_000  # seven digits, as a network of clinics prints them
    for n in range(days):
        day = FIRST + timedelta(days=n)
        for staff_id, initials, name in STAFF:
            for p in range(staff_id - 1, patients, len(STAFF)):
                dose_id += 1
                code, substance, form, strength, product_name, per_unit = PRODUCTS[p % 7 == 0]
                amount = Decimal(16 if form == "tablet" else 40 + p % 80)
                take_home = p % 5 == 0 and day.weekday() == 6
                row = LogRow(
                    dispensed_on=day,
                    dispensed_at=datetime.combine(day, datetime.min.time(), UTC)
                    + timedelta(hours=13, seconds=20 * p),
                    patient_mrn=f"BENCH-{p:05d}",
                    patient_name=f"{FAMILIES[p // 3 % len(FAMILIES)]}, {GIVEN[p % len(GIVEN)]}",
                    substance=substance,
                    product=code,
                    strength=strength,
                    dosage_form=form,
                    mode="take_home" if take_home else "observed",
                    amount_mg=amount,
                    volume_ml=amount / per_unit if form == "liquid" else None,
                    dispenser_initials=initials,
                    dose_id=dose_id,
                    late_entry=dose_id % 97 == 0,
                    correction_of=None,
                    correction_kind=None,
                    units=amount / per_unit if form != "liquid" else None,
                    lot=f"MA-{24100 + p % 30}",
                    corrected="void" if dose_id % 101 == 0 else None,
                )
                entry = LogEntry(row, day, staff_id, name, None, product_name)
                entries.append(entry)
                if row.corrected:  # the void's own row, witnessed
                    void = replace(
                        row, dose_id=None, correction_of=dose_id, correction_kind="void",
                        corrected=None,
                    )  # fmt: skip
                    entries.append(LogEntry(void, day, staff_id, name, "BO", product_name))
    return LogQuery(FIRST, FIRST + timedelta(days=days - 1)), entries


def lay_out(query: LogQuery, entries: list[LogEntry]) -> int:
    """``write_log_pdf`` of the entries; the PDF's size in bytes."""
    out = io.BytesIO()
    printed = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    write_log_pdf(entries, query, out, page="letter", clinic="Bench clinic", printed_at=printed)
    return len(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=450)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--run", type=int, choices=(0, 1), default=None)
    args = parser.parse_args()
    if args.run is not None:
        query, entries = month(args.patients, args.days)
        if args.run:
            lay_out(query, entries)
        return
    require_valgrind()
    size = ["--patients", str(args.patients), "--days", str(args.days)]
    built, laid_out = run_pair("bench.pdf_instructions", size)
    rows = len(month(args.patients, args.days)[1])
    layout = laid_out - built
    print(f"{rows} rows: the layout ran {layout:,} instructions, {layout / rows:,.0f} a row")


if __name__ == "__main__":
    main()
