"""Controlled-substance stock: stations, lots received, what each dose drew, daily counts and
variances, inventories, DEA Form 106 and 41 records, take-home bottle labels and returns.

Blueprints: ``api.blp`` and ``api_records.blp`` (JSON API: ``/api/v1/stock/...``, a dose's
label and bottle return, ``/api/v1/reports/stock``), ``views.bp`` and ``views_records.bp``
(the ``/stock`` pages) and ``views_window.bp`` (the dosing window's labels and bottle scans).
The dosing window calls in at two places only: ``draws.draw_for_dose`` when a dose is inserted
and ``draws.return_for_correction`` when one is corrected.
"""
