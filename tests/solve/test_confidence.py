"""Probabilities, alternative sets and unexplained signal on small generated libraries."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.evaluate import calibration_error
from drnets.solve import Calibration, PhaseMapper, calibrated_probabilities, rank_unknown_phases
from drnets.synth import generate

LEVEL = 0.02


def _removed_phase(truth, phases) -> str:
    """The system phase holding >= 20 % at the most points."""
    counts = np.where(phases.is_substrate, -1, (truth.fractions >= 0.2).sum(0))
    return phases.labels[int(np.argmax(counts))]


@pytest.fixture(scope="module")
def easy():
    ds, truth = generate("easy", points=45, q_points=400, seed=10)
    return ds, truth, PhaseMapper(device="cpu").fit(ds.library, ds.phases)


@pytest.fixture(scope="module")
def easy_without_one(easy):
    ds, truth, _ = easy
    drop = _removed_phase(truth, ds.phases)
    keep = [k for k, lbl in enumerate(ds.phases.labels) if lbl != drop]
    mapper = PhaseMapper(device="cpu").fit(ds.library, ds.phases.subset(keep))
    return drop, mapper


def test_probabilities_are_probabilities(easy):
    ds, _, mapper = easy
    sol = mapper.solution_
    p = sol.probabilities
    assert p.shape == (ds.library.n_points, len(ds.phases))
    assert np.all((p >= 0) & (p <= 1))
    alts = sol.alternatives
    sums = np.nansum(alts.probability, axis=1)
    assert np.all(sums <= 1 + 1e-9)
    assert np.all((alts.chosen >= 0) & (alts.chosen <= 1))
    # Best first, and the answer's own set is listed with the chosen probability where listed.
    for i in range(sol.n_points):
        listed = alts.at(i)
        assert listed, i
        probs = [v for _, v in listed]
        assert probs == sorted(probs, reverse=True)
        mine = tuple(int(k) for k in np.flatnonzero(sol.fractions[i] >= LEVEL))
        for s, v in listed:
            if s == mine:
                assert v == pytest.approx(alts.chosen[i])
    # Presence agrees with the sets: a phase is present with at least the chosen set's probability
    # where the chosen set holds it (up to the calibration maps being different).
    assert np.all(p[sol.fractions >= LEVEL] > 0.0)


def test_confidence_is_off_when_asked_and_the_answer_stays_the_same(easy):
    ds, _, mapper = easy
    plain = PhaseMapper(device="cpu", confidence=False).fit(ds.library, ds.phases)
    assert plain.solution_.probabilities is None and plain.solution_.unexplained is None
    np.testing.assert_array_equal(plain.fractions_, mapper.fractions_)
    np.testing.assert_array_equal(plain.shifts_, mapper.shifts_)


def test_a_clean_library_is_not_flagged(easy):
    _, _, mapper = easy
    u = mapper.solution_.unexplained
    assert u.flag.mean() <= 0.1, u.flag.mean()


def test_a_removed_phase_is_flagged_and_found(easy, easy_without_one):
    ds, truth, _ = easy
    drop, mapper = easy_without_one
    u = mapper.solution_.unexplained
    k = ds.phases.labels.index(drop)
    where = truth.fractions[:, k] >= 0.2
    assert where.sum() >= 5
    assert u.flag[where].mean() >= 0.8, u.flag[where].mean()
    assert u.candidates, "no unknown-phase candidate"
    # The candidate that covers its region has its peaks on the removed phase's sticks, and
    # finds some of its strong ones.
    best = max(u.candidates, key=lambda c: len(set(c["points"]) & set(np.flatnonzero(where).tolist())))
    ph = ds.phases[drop]
    q = ds.library.q
    fwhm = 2.3548 * max(mapper.solution_.metadata["sigma"])
    peaks = np.asarray(best["peaks"])
    some = ph.intensity >= 0.05 * ph.intensity.max()
    assert np.mean(np.abs(peaks[:, None] - ph.q[some][None, :]).min(1) <= fwhm) >= 0.8, peaks
    strong = (ph.intensity >= 0.3 * ph.intensity.max()) & (ph.q > q[0]) & (ph.q < q[-1])
    assert (np.abs(peaks[:, None] - ph.q[strong][None, :]).min(0) <= fwhm).sum() >= 2, peaks


def test_more_structures_are_ranked_against_the_unknown_phase(easy, easy_without_one):
    ds, truth, _ = easy
    drop, mapper = easy_without_one
    # The removed phase among all the candidates: it should explain its own candidate best.
    u = rank_unknown_phases(mapper.solution_, ds.library, ds.phases)
    k = ds.phases.labels.index(drop)
    where = set(np.flatnonzero(truth.fractions[:, k] >= 0.2).tolist())
    best = max(u.candidates, key=lambda c: len(set(c["points"]) & where))
    assert best["matches"][0]["label"] == drop, best["matches"]


def test_calibration_improves_the_error_on_held_back_seeds():
    # Random systems 318, 320 and 321: in neither half of the panel, not used to fit the map.
    pres_cal, pres_raw, truth_all = [], [], []
    for seed in (318, 320, 321):
        ds, truth = generate(None, points=80, q_points=400, seed=seed, system="random")
        m = PhaseMapper(device="cpu").fit(ds.library, ds.phases)
        chosen = m.solution_.fractions >= LEVEL
        cal, _ = calibrated_probabilities(m.set_costs_, chosen, LEVEL)
        raw, _ = calibrated_probabilities(m.set_costs_, chosen, LEVEL, Calibration())
        pres_cal.append(cal.ravel())
        pres_raw.append(raw.ravel())
        truth_all.append((truth.fractions >= LEVEL).ravel())
    y = np.concatenate(truth_all)
    e_cal = calibration_error(np.concatenate(pres_cal), y)
    e_raw = calibration_error(np.concatenate(pres_raw), y)
    assert e_cal < e_raw, (e_cal, e_raw)
