"""The per-point cost benchmark's pure parts: library names and the floor's arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.per_point import BASIS_COLUMNS, floor, spec_of  # noqa: E402


def test_library_names():
    assert spec_of("scaling", 1000, 2000, 100) == {
        "kind": "scaling",
        "points": 1000,
        "phases": 100,
        "q_points": 2000,
        "seed": 0,
    }
    assert spec_of("random102")["kind"] == "random" and spec_of("random102")["seed"] == 102
    hard = spec_of("hard3")
    assert (hard["kind"], hard["preset"], hard["seed"]) == ("preset", "hard", 3)
    assert spec_of("standard")["seed"] == 0


def test_floor_counts_screening_pools_and_one_fit_per_point():
    n, p, n_q = 4, 5, 100
    frac = np.zeros((n, p))
    frac[:, 0] = 1.0
    frac[1, :2] = 0.5  # one point with two phases
    sol = SimpleNamespace(fractions=frac, reconstruction=np.zeros((n, n_q)), mask=np.ones((n, p), bool))
    params = {"pool_size": 8, "shape_offsets": (-3, 0, 3), "width_scales": (1.0, 2.0)}
    got = floor(sol, params, n_combos=10, flops={"float32": 1.0, "float64": 2.0})
    assert got["screen_mac"] == n * p * 10 * n_q
    assert got["subset_mac"] == n * 64 * n_q / 2
    cols = np.array([6, 12, 6, 6]) + BASIS_COLUMNS
    assert got["final_mac"] == (cols**2 * n_q / 2).sum()
    want = 2 * (got["screen_mac"] + got["subset_mac"]) / 1e9 + 2 * got["final_mac"] / 2e9
    assert np.isclose(got["floor_s"], want)
