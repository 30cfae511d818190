"""Benchmarks of drnets: the harness (run.py), the renderer (render.py) and a baseline."""
