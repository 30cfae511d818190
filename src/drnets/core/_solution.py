"""A phase-mapping solution: what is present where, how much, and how shifted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._confidence import Alternatives, Unexplained
from .constants import PHASE_THRESHOLD, WEAK_EVIDENCE


@dataclass(eq=False)
class Solution:
    """The answer for a library, aligned with the phase library it was solved with.

    Parameters
    ----------
    labels : list of str
        The P phase labels (same order as the phase library).
    fractions : ndarray of shape (N, P)
        Peak-height shares of max-normalised phase profiles; rows sum to 1 where any
        phase is present, 0 elsewhere.
    shifts : ndarray of shape (N, P)
        Multiplicative Q scale of each present phase; NaN where absent.
    amplitudes : ndarray of shape (N, P)
        Peak height of each phase's contribution in the pattern's units.
    widths : ndarray of shape (P, 2)
        Gaussian peak sigma in nm⁻¹ at the low and high ends of the Q grid (linear in Q).
    eta : float
        Lorentzian share of the pseudo-Voigt peaks the answer was fitted with (0: Gaussian).
    width_scale : ndarray of shape (N, P), optional
        Per-point multiplier of each phase's peak width (1 where absent or not fitted).
    reconstruction : ndarray of shape (N, L), optional
        The rendered mixture per point (phases plus background).
    background : ndarray of shape (N, L), optional
        The smooth background removed before the phases were fitted.
    residuals : ndarray of shape (N,), optional
        Relative L2 reconstruction error per point.
    evidence : ndarray of shape (N, P), optional
        What each present phase buys at each point: the rise of the point's squared
        residual when the phase is left out (the rest refitted), in units of the solver's
        cost of one phase; 0 where absent. Below 1 the data do not support the phase on
        their own (it is there because the neighbours or the rules put it there).
    max_phases : ndarray of shape (N,), optional
        The Gibbs limit used at each point.
    mask : ndarray of shape (N, P), optional
        The allowed-phase mask used.
    edges : ndarray of shape (E, 2), optional
        The composition graph used (point index pairs, i < j).
    weight_fractions : ndarray of shape (N, P), optional
        Weight fractions (mass shares) of the present phases, rows summing to 1, where the
        phases carry structures (Hill-Howard) or reference intensity ratios; None otherwise
        (``metadata["weight_fractions"]`` then says why).
    weight_fraction_errors : ndarray of shape (N, P), optional
        Their standard errors (0 where absent).
    probabilities : ndarray of shape (N, P), optional
        Calibrated probability that each phase is present at each point (true fraction at
        or above the presence level).
    alternatives : Alternatives, optional
        The best few phase sets per point with their probabilities.
    unexplained : Unexplained, optional
        Signal no candidate explains: per-point peaks, score and flag, unknown-phase candidates.
    audit : dict
        Rule audit of the final answer (see ``drnets.evaluate.audit``).
    metadata : dict
        Run facts: version, seed, device, wall time, inputs, parameters.
    """

    labels: list[str]
    fractions: np.ndarray
    shifts: np.ndarray
    amplitudes: np.ndarray
    widths: np.ndarray
    width_scale: np.ndarray | None = None
    eta: float = 0.0
    reconstruction: np.ndarray | None = None
    background: np.ndarray | None = None
    residuals: np.ndarray | None = None
    evidence: np.ndarray | None = None
    max_phases: np.ndarray | None = None
    mask: np.ndarray | None = None
    edges: np.ndarray | None = None
    weight_fractions: np.ndarray | None = None
    weight_fraction_errors: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    alternatives: Alternatives | None = None
    unexplained: Unexplained | None = None
    audit: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = [str(s) for s in self.labels]
        self.fractions = np.asarray(self.fractions, dtype=float)
        self.shifts = np.asarray(self.shifts, dtype=float)
        self.amplitudes = np.asarray(self.amplitudes, dtype=float)
        self.widths = np.asarray(self.widths, dtype=float).reshape(len(self.labels), 2)
        n, p = self.fractions.shape
        if p != len(self.labels) or self.shifts.shape != (n, p) or self.amplitudes.shape != (n, p):
            raise ValueError("solution arrays do not match the number of labels and points")

    @property
    def n_points(self) -> int:
        return self.fractions.shape[0]

    def present(self, threshold: float = PHASE_THRESHOLD) -> np.ndarray:
        """Boolean (N, P): phases whose fraction exceeds ``threshold``."""
        return self.fractions > threshold

    def weakly_supported(self) -> np.ndarray | None:
        """Boolean (N, P): present phases whose evidence is under ``WEAK_EVIDENCE``; None
        where the solution has no evidence."""
        if self.evidence is None:
            return None
        return self.present(0.0) & (np.asarray(self.evidence, dtype=float) < WEAK_EVIDENCE)

    def active(self, threshold: float = PHASE_THRESHOLD) -> np.ndarray:
        """Indices of the phases present at one point at least."""
        return np.flatnonzero(self.present(threshold).any(axis=0))
