"""The clinic's settings as mat runs with them: name, time zone, the clinic's date and time, the
rule profile. They come from the server's environment (``mat.config``), read at start-up, so
the page shows them and says how to change them; it changes nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from mat.admin.blueprint import bp
from mat.auth.access import roles_required
from mat.clock import clinic_now


@bp.route("/settings", methods=["GET"])
@roles_required("admin")
def settings() -> Any:
    config = current_app.config
    return render_template(
        "admin/settings.html",
        name=config["MAT_CLINIC_NAME"],
        zone=config["MAT_CLINIC_TZ"],
        address=config.get("MAT_CLINIC_ADDRESS", ""),
        phone=config.get("MAT_CLINIC_PHONE", ""),
        profile_setting=config["MAT_RULE_PROFILE"],
        profile=current_app.extensions["mat_profile"],
        now=clinic_now(),
        demo=config.get("MAT_DEMO", False),
    )
