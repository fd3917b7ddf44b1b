"""The audit trail: an append-only, hash-chained record of who did, read or was refused what.

Blueprints: ``mat.audit.api.blp`` (JSON, ``/api/v1/audit``) and ``mat.audit.views.bp`` (the
auditor's screen, ``/audit``).
"""
