"""The formulary: the products a clinic dispenses (seeded by a migration from ``catalog``)."""
