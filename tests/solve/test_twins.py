"""Twin cards (solve/_twins.py): one card of a compound per point."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.solve import PhaseMapper
from drnets.solve._params import Params
from drnets.solve._prepare import prepare
from drnets.solve._state import State
from drnets.solve._twins import one_card_per_compound, twin_pairs
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
