"""File formats: bytes <-> domain values. Needs only ``domain``."""
