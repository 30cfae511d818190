"""What a phase costs: revised per-phase costs and the neighbours' discount.

The cost of a point's answer is its residual plus, for each phase, the point's per-phase
cost (:attr:`Problem.pen`) times a weight, plus the shift prior (:meth:`Problem.cost`).
This module holds the two revisions of that cost that reasoning makes: the misfit's scale
where the model, not the noise, limits the fit, and a discount where the neighbours hold
the phase.
"""

from __future__ import annotations

import numpy as np

from ._prepare import noise_variance
from ._problem import Problem
from ._state import State

#: Residual variance over noise variance above which the misfit, not the noise, sets the cost.
MISFIT_OVER_NOISE = 4.0


def misfit_scaled(pb: Problem, state: State) -> np.ndarray:
    """Per-phase cost on the misfit's scale where the model, not the noise, limits the fit.

    Information-criterion reasoning with the variance taken from the fit: where the first
    round leaves much of the signal unexplained (median relative residual above
    ``misfit_level``) and that residual is well above the noise (texture, peak shapes,
    phases outside the candidates in real data), a phase must buy ``misfit_penalty`` times
    the point's residual variance to be believed. Noise-limited or well-explained libraries
    keep the noise-based cost.
    """
    resid = pb.xraw - state.rec - state.bg
    rss = (resid * resid).sum(1)
    rel = np.sqrt(rss / np.maximum((pb.xraw * pb.xraw).sum(1), 1e-30))
    var = rss / resid.shape[1]
    over_noise = np.median(var / np.maximum(noise_variance(pb.xn), 1e-30))
    on = bool(np.median(rel) > pb.params.misfit_level and over_noise > MISFIT_OVER_NOISE)
    pb.history.append(
        {
            "stage": "misfit scale",
            "median_relative_residual": round(float(np.median(rel)), 4),
            "misfit_over_noise": round(float(over_noise), 2),
            "applied": on,
        }
    )
    return np.maximum(pb.pen, pb.params.misfit_penalty * var) if on else pb.pen


def neighbour_share(pb: Problem, state: State, i: int, phases: np.ndarray) -> np.ndarray:
    """Share of point i's neighbours that hold each of ``phases`` (0 without neighbours)."""
    nb = pb.nbrs[i]
    held = [set(state.phase[j][state.present[j]].tolist()) for j in nb]
    return np.array([sum(int(p) in h for h in held) / max(len(held), 1) for p in phases], dtype=float)


def penalty_weights(pb: Problem, pts: np.ndarray, ph: np.ndarray, valid: np.ndarray, state: State) -> np.ndarray:
    """Cost multiplier of each pool member: cheaper where the neighbours hold the phase.

    Phase regions are connected, so a phase all the neighbours hold is a priori likely;
    this is what lets a minor phase continue to the edge of its region.
    """
    w = np.ones(ph.shape)
    if pb.params.neighbour_discount <= 0 or not state.present.any():
        return w
    for r, i in enumerate(pts):
        if len(pb.nbrs[i]) == 0:
            continue
        cols = np.flatnonzero(valid[r])
        w[r, cols] = 1.0 - pb.params.neighbour_discount * neighbour_share(pb, state, i, ph[r, cols])
    return w


def neighbour_weights(pb: Problem, present: np.ndarray) -> np.ndarray:
    """(N, P) cost multiplier of each phase at each point given who holds what (``present``):
    the neighbours' discount of :func:`penalty_weights`, for every phase at once."""
    share = np.zeros(present.shape)
    for i, nb in enumerate(pb.nbrs):
        if len(nb):
            share[i] = present[np.asarray(nb)].mean(0)
    return 1.0 - pb.params.neighbour_discount * share
