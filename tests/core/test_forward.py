"""The forward model: width law, peak shapes, normalisation, and one profile drawn three ways."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drnets.core import (
    FWHM_PER_SIGMA,
    Phase,
    Solution,
    gaussian,
    max_normalized,
    peak_shape,
    render_contributions,
    render_peaks,
    render_profile,
    sigma_at,
)
from drnets.solve._atoms import Atoms
from drnets.solve._decoder import build_dictionary, padded_sticks
from drnets.synth import generate


def test_sigma_is_linear_in_q_between_the_grid_ends():
    q = np.array([10.0, 15.0, 20.0, 30.0])
    np.testing.assert_allclose(sigma_at(q, np.array([0.1, 0.3]), 10.0, 30.0), [0.1, 0.15, 0.2, 0.3])
    # One (lo, hi) row per row of q, as the decoder's dictionary uses it.
    rows = np.array([[0.1, 0.3], [0.2, 0.2]])
    got = sigma_at(np.stack([q, q]), rows.T[:, :, None], 10.0, 30.0)
    np.testing.assert_allclose(got, [[0.1, 0.15, 0.2, 0.3], [0.2, 0.2, 0.2, 0.2]])


def test_peak_shapes():
    z = np.linspace(-6.0, 6.0, 241)
    assert np.array_equal(peak_shape(z, 0.0), gaussian(z))
    assert gaussian(np.array(0.0)) == 1.0
    hw = 0.5 * FWHM_PER_SIGMA
    for eta in (0.0, 0.3, 1.0):
        # Gaussian and Lorentzian share the FWHM, so every mixture is at half height at +-hw.
        np.testing.assert_allclose(peak_shape(np.array([-hw, 0.0, hw]), eta), [0.5, 1.0, 0.5])
    # Tensors go through the same formula (the solver's decoder).
    t = gaussian(torch.as_tensor(z, dtype=torch.float64))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), gaussian(z), rtol=1e-12)


def test_max_normalized_keeps_empty_profiles_empty():
    out = max_normalized(np.array([[0.0, 2.0, 4.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]])


def test_rendered_peak_has_the_width_of_the_width_law():
    q = np.linspace(20.0, 40.0, 4001)
    widths = np.array([0.1, 0.5])
    phase = Phase("one", "X", np.array([25.0]), np.array([1.0]))
    prof = render_profile(phase, q, shift=1.2, widths=widths)  # centre 30: sigma 0.3
    mean = (q * prof).sum() / prof.sum()
    sd = np.sqrt(((q - mean) ** 2 * prof).sum() / prof.sum())
    assert mean == pytest.approx(30.0, abs=1e-6)
    assert sd == pytest.approx(0.3, rel=1e-4)
    dense = render_peaks(q, np.array([[30.0]]), np.array([[1.0]]), widths)[0]
    assert np.abs(dense - prof).max() < 1e-5  # the window cuts tails under exp(-12.5)


def test_solver_synth_and_report_draw_the_same_profile():
    """One phase at one shift and width, drawn by the generator, the report and the solver's decoder."""
    ds, _ = generate("easy", points=5, q_points=700, seed=0)
    q, phases = ds.library.q, ds.phases
    widths, shift, n_p = np.array([0.18, 0.31]), 1.012, len(ds.phases)
    sq, si = padded_sticks(phases, q[0], q[-1], 0.05)
    atoms = Atoms(q, sq, si, np.array([shift]), widths, widths=(1.0,), dtype=torch.float64)
    dictionary = build_dictionary(q, sq, si, np.array([shift]), np.tile(widths, (n_p, 1)), dtype=torch.float64)
    solution = Solution(
        labels=phases.labels,
        fractions=np.full((1, n_p), 1.0 / n_p),
        shifts=np.full((1, n_p), shift),
        amplitudes=np.ones((1, n_p)),
        widths=np.tile(widths, (n_p, 1)),
    )
    report = render_contributions(solution, phases, q, 0)
    for p, phase in enumerate(phases):
        synth = render_peaks(q, phase.q[None, :] * shift, phase.intensity[None, :], widths)[0]
        assert synth.max() == pytest.approx(1.0)
        # Windowed renderers drop tails under exp(-12.5) of a peak; anything else is a fork.
        np.testing.assert_allclose(report[p], synth, rtol=0, atol=1e-5, err_msg=phase.label)
        np.testing.assert_allclose(atoms.phase(p)[0, 0].numpy(), synth, rtol=0, atol=1e-5, err_msg=phase.label)
        np.testing.assert_allclose(dictionary[p, 0].numpy(), synth, rtol=0, atol=1e-5, err_msg=phase.label)


def test_pseudo_voigt_profiles_agree_across_renderers():
    """With a Lorentzian share the windows widen; the cut tails stay under LORENTZ_TAIL of a peak."""
    ds, _ = generate("easy", points=5, q_points=700, seed=0)
    q, phases = ds.library.q, ds.phases
    widths, eta, n_p = np.array([0.18, 0.31]), 0.5, len(ds.phases)
    sq, si = padded_sticks(phases, q[0], q[-1], 0.05)
    atoms = Atoms(q, sq, si, np.array([1.0]), widths, widths=(1.0,), dtype=torch.float64, eta=eta)
    solution = Solution(
        labels=phases.labels,
        fractions=np.full((1, n_p), 1.0 / n_p),
        shifts=np.ones((1, n_p)),
        amplitudes=np.ones((1, n_p)),
        widths=np.tile(widths, (n_p, 1)),
        eta=eta,
    )
    report = render_contributions(solution, phases, q, 0)
    for p, phase in enumerate(phases):
        synth = render_peaks(q, phase.q[None, :], phase.intensity[None, :], widths, eta)[0]
        gauss = render_peaks(q, phase.q[None, :], phase.intensity[None, :], widths)[0]
        assert np.abs(synth - gauss).max() > 0.05  # the shape matters at this share
        np.testing.assert_allclose(report[p], synth, rtol=0, atol=0.02, err_msg=phase.label)
        np.testing.assert_allclose(atoms.phase(p)[0, 0].numpy(), synth, rtol=0, atol=0.02, err_msg=phase.label)


def test_window_widens_with_the_lorentzian_share():
    from drnets.core import WINDOW_SIGMAS, window_sigmas

    assert window_sigmas(0.0) == WINDOW_SIGMAS
    assert WINDOW_SIGMAS < window_sigmas(0.3) < window_sigmas(1.0)
