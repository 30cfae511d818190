"""drnets.evaluate (in progress)."""
