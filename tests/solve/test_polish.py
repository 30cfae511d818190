"""Polishing: single moves in set space after a search round (solve/_polish.py)."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.solve import PhaseMapper
from drnets.solve._cost import neighbour_weights
from drnets.solve._params import Params
from drnets.solve._point_search import search
from drnets.solve._polish import polish
from drnets.solve._prepare import prepare
from drnets.solve._screen import round_pools, screen
from drnets.solve._state import State
from drnets.synth import generate


@pytest.fixture(scope="module")
def searched():
    """The easy preset (noise-free) after one search round, and its problem."""
    ds, truth = generate("easy", points=30, q_points=300, seed=1)
    pb = prepare(ds.library, ds.phases, Params(device="cpu", polish=2))
    keep = pb.allowed.copy()
    own = screen(pb, pb.x, keep)
    state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
    state = search(pb, np.arange(pb.n), round_pools(pb, state, False, keep, own, own), state)
    return ds, truth, pb, keep, state, own


def _point_costs(pb, state: State, weight: np.ndarray) -> np.ndarray:
    out = np.zeros(pb.n)
    for i in range(pb.n):
        js = np.flatnonzero(state.present[i])
        ph = state.phase[i, js]
        out[i] = pb.fit_cost(i, ph, pb.fit_point(i, ph, state.shift[i, js]), weight[i, ph])[0]
    return out


def _set(state: State, i: int) -> set[int]:
    return set(state.phase[i][state.present[i]].tolist())


def test_polish_never_raises_a_points_cost(searched):
    _, _, pb, keep, state, _ = searched
    weight = neighbour_weights(pb, state.present_matrix(pb.p_n))
    after = polish(pb, state, keep)
    assert np.all(_point_costs(pb, after, weight) <= _point_costs(pb, state, weight) + 1e-9)
    assert any(h.get("stage") == "polish" for h in pb.history)


def test_polish_undoes_a_wrong_swap_and_a_spurious_phase(searched):
    _, _, pb, keep, state, own = searched
    broken = state.copy()
    two = [i for i in range(pb.n) if len(_set(state, i)) == 2]
    one = [i for i in range(pb.n) if len(_set(state, i)) == 1]
    assert two and one
    # a member swapped for another allowed phase, at that phase's best shift for the pattern
    i = two[0]
    js = np.flatnonzero(state.present[i])
    wrong = next(p for p in np.flatnonzero(keep[i]) if p not in _set(state, i))
    ph = state.phase[i, js].copy()
    ph[0] = wrong
    g = pb.fit_point(i, ph, state.shift[i, js])
    broken.set_fit(i, ph, state.shift[i, js], state.width[i, js], g, np.inf)
    # a one-phase point given a second, spurious phase that takes some of the pattern
    j = one[0]
    js = np.flatnonzero(state.present[j])
    for extra in (p for p in np.flatnonzero(keep[j]) if p not in _set(state, j)):
        ph = np.append(state.phase[j, js], extra)
        centre = np.append(state.shift[j, js], own[1][j, extra] // pb.atoms.n_widths)
        g = pb.fit_point(j, ph, centre)
        if g["height"][-1] > 0:
            break
    assert g["height"][-1] > 0
    broken.set_fit(j, ph, centre, np.append(state.width[j, js], 0), g, np.inf)
    assert len(_set(broken, j)) == 2
    fixed = polish(pb, broken, keep)
    assert _set(fixed, i) == _set(state, i)
    assert _set(fixed, j) == _set(state, j)


def test_polish_off_leaves_the_answer_alone():
    ds, _ = generate("easy", points=12, q_points=200, seed=0)
    a = PhaseMapper(device="cpu", rounds=1, polish=0, confidence=False).fit(ds.library, ds.phases)
    assert not any(h.get("stage") == "polish" for h in a.history_)
    b = PhaseMapper(device="cpu", rounds=1, polish=1, confidence=False).fit(ds.library, ds.phases)
    assert any(h.get("stage") == "polish" for h in b.history_)
