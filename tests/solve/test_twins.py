"""Twin cards (solve/_twins.py): one card of a compound per point."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.solve import PhaseMapper
from drnets.solve._params import Params
from drnets.solve._prepare import prepare
from drnets.solve._state import State
from drnets.solve._twins import one_card_per_compound, one_card_per_region, twin_pairs, twin_ratios
from drnets.structure import components
from drnets.synth import generate


@pytest.fixture(scope="module")
def problem():
    # random system 100 lists BaO_rocksalt and its look-alike card BaO_rocksalt-2 (2-3 % apart)
    ds, _ = generate(system="random", seed=100, points=20, q_points=300)
    return ds, prepare(ds.library, ds.phases, Params(device="cpu"), mask=ds.mask, max_phases=ds.max_phases)


def test_twin_pairs_are_the_look_alike_cards_of_one_compound(problem):
    ds, pb = problem
    labels = list(ds.phases.labels)
    pairs = {(labels[a], labels[b]) for a, b in twin_pairs(pb)}
    assert ("BaO_rocksalt", "BaO_rocksalt-2") in pairs
    for a, b in twin_pairs(pb):  # never two compounds, never a substrate
        assert np.allclose(ds.phases.compositions[a], ds.phases.compositions[b])
        assert not (pb.substrate[a] or pb.substrate[b])
    # MgO and BaO are both rock salts but two compounds: not twins
    assert not any({"MgO_rocksalt", "BaO_rocksalt"} == set(p) for p in pairs)


def test_a_point_keeps_the_larger_twin_only(problem):
    ds, pb = problem
    a, b = next(iter(twin_pairs(pb)))
    state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
    i, j = 3, 4
    for pt in (i, j):
        phases = np.array([a, b]) if pt == i else np.array([a])
        centre = np.full(phases.size, pb.atoms.shift_index(1.0))
        g = pb.fit_point(pt, phases, centre)
        g["height"] = np.where(phases == a, 0.5, 0.1)[: phases.size]  # a is the larger at i
        sc, _ = pb.fit_cost(pt, phases, g)
        state.set_fit(pt, phases, centre, np.zeros(phases.size, int), g, sc)
    before_j = state.phase[j][state.present[j]].tolist()
    out = one_card_per_compound(pb, state)
    assert out.phase[i][out.present[i]].tolist() == [a]
    assert out.phase[j][out.present[j]].tolist() == before_j
    assert {"stage": "one card per compound", "points_changed": 1} in pb.history


def test_one_card_is_an_option(problem):
    ds, _ = problem
    on = PhaseMapper(device="cpu", rounds=1, confidence=False, one_card=True).fit(ds.library, ds.phases, mask=ds.mask)
    off = PhaseMapper(device="cpu", rounds=1, confidence=False).fit(ds.library, ds.phases, mask=ds.mask)
    assert any(h.get("stage") == "one card per compound" for h in on.history_)
    assert not any(h.get("stage") == "one card per compound" for h in off.history_)


@pytest.fixture(scope="module")
def with_truth():
    ds, truth = generate(system="random", seed=100, points=20, q_points=300)
    pb = prepare(ds.library, ds.phases, Params(device="cpu"), mask=ds.mask, max_phases=ds.max_phases)
    return ds, truth, pb


def test_twin_ratio_is_the_look_alikes_lattice(with_truth):
    ds, truth, pb = with_truth
    labels = list(ds.phases.labels)
    ratios = twin_ratios(pb)
    a, b = labels.index("BaO_rocksalt"), labels.index("BaO_rocksalt-2")
    role = truth.meta["system_details"]["phases"]["BaO_rocksalt-2"]["role"]
    spacing = float(role.split("(")[1].split(" %")[0]) / 100  # the look-alike's lattice against the card's
    # a lattice larger by (1 + spacing) puts every peak at Q / (1 + spacing); the generator
    # jitters each cell length by up to 0.3 % on top
    assert ratios[(a, b)] == pytest.approx(1.0 / (1.0 + spacing), abs=0.005)


def _truth_state(pb, truth) -> State:
    state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
    for i in range(pb.n):
        phases = np.flatnonzero(truth.fractions[i] > 0)
        centre = np.array([pb.atoms.shift_index(float(truth.shifts[i, p])) for p in phases], dtype=int)
        g = pb.fit_point(i, phases, centre)
        sc, kept = pb.fit_cost(i, phases, g)
        state.set_fit(i, phases, centre, np.zeros(phases.size, int), g, sc, kept)
    return state


def test_a_region_takes_one_card_the_cheaper(with_truth):
    ds, truth, pb = with_truth
    labels = list(ds.phases.labels)
    a, b = labels.index("BaO_rocksalt"), labels.index("BaO_rocksalt-2")
    state = _truth_state(pb, truth)
    holders = np.flatnonzero(((state.phase == a) & state.present).any(1))
    assert holders.size >= 3
    # one point of the true card's region swapped to the look-alike at the matching lattice
    i = int(holders[1])
    js = np.flatnonzero(state.present[i])
    phs, sh = state.phase[i, js].copy(), state.shift[i, js].copy()
    at = int(np.flatnonzero(phs == a)[0])
    phs[at] = b
    sh[at] = pb.atoms.shift_index(float(pb.atoms.shifts[sh[at]]) / twin_ratios(pb)[(a, b)])
    g = pb.fit_point(i, phs, sh)
    sc, kept = pb.fit_cost(i, phs, g)
    state.set_fit(i, phs, sh, state.width[i, js], g, sc, kept)
    before = state.copy()
    out = one_card_per_region(pb, state)
    holds = lambda s, c: ((s.phase == c) & s.present).any(1)  # noqa: E731
    # every connected piece of the points holding either card now holds one card only
    either = np.flatnonzero(holds(out, a) | holds(out, b))
    label = components(either, pb.edges, pb.n)
    for region in (either[label == c] for c in np.unique(label)):
        assert not (holds(out, a)[region].any() and holds(out, b)[region].any())
    # the data at the other points are the true card's: the swapped point goes back to it
    assert holds(out, a)[i] and not holds(out, b)[i]
    assert not holds(out, b).any()
    # points that held neither card are untouched
    other = ~(holds(before, a) | holds(before, b))
    assert np.array_equal(out.phase[other], before.phase[other])
    assert any(h.get("stage") == "one card per region" for h in pb.history)


def test_twin_regions_run_after_the_search_and_after_the_repairs(problem):
    ds, _ = problem
    on = PhaseMapper(device="cpu", rounds=1, confidence=False).fit(ds.library, ds.phases, mask=ds.mask)
    off = PhaseMapper(device="cpu", rounds=1, confidence=False, twin_regions=False).fit(
        ds.library, ds.phases, mask=ds.mask
    )
    stages = [h.get("stage") for h in on.history_]
    assert stages.count("one card per region") == 2
    # the second pass follows the soft repairs and precedes the exact rules
    first, second = (k for k, s in enumerate(stages) if s == "one card per region")
    assert "grow" in stages[first:second] and "regions" in stages[first:second]
    assert "island pruning" in stages[second:] and "island pruning" not in stages[:second]
    assert "one card per region" not in [h.get("stage") for h in off.history_]
