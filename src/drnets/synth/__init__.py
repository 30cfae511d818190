"""drnets.synth (in progress)."""
