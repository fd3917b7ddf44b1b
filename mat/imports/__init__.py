"""Bringing a clinic's existing patients and their history into mat (one import, all or nothing)."""
