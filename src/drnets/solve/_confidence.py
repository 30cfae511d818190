"""How sure the answer is: probabilities, alternative sets and unexplained signal, after the fit.

The stage that follows the answer (:meth:`PhaseMapper.fit <drnets.solve.PhaseMapper.fit>`):
the posterior over each point's competing sets (:mod:`._posterior`) through the calibration
map (:mod:`._calibration`), and the residual's unexplained peaks (:mod:`._unexplained`).
"""

from __future__ import annotations

import numpy as np

from ..core import Alternatives, Unexplained
from ._calibration import Calibration, calibrated_probabilities
from ._posterior import SetCosts, set_costs
from ._prepare import noise_variance
from ._problem import Problem
from ._state import State
from ._unexplained import held_peaks, unexplained_signal


def confidence(
    pb: Problem, state: State, fractions: np.ndarray, level: float, calibration: Calibration | None = None
) -> tuple[np.ndarray, Alternatives, Unexplained, SetCosts]:
    """Probabilities of presence (N, P), alternative sets and unexplained signal of an answer,
    and the competing sets' costs they come from (what the calibration is fitted on).

    Parameters
    ----------
    pb : Problem
    state : State
        The final answer (tidied).
    fractions : ndarray (N, P)
        Its fractions (the answer's set at a point: the phases at or above ``level``).
    level : float
        Presence level.
    calibration : Calibration, optional
        The map (default: the package's).
    """
    costs = set_costs(pb, state)
    fit = costs.answer
    probs, alts = calibrated_probabilities(costs, fractions >= level, level, calibration)
    held = [
        held_peaks(pb.atoms.sq, pb.atoms.si, np.flatnonzero(np.isfinite(row)), row[np.isfinite(row)])
        for row in fit.shift
    ]
    pattern = pb.xraw - fit.background
    unexp = unexplained_signal(pb.q, pattern, fit.model, np.sqrt(noise_variance(pattern)), pb.sigma, pb.edges, held)
    return probs, alts, unexp, costs
