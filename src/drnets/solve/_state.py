"""The search's state: each point's current answer, and its refit."""

from __future__ import annotations

import numpy as np

from ._problem import Problem


class State:
    """Each point's current answer: up to ``k`` (phase, shift index, width index, amplitude)."""

    FIELDS = ("phase", "shift", "width", "coef", "present", "score", "shift_val", "width_val", "rec", "bg")

    phase: np.ndarray  # (N, k) phase index of each slot
    shift: np.ndarray  # (N, k) shift-grid index of the slot's centre
    width: np.ndarray  # (N, k) width-grid index
    coef: np.ndarray  # (N, k) peak height (normalised pattern units)
    present: np.ndarray  # (N, k) bool, the slot is in use
    score: np.ndarray  # (N,) fit plus costs of the point's answer
    shift_val: np.ndarray  # (N, k) fitted multiplicative shift
    width_val: np.ndarray  # (N, k) fitted width multiplier
    rec: np.ndarray  # (N, L) reconstruction by the phases
    bg: np.ndarray  # (N, L) fitted background

    def __init__(self, **arrays: np.ndarray) -> None:
        for name in self.FIELDS:
            setattr(self, name, arrays[name])

    @classmethod
    def empty(cls, n: int, k: int, n_q: int) -> State:
        z = np.zeros((n, k), dtype=np.int64)
        return cls(
            phase=z.copy(),
            shift=z.copy(),
            width=z.copy(),
            coef=np.zeros((n, k)),
            present=np.zeros((n, k), dtype=bool),
            score=np.full(n, np.inf),
            shift_val=np.ones((n, k)),
            width_val=np.ones((n, k)),
            rec=np.zeros((n, n_q)),
            bg=np.zeros((n, n_q)),
        )

    def copy(self) -> State:
        return State(**{name: getattr(self, name).copy() for name in self.FIELDS})

    def set(
        self,
        i: int,
        phase: np.ndarray,
        shift: np.ndarray,
        width: np.ndarray,
        height: np.ndarray,
        score: float,
        shift_val: np.ndarray,
        width_val: np.ndarray,
        rec: np.ndarray,
        bg: np.ndarray | None = None,
    ) -> None:
        """Point i's answer: its phases (centre shift and width indices), peak heights and fit."""
        k = min(self.phase.shape[1], len(phase))
        self.present[i] = False
        self.coef[i] = 0.0
        self.phase[i, :k], self.shift[i, :k], self.width[i, :k] = phase[:k], shift[:k], width[:k]
        self.coef[i, :k] = height[:k]
        self.shift_val[i, :k], self.width_val[i, :k] = shift_val[:k], width_val[:k]
        self.present[i, :k] = True
        self.score[i] = score
        self.rec[i] = rec
        self.bg[i] = 0.0 if bg is None else bg

    def set_fit(
        self,
        i: int,
        phase: np.ndarray,
        shift: np.ndarray,
        width: np.ndarray,
        fit: dict,
        score: float,
        keep: np.ndarray | None = None,
    ) -> None:
        """Point i's answer from a :func:`group_fit` of ``phase`` (centred at grid indices
        ``shift``, ``width``); ``keep`` selects the members that stay (all by default)."""
        k = slice(None) if keep is None else keep
        self.set(
            i,
            phase[k],
            shift[k],
            width[k],
            fit["height"][k],
            score,
            fit["shift"][k],
            fit["width"][k],
            fit["recon"],
            fit["background"],
        )

    def copy_point(self, other: State, i: int) -> None:
        for name in self.FIELDS:
            getattr(self, name)[i] = getattr(other, name)[i]

    def fractions(self, p_n: int) -> np.ndarray:
        amp = np.zeros((self.phase.shape[0], p_n))
        rows, cols = np.nonzero(self.present)
        np.add.at(amp, (rows, self.phase[rows, cols]), self.coef[rows, cols])
        tot = amp.sum(1, keepdims=True)
        return np.divide(amp, tot, out=np.zeros_like(amp), where=tot > 0)

    def present_matrix(self, p_n: int) -> np.ndarray:
        """Boolean (N, P): which phases each point holds."""
        out = np.zeros((self.phase.shape[0], p_n), dtype=bool)
        rows, cols = np.nonzero(self.present)
        out[rows, self.phase[rows, cols]] = True
        return out

    def key(self) -> bytes:
        """The phase sets of every point, as bytes (equal answers have equal keys)."""
        return np.sort(np.where(self.present, self.phase, -1), axis=1).tobytes()


def refit(pb: Problem, state: State, points: np.ndarray) -> None:
    """Refit the given points with the phases they still hold (after some were dropped)."""
    for i in points:
        js = np.flatnonzero(state.present[i])
        if js.size == 0:
            state.coef[i] = 0.0
            state.rec[i] = 0.0
            continue
        g = pb.fit_point(i, state.phase[i, js], state.shift[i, js])
        sc, kj = pb.fit_cost(i, state.phase[i, js], g)
        state.set_fit(i, state.phase[i, js], state.shift[i, js], state.width[i, js], g, sc, kj)
