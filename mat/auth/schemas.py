"""marshmallow schemas of the auth API (they also feed the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mat.auth.models import ROLES
from mat.schema_fields import clinic_text


class TokenRequest(Schema):
    username = clinic_text(printed=False, required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    initials = fields.String()
    roles = fields.Method("role_list")

    def role_list(self, user: object) -> list[str]:
        return sorted(user.role_names)  # type: ignore[attr-defined]


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.AwareDateTime()
    user = fields.Nested(UserOut)


class UserCreate(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9._-]{1,79}$",
            error="Use 2-80 lower-case letters, digits, '.', '_' or '-'.",
        ),
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    full_name = clinic_text(required=True, validate=validate.Length(min=1, max=120))
    initials = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z]{2,4}$", error="Use 2-4 letters."),
    )
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1),
    )
