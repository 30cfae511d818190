"""Local moves in set space: each point's answer improved by one phase less, more or swapped.

The subset search ranks its subsets with each candidate at the shift that explains the
pattern best on its own, which is the wrong shift wherever phases overlap, and it gives
the final fit to only the best few. On the panel's tuning libraries, at about two thirds of
the wrong points the truth's own set cost less than the answer under the search's own
final-fit cost (``benchmarks/diagnose.py``): the search had not reached it. Polishing walks
from the answer: one member less; one allowed phase more, at the grid shift and width that
best explain what the answer leaves; one member swapped for a phase at the shift that best
explains what the others leave. Every removal and the ``polish_moves`` best added and
swapped phases by explained energy get the final fit and are costed as the search costs
them (residual, per-phase costs with the neighbours' discount, shift prior, soft
composition rule); the cheapest is taken where it lowers the point's cost, and a point
that moved is polished again, up to ``polish`` moves.
"""

from __future__ import annotations

import numpy as np

from ._cost import neighbour_weights
from ._problem import Problem
from ._screen import best_combos
from ._state import State


def _residual_rows(pb: Problem, state: State, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each point's answer leaves (row 0 of the point) and that plus each member's part
    (row m + 1): rows (R, L), their point, and the index of each point's first row."""
    atoms = pb.atoms
    rows, owner, first = [], [], np.zeros(pb.n, dtype=np.int64)
    for i in points:
        js = np.flatnonzero(state.present[i])
        r0 = pb.xraw[i] - state.rec[i] - state.bg[i]
        first[i] = len(rows)
        rows.append(r0)
        owner.append(i)
        if js.size:
            s_idx = np.array(
                [
                    atoms.shift_index(float(v)) if np.isfinite(v) else int(c)
                    for v, c in zip(state.shift_val[i, js], state.shift[i, js])
                ],
                dtype=np.int64,
            )
            prof = atoms.profiles(pb.rows_of(i, state.phase[i, js]), s_idx, state.width[i, js]).cpu().numpy()
            for m in range(js.size):
                rows.append(r0 + state.coef[i, js[m]] * prof[m])
                owner.append(i)
    return np.asarray(rows), np.asarray(owner, dtype=np.int64), first


def _fits_limits(pb: Problem, i: int, ph: np.ndarray) -> bool:
    return ph.size <= pb.search_limits[i] and int((~pb.substrate[ph]).sum()) <= pb.limits[i]


def _trials(
    pb: Problem, state: State, i: int, energy: np.ndarray, combo: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Point i's moves: each member left out, the best phases added and swapped in (``energy``
    and ``combo``: the point's residual rows, see :func:`_residual_rows`)."""
    js = np.flatnonzero(state.present[i])
    ph, centre, wid = state.phase[i, js], state.shift[i, js], state.width[i, js]
    k, nw = ph.size, pb.atoms.n_widths
    out = []
    for m in range(k) if k > 1 else ():
        mask = np.arange(k) != m
        out.append((ph[mask], centre[mask], wid[mask]))
    for v in range(k + 1):  # v = 0: one phase more; v = m + 1: member m swapped
        mask = np.arange(k) != v - 1
        e = energy[v].copy()
        e[ph] = -1.0
        for c in np.argsort(-e, kind="stable")[: pb.params.polish_moves]:
            if e[c] <= 0:
                break
            new_ph = np.append(ph[mask], c)
            if _fits_limits(pb, i, new_ph):
                cb = int(combo[v, c])
                out.append((new_ph, np.append(centre[mask], cb // nw), np.append(wid[mask], cb % nw)))
    return out


def polish(pb: Problem, state: State, keep: np.ndarray) -> State:
    """Each point's answer improved by single moves (see the module) while they lower its cost.

    ``pb.params.polish`` bounds the moves per point (0: off), ``polish_moves`` the candidates
    per kind of move given the final fit. The neighbours' discount is the one ``state`` gives.
    """
    p = pb.params
    if p.polish <= 0:
        return state
    weight = neighbour_weights(pb, state.present_matrix(pb.p_n))
    new = state.copy()
    todo = np.flatnonzero(state.present.any(1))
    moved = np.zeros(pb.n, dtype=bool)
    for _ in range(p.polish):
        if todo.size == 0:
            break
        resid, owner, first = _residual_rows(pb, new, todo)
        energy, combo = best_combos(pb, resid, owner, np.arange(pb.p_n), keep[owner])
        again = []
        for i in todo:
            js = np.flatnonzero(new.present[i])
            ph = new.phase[i, js]
            cost, _ = pb.fit_cost(i, ph, pb.fit_point(i, ph, new.shift[i, js]), weight[i, ph])
            rows = slice(first[i], first[i] + js.size + 1)
            best = None
            for t_ph, t_centre, t_wid in _trials(pb, new, i, energy[rows], combo[rows]):
                g = pb.fit_point(i, t_ph, t_centre)
                t_cost, kj = pb.fit_cost(i, t_ph, g, weight[i, t_ph])
                if t_cost < cost and (best is None or t_cost < best[0]):
                    best = (t_cost, t_ph, t_centre, t_wid, g, kj)
            if best is not None:
                t_cost, t_ph, t_centre, t_wid, g, kj = best
                new.set_fit(i, t_ph, t_centre, t_wid, g, t_cost, kj)
                moved[i] = True
                again.append(i)
        todo = np.asarray(again, dtype=np.int64)
    pb.history.append({"stage": "polish", "points_changed": int(moved.sum())})
    return new
