"""Twin cards: two candidates of one compound that draw the same pattern at another lattice.

Candidate lists hold such pairs (an ICDD compound measured twice, a card and its look-alike
a few per cent apart in lattice). Together at one point the second card of the pair buys no
phase the first does not already hold: what it draws is the first's peak shape, texture or
an impurity's peaks near its own, and one phase cannot sit at two lattices in the solver's
model anyway. So each point keeps at most one card of a twin pair: the one with the larger
height, refitted without the other (:func:`one_card_per_compound`, ``one_card``).

Apart, at neighbouring points, the two cards split one solid solution: each point takes the
card whose lattice lies nearer its own, although one phase runs through the region. So
within each connected region of points holding either card, every point takes the card
whose use throughout costs the region less (:func:`one_card_per_region`, ``twin_regions``).
"""

from __future__ import annotations

import numpy as np

from ..structure import components
from ._problem import Problem
from ._state import State, refit

#: Correlation of two cards' profiles (the second at its tabulated lattice, the first at its
#: best grid shift) above which, with equal compositions, they are twins.
TWIN_CORRELATION = 0.9


def twin_ratios(pb: Problem) -> dict[tuple[int, int], float]:
    """Pairs (a, b), a < b, of non-substrate candidates with equal compositions whose profiles
    correlate above :data:`TWIN_CORRELATION` at some relative shift on the grid, each with that
    shift: ``b`` at its tabulated lattice draws what ``a`` draws at this multiplicative shift."""
    atoms, p_n = pb.atoms, pb.p_n
    comp = np.asarray(pb.phase_comp, dtype=float)[:p_n]
    norm = comp / np.maximum(comp.sum(1, keepdims=True), 1e-12)
    one = atoms.shift_index(1.0)
    shifts = np.arange(atoms.n_shifts)
    pairs: dict[tuple[int, int], float] = {}
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
            corr = grid @ ref
            if float(corr.max()) > TWIN_CORRELATION:
                pairs[(a, b)] = float(atoms.shifts[int(corr.argmax())])
    return pairs


def twin_pairs(pb: Problem) -> list[tuple[int, int]]:
    """The twin pairs of :func:`twin_ratios`, without their shifts."""
    return list(twin_ratios(pb))


def one_card_per_compound(pb: Problem, state: State, pairs: list[tuple[int, int]] | None = None) -> State:
    """Each point keeps at most one card of each twin pair (the larger), refitted; ``pairs``:
    :func:`twin_pairs`, if already known."""
    touched = set()
    for a, b in twin_pairs(pb) if pairs is None else pairs:
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


def _with_card(pb: Problem, state: State, i: int, keep: int, drop: int, ratio: float) -> tuple[float, tuple | None]:
    """Point i's cost with card ``drop`` replaced by ``keep`` (dropped where it holds both; the
    kept card at ``ratio`` times the dropped card's shift), and the fit that gives it;
    (current cost, None) where it does not hold ``drop``."""
    js = np.flatnonzero(state.present[i])
    phs, sh, wd = state.phase[i, js], state.shift[i, js], state.width[i, js]
    if drop not in phs:
        return pb.fit_cost(i, phs, pb.fit_point(i, phs, sh))[0], None
    at = int(np.flatnonzero(phs == drop)[0])
    if keep in phs:
        tries = [(np.delete(phs, at), np.delete(sh, at), np.delete(wd, at))]
    else:
        # the kept card at the grid shift that draws the dropped card's lattice, and one step either side
        centre = pb.atoms.shift_index(float(pb.atoms.shifts[sh[at]]) * ratio)
        tries = []
        for s in (centre - 1, centre, centre + 1):
            if 0 <= s < pb.atoms.n_shifts:
                p2, s2 = phs.copy(), sh.copy()
                p2[at], s2[at] = keep, s
                tries.append((p2, s2, wd))
    best: tuple[float, tuple | None] = (np.inf, None)
    for p2, s2, w2 in tries:
        g = pb.fit_point(i, p2, s2)
        sc, kept = pb.fit_cost(i, p2, g)
        if sc < best[0]:
            best = (sc, (p2, s2, w2, g, sc, kept))
    return best


def one_card_per_region(pb: Problem, state: State, ratios: dict[tuple[int, int], float] | None = None) -> State:
    """Within each connected region of points that hold either card of a twin pair, and hold
    both cards somewhere, every point takes the card whose use throughout costs the region
    less; ``ratios``: :func:`twin_ratios`, if already known."""
    changed = 0
    for (a, b), r in (twin_ratios(pb) if ratios is None else ratios).items():
        holds_a = ((state.phase == a) & state.present).any(1)
        holds_b = ((state.phase == b) & state.present).any(1)
        either = np.flatnonzero(holds_a | holds_b)
        label = components(either, pb.edges, pb.n)
        for region in (either[label == c] for c in np.unique(label)):
            if not (holds_a[region].any() and holds_b[region].any()):
                continue
            # a at shift v draws what b draws at v / r
            options = [
                [_with_card(pb, state, int(i), keep, drop, ratio) for i in region]
                for keep, drop, ratio in ((a, b, r), (b, a, 1.0 / r))
            ]
            totals = [sum(c for c, _ in o) for o in options]
            for i, (_, fit) in zip(region, options[int(np.argmin(totals))]):
                if fit is not None:
                    phs, sh, wd, g, sc, kept = fit
                    state.set_fit(int(i), phs, sh, wd, g, sc, kept)
                    changed += 1
    pb.history.append({"stage": "one card per region", "points_changed": changed})
    return state
