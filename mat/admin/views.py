"""The admin blueprint with every page's routes (``mat.web`` registers ``bp``)."""

from __future__ import annotations

from mat.admin import closures, patients, settings, users  # noqa: F401  (their routes)
from mat.admin.blueprint import bp

__all__ = ["bp"]
