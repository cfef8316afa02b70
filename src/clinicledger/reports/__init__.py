"""Read-only queries over the postings: one module per report, rows and totals."""
