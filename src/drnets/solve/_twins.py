"""Twin cards: two candidates of one compound that draw the same pattern at another lattice.

Candidate lists hold such pairs (an ICDD compound measured twice, a card and its look-alike
a few per cent apart in lattice). Together at one point the second card of the pair buys no
phase the first does not already hold: what it draws is the first's peak shape, texture or
an impurity's peaks near its own, and one phase cannot sit at two lattices in the solver's
model anyway. So each point keeps at most one card of a twin pair: the one with the larger
height, refitted without the other.
"""

from __future__ import annotations

import numpy as np

from ._problem import Problem
from ._state import State, refit

#: Correlation of two cards' profiles (the second at its tabulated lattice, the first at its
#: best grid shift) above which, with equal compositions, they are twins.
TWIN_CORRELATION = 0.9


def twin_pairs(pb: Problem) -> list[tuple[int, int]]:
    """Pairs (a, b), a < b, of non-substrate candidates with equal compositions whose profiles
    correlate above :data:`TWIN_CORRELATION` at some relative shift on the grid."""
    atoms, p_n = pb.atoms, pb.p_n
    comp = np.asarray(pb.phase_comp, dtype=float)[:p_n]
    norm = comp / np.maximum(comp.sum(1, keepdims=True), 1e-12)
    one = atoms.shift_index(1.0)
    shifts = np.arange(atoms.n_shifts)
    pairs = []
    for a in range(p_n):
        if pb.substrate[a] or not comp[a].any():
            continue
        same = [b for b in range(a + 1, p_n) if not pb.substrate[b] and np.allclose(norm[a], norm[b], atol=1e-6)]
        if not same:
            continue
        grid = atoms.profiles(np.full(shifts.size, a), shifts, np.zeros(shifts.size, int)).cpu().numpy()
        grid /= np.maximum(np.linalg.norm(grid, axis=1, keepdims=True), 1e-12)
        for b in same:
            ref = atoms.profiles(np.array([b]), np.array([one]), np.array([0])).cpu().numpy()[0]
            ref /= max(float(np.linalg.norm(ref)), 1e-12)
            if float((grid @ ref).max()) > TWIN_CORRELATION:
                pairs.append((a, b))
    return pairs


def one_card_per_compound(pb: Problem, state: State) -> State:
    """Each point keeps at most one card of each twin pair (the larger), refitted."""
    touched = set()
    for a, b in twin_pairs(pb):
        both = np.flatnonzero(((state.phase == a) & state.present).any(1) & ((state.phase == b) & state.present).any(1))
        for i in both:
            ja = int(np.flatnonzero(state.present[i] & (state.phase[i] == a))[0])
            jb = int(np.flatnonzero(state.present[i] & (state.phase[i] == b))[0])
            state.present[i, ja if state.coef[i, ja] < state.coef[i, jb] else jb] = False
            touched.add(int(i))
    if touched:
        refit(pb, state, np.array(sorted(touched)))
    pb.history.append({"stage": "one card per compound", "points_changed": len(touched)})
    return state
