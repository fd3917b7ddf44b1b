"""Controlled-substance stock: stations, lots received, what each dose drew, daily counts and
variances, inventories, DEA Form 106 and 41 records, take-home bottle labels and returns.

Blueprints: ``mat.stock.api.blp`` and ``mat.stock.api_records.blp`` (JSON API, ``/api/v1/stock``,
labels and bottle returns of doses, the stock report) and ``mat.stock.views.bp`` (``/stock``
pages and the window's labels and bottle returns).
"""
