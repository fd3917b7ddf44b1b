"""What a patient's record shows besides demographics; later features register their parts.

Features that add to a patient's record (the active order, open holds) register a function
here, so the patients package needs no import of the features built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DETAIL_PARTS: dict[str, Callable[[Any], Any]] = {
    "active_order": lambda patient: None,
    "open_holds": lambda patient: [],
}
