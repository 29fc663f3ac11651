"""Sobot bulk order import from its spreadsheet template (MISSION S2-S6)."""
