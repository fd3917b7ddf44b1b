"""The dosing window: the pure rules a dose and a take-home hand-out are judged by."""
