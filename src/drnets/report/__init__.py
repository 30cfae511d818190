"""drnets.report (in progress)."""
