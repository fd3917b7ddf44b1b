"""``Import``: one import of another program's patients and history (append-only).

The row is written first, before the records that point at it (``import_id`` on orders, doses and
drug screens), and never changed: what the import brought (its counts) is in its audit event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
from mat.database import utcnow
from mat.extensions import db


class Import(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the system it came from and the export date
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship(lazy="joined")
