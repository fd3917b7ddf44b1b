"""What a patient's record shows besides demographics; later features register their parts.

Features that add to a patient's record (the active order, open holds) register a function
here, so the patients package needs no import of the features built on it. A part is the API
layer's: it calls its feature's service (which returns domain objects) and answers the part in
the contract's JSON shape. The view reads the clock once and passes ``today`` to every part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from mat.patients.models import Patient

if TYPE_CHECKING:  # the episodes module reads orders, a feature built on this package
    from mat.patients.episodes import EpisodeSummary

DetailPart = Callable[[Patient, date], Any]

DETAIL_PARTS: dict[str, DetailPart] = {
    "active_order": lambda patient, today: None,
    "open_holds": lambda patient, today: [],
}


@dataclass(frozen=True, slots=True)
class PatientDetail:
    """A patient record as ``PatientDetailOut`` answers it."""

    patient: Patient
    episodes: list[EpisodeSummary]
    parts: dict[str, Any]  # one answer per DETAIL_PARTS name, already in the contract's shape


def patient_detail(patient: Patient, episodes: list[EpisodeSummary], today: date) -> PatientDetail:
    parts = {name: part(patient, today) for name, part in DETAIL_PARTS.items()}
    return PatientDetail(patient, episodes, parts)
