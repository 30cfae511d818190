"""How sure an answer is: alternative phase sets with their probabilities, and unexplained signal.

The probability of presence of each (point, phase) is a plain (N, P) array on the
:class:`~drnets.core.Solution`; the two richer parts live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Alternatives:
    """The best few phase sets of every point, with the probability that each is the true set.

    A set is the phases at or above the presence level (``CONFIDENCE_PRESENCE`` by default);
    probabilities are calibrated (see :mod:`drnets.solve`), and those of one point sum to 1
    at most (the rest is on sets not listed).

    Parameters
    ----------
    sets : ndarray of shape (N, R, K), int
        Phase indices (phase-library order) of each point's R best sets, -1 pads; a row of
        -1 only is the empty set where its probability is finite.
    probability : ndarray of shape (N, R)
        Their probabilities, best first; NaN where a point has fewer than R sets.
    chosen : ndarray of shape (N,)
        Probability of the answer's own set (its phases at or above the presence level).
    """

    sets: np.ndarray
    probability: np.ndarray
    chosen: np.ndarray

    def __post_init__(self) -> None:
        self.sets = np.asarray(self.sets, dtype=np.int64)
        self.probability = np.asarray(self.probability, dtype=float)
        self.chosen = np.asarray(self.chosen, dtype=float)
        if (
            self.sets.ndim != 3
            or self.probability.shape != self.sets.shape[:2]
            or self.chosen.shape != self.sets.shape[:1]
        ):
            raise ValueError("alternative arrays do not match: sets (N, R, K), probability (N, R), chosen (N,)")

    def at(self, i: int) -> list[tuple[tuple[int, ...], float]]:
        """Point i's sets (sorted phase indices) and probabilities, best first."""
        out = []
        for r in range(self.sets.shape[1]):
            p = self.probability[i, r]
            if np.isfinite(p):
                out.append((tuple(sorted(int(k) for k in self.sets[i, r] if k >= 0)), float(p)))
        return out


@dataclass(eq=False)
class Unexplained:
    """Signal that no candidate phase explains, per point and across the library.

    Parameters
    ----------
    flag : ndarray of shape (N,), bool
        Points whose answer leaves unexplained peaks above the flag level.
    score : ndarray of shape (N,)
        Height of the strongest unexplained peak, relative to the point's strongest modelled
        peak (0 where there is none).
    peaks : ndarray of shape (M, 3)
        Every unexplained peak: point index, position Q (nm⁻¹), height (relative as ``score``).
    candidates : list of dict
        Unknown-phase candidates: recurring unexplained peaks that move together over
        neighbouring points. Each has ``peaks`` (Q positions), ``heights``, ``points`` (where
        it appears) and, where a folder of extra structures was ranked, ``matches`` (list of
        ``{"label", "score"}``, best first).
    """

    flag: np.ndarray
    score: np.ndarray
    peaks: np.ndarray
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.flag = np.asarray(self.flag, dtype=bool)
        self.score = np.asarray(self.score, dtype=float)
        self.peaks = np.asarray(self.peaks, dtype=float).reshape(-1, 3)
        if self.score.shape != self.flag.shape:
            raise ValueError("unexplained flag and score do not match")

    def peaks_at(self, i: int) -> np.ndarray:
        """(m, 2): Q position and height of point i's unexplained peaks, by Q."""
        rows = self.peaks[self.peaks[:, 0] == i][:, 1:]
        return rows[np.argsort(rows[:, 0])]
