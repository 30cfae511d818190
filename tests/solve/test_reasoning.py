"""Reasoning across points: the library-wide pruning once more after the rules."""

from __future__ import annotations

import numpy as np

from drnets.solve._reasoning import prune_again

from .test_repairs import _searched


def test_a_phase_the_rules_left_nowhere_dominant_is_pruned_again():
    pb, state, own = _searched()
    keep = pb.allowed.copy()
    # the search's first round uses a weak phase or two: pruned once, as the rounds do
    state, keep = prune_again(pb, state, keep) or (state, keep)
    assert prune_again(pb, state, keep) is None  # now every phase used dominates somewhere
    # A candidate the answer does not use comes in at 5 % of four points: nowhere dominant.
    used = np.unique(state.phase[state.present])
    room = state.present.sum(1) < state.phase.shape[1]  # a slot free for one more member
    stray = next(p for p in range(pb.p_n) if p not in used and (pb.allowed[:, p] & room).sum() >= 4)
    pts = np.flatnonzero(pb.allowed[:, stray] & room)[:4]
    keep[pts, stray] = True  # allowed again (the first pruning may have removed it)
    for i in pts:
        js = np.flatnonzero(state.present[i])
        phases = np.append(state.phase[i, js], stray)
        centre = np.append(state.shift[i, js], own[1][i, stray] // pb.atoms.n_widths)
        g = pb.fit_point(i, phases, centre, (0,))
        g["height"][-1] = 0.05 / 0.95 * g["height"][:-1].sum()
        sc, _ = pb.fit_cost(i, phases, g)
        state.set_fit(i, phases, centre, np.append(state.width[i, js], 0), g, sc)
    assert (state.fractions(pb.p_n)[pts, stray] > 0.02).all()

    out = prune_again(pb, state, keep)
    assert out is not None
    after, kept = out
    assert not kept[:, stray].any()
    assert not (after.present & (after.phase == stray)).any()  # gone everywhere
    assert after.present[pts].any(1).all()  # the points re-solved, none left empty
