"""Formulary JSON API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from mat.auth.access import ANY_ROLE, api_roles
from mat.extensions import db
from mat.formulary.models import Medication
from mat.jsonio import ApiBlueprint

blp = ApiBlueprint("formulary_api", __name__, url_prefix="/api/v1", description="Formulary")


class MedicationOut(Schema):
    code = fields.String()
    name = fields.String()
    substance = fields.String()
    form = fields.String()
    strength_mg = fields.Decimal(as_string=False)
    per_ml = fields.Decimal(as_string=False, allow_none=True)
    unit = fields.String()


@blp.route("/medications", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, MedicationOut(many=True))
def medications() -> Any:
    return db.session.scalars(select(Medication).order_by(Medication.code)).all()
