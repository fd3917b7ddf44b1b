"""The audit trail: an append-only, hash-chained record of who did, read or was refused what."""

from flask import Blueprint

bp = Blueprint("audit", __name__)
