"""Every model module, imported once so the metadata (and Alembic) sees all tables."""

from __future__ import annotations

from flask import Flask

from mat.audit.models import AuditCheckpoint, AuditEvent
from mat.auth.models import ApiToken, PasswordReset, User, UserRole, UserSession
from mat.dosing.models import (
    ClinicClosure,
    Dose,
    DoseCorrection,
    DrugScreen,
    Hold,
    HoldRelease,
    TakeHomeLoss,
    TakeHomeLossReview,
    WithheldDose,
)
from mat.formulary.models import Medication
from mat.idempotency import IdempotentRequest
from mat.imports.models import Import
from mat.orders.models import (
    Order,
    OrderDiscontinuation,
    TakeHomeAuthorization,
    TakeHomeException,
)
from mat.patients.models import EpisodeDischarge, Patient, PatientEpisode
from mat.stock.models import Lot, Station, StockBalance, StockMovement, StockReceipt, StockTransfer
from mat.stock.records import (
    BottleReturn,
    Destruction,
    Inventory,
    InventoryLine,
    StockCount,
    StockCountLine,
    TheftLossReport,
    VarianceResolution,
)

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "BottleReturn",
    "ClinicClosure",
    "Destruction",
    "Dose",
    "DoseCorrection",
    "DrugScreen",
    "EpisodeDischarge",
    "Hold",
    "HoldRelease",
    "IdempotentRequest",
    "Import",
    "Inventory",
    "InventoryLine",
    "Lot",
    "Medication",
    "Order",
    "OrderDiscontinuation",
    "PasswordReset",
    "Patient",
    "PatientEpisode",
    "Station",
    "StockBalance",
    "StockCount",
    "StockCountLine",
    "StockMovement",
    "StockReceipt",
    "StockTransfer",
    "TakeHomeAuthorization",
    "TakeHomeException",
    "TakeHomeLoss",
    "TakeHomeLossReview",
    "TheftLossReport",
    "User",
    "UserRole",
    "UserSession",
    "VarianceResolution",
    "WithheldDose",
]


def register(app: Flask) -> None:
    """How Flask-Login finds the signed-in user (the web part of the app, ``mat.add_web``)."""
    from mat.extensions import db
    from mat.web_extensions import login_manager

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
