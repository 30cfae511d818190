"""Counting-statistics weights of the final fits (``count_weights``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from drnets.core import render_peaks
from drnets.solve import Params
from drnets.solve._atoms import Atoms
from drnets.solve._decoder import padded_sticks
from drnets.solve._prepare import count_weights, kept_signal_share, prepare
from drnets.solve._search import group_fit
from drnets.synth import generate


def _pattern(baseline: float) -> np.ndarray:
    q = np.linspace(15.0, 60.0, 600)
    peaks = render_peaks(q, np.array([[25.0, 40.0]]), np.array([[1.0, 0.5]]), (0.2, 0.3))[0]
    return baseline + peaks


def test_peak_tops_weigh_less_than_the_baseline_as_counts_do():
    x = _pattern(0.1)[None, :]
    w = count_weights(x / x.max())
    assert np.isclose((w * w).mean(), 1.0)
    top, base = int(np.argmax(x[0])), 0
    # a count's variance is its level: the weight ratio is sqrt(level ratio) (within the smoothing)
    ratio = w[0, top] / w[0, base]
    assert 0.8 * np.sqrt(x[0, base] / x[0, top]) < ratio < 1.25 * np.sqrt(x[0, base] / x[0, top])
    # nothing weighs more than the baseline
    assert np.isclose(w.max(), w[0, base])


def test_weights_apply_only_to_patterns_on_a_baseline():
    ds, _ = generate("easy", points=12, q_points=300, seed=0)  # the easy preset has no background
    flat = ds.library
    counts = replace(flat, patterns=flat.patterns + 0.1 * flat.patterns.max())
    on = prepare(counts, ds.phases, Params(device="cpu"))
    assert on.weights is not None and on.weights.shape == flat.patterns.shape
    assert prepare(counts, ds.phases, Params(device="cpu", count_weights=False)).weights is None
    # background-free patterns (processed or simulated data) say nothing of their counts
    off_flat = prepare(flat, ds.phases, Params(device="cpu"))
    assert off_flat.weights is None and off_flat.prior_scale == 1.0
    # the weights keep part of the peaks' signal; the shift prior shrinks with it
    assert 0.0 < on.prior_scale < 1.0
    shift = np.array([1.0 + Params().max_shift])
    assert np.allclose(on.prior(shift), on.prior_scale * off_flat.prior(shift))
    assert np.isclose(off_flat.prior(shift)[0], Params().shift_prior)


def test_the_kept_share_is_one_for_uniform_weights_and_falls_with_peak_weights():
    xn = np.abs(np.random.default_rng(0).normal(size=(3, 50)))
    assert np.isclose(kept_signal_share(xn, np.ones_like(xn)), 1.0)
    w = np.ones_like(xn)
    w[:, :25] = 0.5
    xn[:, 25:] = 0.0  # all the signal where the weight is 0.5: a quarter of its energy is kept
    assert np.isclose(kept_signal_share(xn, w), 0.25)


def test_a_weighted_fit_minimises_the_weighted_residual():
    ds, _ = generate("easy", points=4, q_points=300, seed=1)
    q = ds.library.q
    sq, si = padded_sticks(ds.phases, q[0], q[-1], 0.03)
    atoms = Atoms(q, sq, si, 1.0 + 0.002 * np.arange(-15, 16), (0.15, 0.25), (1.0, 1.5), device="cpu")
    x = ds.library.patterns[0] / ds.library.patterns[0].max()
    phases, shifts = np.array([0, 1]), np.array([15, 15])
    plain = group_fit(x, phases, shifts, atoms)
    same = group_fit(x, phases, shifts, atoms, weight=np.ones_like(x))
    assert np.isclose(plain["rss"], same["rss"])
    w = np.where(q > q.mean(), 0.2, 1.0)
    fit = group_fit(x, phases, shifts, atoms, weight=w)
    resid = (x - fit["recon"] - fit["background"]) * w
    assert np.isclose(fit["rss"], (resid * resid).sum(), rtol=1e-6)
    # the unweighted answer scores no better under the weights
    plain_resid = (x - plain["recon"] - plain["background"]) * w
    assert (plain_resid * plain_resid).sum() >= fit["rss"] * (1 - 1e-9)


def test_evidence_is_measured_in_the_final_fits_units():
    # Evidence compares the answer's residual with the fit without one phase; with counting
    # weights both must be weighted (once the answer's was not, and strong phases read 0).
    from drnets.solve import PhaseMapper

    ds, _ = generate("standard", seed=0, points=40, q_points=400)
    assert prepare(ds.library, ds.phases, Params(device="cpu")).weights is not None  # raw counts: weighted
    mapper = PhaseMapper(device="cpu", seed=0).fit(ds.library, ds.phases, mask=ds.mask, max_phases=ds.max_phases)
    sol = mapper.solution_
    assert np.all(sol.evidence[sol.fractions > 0.1] > 1.0)
