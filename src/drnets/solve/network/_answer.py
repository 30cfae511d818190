"""From the network's latent space to the solver's state: the phases each point keeps, refitted.

A candidate stays where its fraction reaches ``net_cutoff``, the largest first, at most the
point's Gibbs limit (substrates aside); each point is then refitted with the package's
profile-family fit (:meth:`~drnets.solve._problem.Problem.fit_point`) centred on the network's shifts
and widths, which gives the exact peak heights, shifts and background the answer reports.
"""

from __future__ import annotations

import numpy as np

from .._problem import Problem
from .._state import State
from ._train import Latent


def latent_to_state(pb: Problem, lat: Latent) -> State:
    """A :class:`~drnets.solve._state.State` holding the network's phase sets, refitted."""
    atoms, p = pb.atoms, pb.params
    widths = np.asarray(atoms.widths)
    state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
    for i in range(pb.n):
        f = np.where(lat.valid[i], lat.frac[i], 0.0)
        order = [j for j in np.argsort(-f, kind="stable") if f[j] >= p.net_cutoff]
        if not order:  # every point shows something: its largest candidate
            order = [int(np.argmax(f))]
        order = order[: int(pb.search_limits[i])]
        phs = lat.cand[i, order]
        s_idx = np.array([atoms.shift_index(float(v)) for v in lat.shift[i, order]], dtype=np.int64)
        w_idx = np.array([int(np.argmin(np.abs(widths - v))) for v in lat.width[i, order]], dtype=np.int64)
        g = pb.fit_point(i, phs, s_idx)
        sc, kj = pb.fit_cost(i, phs, g)
        if not kj.any():
            continue
        state.set_fit(i, phs, s_idx, w_idx, g, sc, kj)
    return state
