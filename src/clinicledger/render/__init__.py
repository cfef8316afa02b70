"""Renderers shared by every report: the same rows as a table, CSV or JSON."""
