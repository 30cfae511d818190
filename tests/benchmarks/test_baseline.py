"""The NNLS baseline recovers exact one- and two-phase mixtures of a tiny library."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from drnets.core import Library, Phase, PhaseLibrary
from drnets.solve._decoder import build_dictionary, padded_sticks

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.baseline import nnls_baseline  # noqa: E402

SIGMA = 0.25


def _tiny():
    elements = ("Al", "Zn")
    phases = PhaseLibrary(
        [
            Phase("Al2O3", "Al2O3", [20.0, 31.0, 44.0], [1.0, 0.5, 0.3]),
            Phase("ZnO", "ZnO", [24.0, 36.5, 50.0], [1.0, 0.7, 0.4]),
            Phase("ZnAl2O4", "ZnAl2O4", [22.0, 27.5, 40.0, 52.0], [0.6, 1.0, 0.5, 0.35]),
        ],
        elements,
    )
    q = np.linspace(15.0, 60.0, 451)
    sq, si = padded_sticks(phases, q[0], q[-1], 0.0)
    prof = build_dictionary(q, sq, si, np.array([1.0, 1.02]), np.full((3, 2), SIGMA), dtype=torch.float64).numpy()
    # point 0: Al2O3 alone (unshifted); point 1: 0.7 ZnO (shifted +2 %) + 0.3 ZnAl2O4
    patterns = np.stack([5.0 * prof[0, 0], 3.0 * (0.7 * prof[1, 1] + 0.3 * prof[2, 0])])
    comps = np.array([[0.99, 0.01], [0.5, 0.5]])
    return Library(elements, comps, q, patterns), phases


def test_baseline_recovers_one_and_two_phases():
    lib, phases = _tiny()
    sol = nnls_baseline(lib, phases, max_phases=np.array([1, 2]), max_shift=0.04, shift_step=0.01, sigma=SIGMA)
    np.testing.assert_allclose(sol.fractions[0], [1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(sol.fractions[1], [0.0, 0.7, 0.3], atol=1e-6)
    assert sol.shifts[0, 0] == 1.0 and np.isnan(sol.shifts[0, 1:]).all()
    np.testing.assert_allclose(sol.shifts[1, 1:], [1.02, 1.0], atol=1e-9)
    np.testing.assert_allclose(sol.amplitudes[1, 1:], [2.1, 0.9], rtol=1e-6)
    assert sol.residuals.max() < 1e-6
    assert sol.audit["gibbs_violations"] == 0
    assert sol.metadata["method"] == "nnls_baseline"


def test_baseline_respects_mask_and_gibbs_limit():
    lib, phases = _tiny()
    mask = np.array([[False, True, True], [True, True, True]])
    sol = nnls_baseline(lib, phases, mask, np.array([1, 1]), max_shift=0.04, shift_step=0.01, sigma=SIGMA)
    assert sol.fractions[0, 0] == 0.0
    assert ((sol.fractions > 0).sum(axis=1) <= 1).all()
    assert sol.fractions[1, 1] == 1.0
