"""clinicledger: an append-only, bitemporal, double-entry ledger for health practices."""

__version__ = "0.1.0"
