"""Prescriber orders: the lead's blueprint lives here; pure logic in spec, schedule and rules."""
