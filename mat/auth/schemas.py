"""marshmallow schemas of the auth API (they also feed the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

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


class UserAdminOut(UserOut):
    """A user as administrators see them: also whether the account is active or locked."""

    active = fields.Boolean()
    locked_until = fields.AwareDateTime(allow_none=True)


class UserPatch(Schema):
    # JSON true or false only: "no" or 0 must not deactivate (or keep active) anyone by accident.
    active = fields.Boolean(
        truthy={True}, falsy={False}, metadata={"description": "false ends every session and token"}
    )
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1)
    )

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give active or roles.", "_schema")


class ResetCodeOut(Schema):
    code = fields.String(metadata={"description": "one-time code; give it to the user only"})
    expires_at = fields.AwareDateTime()
    user = fields.Nested(UserOut)


class PasswordResetIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    code = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=40))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
