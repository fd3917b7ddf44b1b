"""Patients: registration, levels of care, discharge."""
