"""The synthetic generator: physics of the truth, rendering, files, determinism, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from drnets.core import render_peaks, render_profile
from drnets.io import load, read_phase_table
from drnets.structure import composition_graph, gibbs_limits
from drnets.synth import PRESETS, generate, write_synthetic

CASES = [("easy", "grid"), ("standard", "grid"), ("standard", "random"), ("hard", "grid"), ("hard", "random")]


@pytest.fixture(scope="module")
def libraries():
    out = {}
    for preset, sampling in CASES:
        out[preset, sampling] = generate(preset, points=90, q_points=300, seed=7, sampling=sampling)
    return out


def _deltas(truth) -> dict[str, float]:
    return {s["label"]: s["delta"] for s in truth.meta["stable_phases"]}


@pytest.mark.parametrize("case", CASES)
def test_fractions_and_shifts_consistent(libraries, case):
    ds, truth = libraries[case]
    n, p = ds.library.n_points, len(ds.phases)
    assert truth.labels == ds.phases.labels
    assert truth.fractions.shape == truth.shifts.shape == truth.amplitudes.shape == (n, p)
    assert np.all(truth.fractions >= 0)
    np.testing.assert_allclose(truth.fractions.sum(axis=1), 1.0, atol=1e-12)
    present = truth.fractions > 0
    assert np.array_equal(present, np.isfinite(truth.shifts))
    np.testing.assert_allclose(truth.fractions, truth.amplitudes / truth.amplitudes.sum(axis=1, keepdims=True))
    # Shifts stay within each phase's Vegard range; line compounds and the substrate are unshifted.
    d = _deltas(truth)
    for j, lbl in enumerate(truth.labels):
        s = truth.shifts[present[:, j], j]
        lo, hi = sorted((1.0, 1.0 + d.get(lbl, 0.0)))
        assert np.all((s >= lo - 1e-12) & (s <= hi + 1e-12)), lbl
    # Only stable phases and the substrate are present; distractors never.
    allowed = set(d) | ({truth.meta["substrate"]} if truth.meta["substrate"] else set())
    assert {lbl for j, lbl in enumerate(truth.labels) if present[:, j].any()} <= allowed
    assert set(truth.meta["distractors"]) <= set(truth.labels)


@pytest.mark.parametrize("case", CASES)
def test_gibbs_phase_rule(libraries, case):
    ds, truth = libraries[case]
    sub = ds.phases.is_substrate
    count = (truth.fractions[:, ~sub] > 0).sum(axis=1)
    assert np.all(count >= 1)
    assert np.all(count <= gibbs_limits(ds.library.compositions))


@pytest.mark.parametrize("case", CASES)
def test_phase_regions_connected(libraries, case):
    ds, truth = libraries[case]
    edges = composition_graph(ds.library.compositions)
    n = ds.library.n_points
    for j, lbl in enumerate(truth.labels):
        idx = np.flatnonzero(truth.fractions[:, j] > 0)
        if idx.size <= 1:
            continue
        keep = np.isin(edges[:, 0], idx) & np.isin(edges[:, 1], idx)
        local = -np.ones(n, dtype=int)
        local[idx] = np.arange(idx.size)
        e = local[edges[keep]]
        graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(idx.size, idx.size))
        assert connected_components(graph, directed=False)[0] == 1, lbl


def _max_shift_jump(ds, truth, min_fraction: float) -> float:
    """Largest shift jump across a graph edge, relative to the phase's Vegard range."""
    edges = composition_graph(ds.library.compositions)
    worst = 0.0
    for j, lbl in enumerate(truth.labels):
        delta = abs(_deltas(truth).get(lbl, 0.0))
        f = truth.fractions[:, j]
        both = (f[edges[:, 0]] > min_fraction) & (f[edges[:, 1]] > min_fraction)
        if delta == 0 or not both.any():
            continue
        jump = np.abs(truth.shifts[edges[both, 0], j] - truth.shifts[edges[both, 1], j]) / delta
        worst = max(worst, float(jump.max()))
    return worst


def test_shifts_continuous_across_edges(libraries):
    # Never more than the Vegard range between neighbours ...
    for case in CASES:
        assert _max_shift_jump(*libraries[case], 0.0) <= 1.0 + 1e-9
    # ... and the jumps shrink as the grid is refined (continuity; tie-line fans near a
    # solid-solution segment are steep where the phase's fraction is small).
    coarse = _max_shift_jump(*generate("standard", points=66, q_points=20, seed=0), 0.5)
    fine = _max_shift_jump(*generate("standard", points=1035, q_points=20, seed=0), 0.5)
    assert fine < coarse
    assert fine < 0.35


def test_easy_pattern_is_sum_of_profiles(libraries):
    ds, truth = libraries["easy", "grid"]
    q = ds.library.q
    assert truth.eta == 0.0 and not truth.texture and not truth.background.any()
    for i in range(0, ds.library.n_points, 7):
        model = np.zeros_like(q)
        for j in np.flatnonzero(truth.amplitudes[i] > 0):
            model += truth.amplitudes[i, j] * render_profile(
                ds.phases[int(j)], q, shift=truth.shifts[i, j], widths=truth.widths[j]
            )
        np.testing.assert_allclose(ds.library.patterns[i], model, atol=1e-5)


def test_standard_noise_and_background(libraries):
    ds, truth = libraries["standard", "grid"]
    pat, clean = ds.library.patterns, truth.clean
    # Poisson counts around the clean pattern; background is positive everywhere.
    assert np.all(pat == np.round(pat))
    assert np.all(truth.background > 0)
    z = (pat - clean) / np.sqrt(np.maximum(clean, 1.0))
    assert abs(z.mean()) < 0.05 and 0.8 < z.std() < 1.2
    # The clean pattern is the sum of max-normalised pseudo-Voigt profiles plus background.
    i = int(np.argmax((truth.fractions > 0).sum(axis=1)))
    model = truth.background[i].copy()
    for j in np.flatnonzero(truth.amplitudes[i] > 0):
        ph = ds.phases[int(j)]
        prof = render_peaks(
            ds.library.q, ph.q[None, :] * truth.shifts[i, j], ph.intensity[None, :], truth.widths[j], truth.eta
        )
        assert prof.max() == pytest.approx(1.0)
        model += truth.amplitudes[i, j] * prof[0]
    np.testing.assert_allclose(clean[i], model, rtol=1e-10, atol=1e-8)


def test_hard_substrate_impurity_texture(libraries):
    ds, truth = libraries["hard", "grid"]
    sub = truth.meta["substrate"]
    assert sub in truth.labels and np.all(truth.fractions[:, truth.labels.index(sub)] > 0)
    assert truth.impurity and truth.impurity not in truth.labels
    assert truth.impurity_amplitudes.max() > 0 and truth.impurity_amplitudes.min() == 0
    assert truth.texture
    factors = next(iter(truth.texture.values()))
    assert factors.shape[0] == ds.library.n_points and np.ptp(factors) > 0.1
    assert len(ds.library.elements) == 4 and len(truth.meta["distractors"]) >= 8


def test_write_read_and_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    files = write_synthetic(a, "hard", points=40, q_points=200, seed=5)
    write_synthetic(b, "hard", points=40, q_points=200, seed=5)
    write_synthetic(c, "hard", points=40, q_points=200, seed=6)
    names = sorted(str(p.relative_to(a)) for p in files)
    assert {
        "instance.txt",
        "sticks.csv",
        "library.h5",
        "truth/fractions.csv",
        "truth/shifts.csv",
        "truth/impurity.csv",
        "truth/meta.json",
    } <= set(names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "instance.txt").read_bytes() != (c / "instance.txt").read_bytes()

    ds, truth = generate("hard", points=40, q_points=200, seed=5)
    from_h5 = load(a / "library.h5")
    from_txt = load(a / "instance.txt", phases=a / "sticks.csv")
    for got in (from_h5, from_txt):
        assert got.phases.labels == truth.labels
        np.testing.assert_allclose(got.library.patterns, ds.library.patterns, rtol=1e-7)
        np.testing.assert_allclose(got.library.compositions, ds.library.compositions, atol=1e-9)
    frac = read_phase_table(a / "truth" / "fractions.csv")
    shifts = read_phase_table(a / "truth" / "shifts.csv")
    assert frac.labels == truth.labels and np.array_equal(frac.points, np.arange(40))
    np.testing.assert_allclose(frac.values, truth.fractions, rtol=1e-7)
    np.testing.assert_allclose(shifts.values, truth.shifts, rtol=1e-7)  # NaN where absent, both sides


def test_cli_synth_and_info(tmp_path):
    from typer.testing import CliRunner

    from drnets.cli import app

    runner = CliRunner()
    out = tmp_path / "lib"
    res = runner.invoke(
        app, ["synth", "--preset", "easy", "--points", "30", "--seed", "2", "--out", str(out), "--q-points", "150"]
    )
    assert res.exit_code == 0, res.output
    assert "library.h5" in res.output and (out / "truth" / "fractions.csv").exists()
    res = runner.invoke(app, ["info", str(out / "library.h5")])
    assert res.exit_code == 0, res.output
    assert "30" in res.output
    res = runner.invoke(app, ["info", str(out / "instance.txt"), "--phases", str(out / "sticks.csv")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["synth", "--preset", "nope", "--out", str(tmp_path / "x")])
    assert res.exit_code != 0


def test_presets_and_defaults():
    assert set(PRESETS) == {"easy", "standard", "hard"}
    ds, truth = generate("easy", seed=0)
    assert ds.library.n_points == PRESETS["easy"].points and ds.library.q.size == 800
    assert ds.library.q[0] == 15.0 and ds.library.q[-1] == 75.0
    ds, _ = generate("standard", points=37, q_points=64, seed=1)
    assert ds.library.n_points == 37 and ds.library.q.size == 64
    with pytest.raises(ValueError):
        generate("standard", points=0)


def test_texture_factors_follow_reflection_families():
    """A stick stands for a family of planes: its texture factor is core's family mean, so the
    listed member does not matter ({100} of a cubic phase along (001): two of six planes lie flat)."""
    from drnets.core import Phase, family_texture, march_dollase
    from drnets.synth._generate import _texture_factors

    a = 4.2
    hkl = np.array([[1, 0, 0], [0, 0, 1], [1, 1, 0], [1, 1, 1]])
    ph = Phase("c", "MgO", np.ones(4), np.ones(4), hkl=hkl, cell=(a, a, a, 90.0, 90.0, 90.0))
    r = np.array([0.6, 1.0, 1.7])
    f = _texture_factors(ph, (0, 0, 1), r)
    assert f.shape == (3, 4)
    assert np.allclose(f[:, 0], f[:, 1])  # (100) and (001) are one family
    assert np.allclose(f[1], 1.0)  # r = 1 is an untextured powder
    for i, ri in enumerate(r):
        assert np.allclose(f[i], family_texture(hkl, ph.cell, (0, 0, 1), float(ri)))
    # the family mean is not the listed plane's own factor
    assert not np.isclose(f[0, 0], march_dollase(np.array([0.0]), 0.6)[0])


def test_conditions_override_a_preset_and_orient_the_substrate():
    plain, _ = generate("hard", points=40, q_points=300, seed=3)
    same, _ = generate("hard", points=40, q_points=300, seed=3, conditions={"substrate_texture": 0.0})
    np.testing.assert_array_equal(plain.library.patterns, same.library.patterns)  # the default is a powder
    quiet = {"snr": None, "impurity": 0.0, "background": 0.0}
    ds, truth = generate("hard", points=40, q_points=300, seed=3, conditions={**quiet, "substrate_texture": 2.0})
    powder, _ = generate("hard", points=40, q_points=300, seed=3, conditions=quiet)
    assert truth.meta["parameters"]["substrate_texture"] == 2.0 and truth.meta["parameters"]["snr"] is None
    sub = truth.meta["substrate"]
    assert sub in truth.texture and np.ptp(truth.texture[sub][0]) > 0.5  # its reflections' ratios change
    # and the patterns by a visible part of the substrate's height
    diff = ds.library.patterns - powder.library.patterns
    amp = truth.amplitudes[:, truth.labels.index(sub)]
    assert np.abs(diff).max() > 0.05 * amp.max()
    with pytest.raises(ValueError, match="not measurement conditions of a preset: colour"):
        generate("hard", points=40, q_points=300, seed=3, conditions={"colour": 1})
