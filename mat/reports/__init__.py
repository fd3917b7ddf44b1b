"""Reports: the dispensing log (CSV, JSON, PDF) and a patient's dosing history (PDF).

Blueprints: ``mat.reports.api.blp`` (JSON API, ``/api/v1/reports/...`` and
``/api/v1/patients/<id>/history``) and ``mat.reports.views.bp`` (the reports page, ``/reports``);
the CLI group ``report`` is ``mat.reports.cli.report_cli``.
"""
