"""The calibration map: from the posterior over phase sets to honest probabilities.

The map is data, fitted on generated libraries of the panel's tuning half by
``benchmarks/calibrate.py`` and kept in ``solve/data/calibration.json`` (its one home): a
temperature, an answer bonus and a misfit scaling for the set posterior
(:func:`~drnets.solve._posterior.set_posterior`), the share of true phases the competing sets
miss, and two monotone piecewise-linear maps, one for the probabilities of presence of single
phases and one for the probabilities of whole phase sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Alternatives
from ._posterior import SetCosts, present_sets, set_posterior

#: Where the fitted map lives.
CALIBRATION_FILE = Path(__file__).with_name("data") / "calibration.json"

#: Alternative sets kept per point.
ALTERNATIVES = 5


@dataclass(frozen=True)
class Calibration:
    """A fitted map: the posterior's parameters (see :func:`set_posterior`) and two monotone
    maps (knots ``x`` -> ``y``), for single phases and for whole sets.

    A phase in none of a point's competing sets gets ``missed`` (the true phases per point
    that the sets leave out, on the fitting libraries) shared among the point's other phases.
    The default is the bare posterior: temperature 1, no bonus, no misfit scaling, identity
    maps, nothing missed.
    """

    temperature: float = 1.0
    answer_bonus: float = 0.0
    misfit_reference: float = 1.0
    misfit_power: float = 0.0
    missed: float = 0.0
    presence: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0, 1.0), (0.0, 1.0))
    sets: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0, 1.0), (0.0, 1.0))
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def map_presence(self, p: np.ndarray) -> np.ndarray:
        return np.interp(p, *self.presence)

    def map_sets(self, p: np.ndarray) -> np.ndarray:
        return np.interp(p, *self.sets)

    def to_json(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "answer_bonus": self.answer_bonus,
            "misfit_reference": self.misfit_reference,
            "misfit_power": self.misfit_power,
            "missed": self.missed,
            "presence": {"x": list(self.presence[0]), "y": list(self.presence[1])},
            "sets": {"x": list(self.sets[0]), "y": list(self.sets[1])},
            "info": self.info,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Calibration:
        def knots(key: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
            k = d.get(key, {"x": [0.0, 1.0], "y": [0.0, 1.0]})
            return tuple(float(v) for v in k["x"]), tuple(float(v) for v in k["y"])

        return cls(
            float(d.get("temperature", 1.0)),
            float(d.get("answer_bonus", 0.0)),
            float(d.get("misfit_reference", 1.0)),
            float(d.get("misfit_power", 0.0)),
            float(d.get("missed", 0.0)),
            knots("presence"),
            knots("sets"),
            dict(d.get("info", {})),
        )

    def posterior(self, costs: SetCosts) -> np.ndarray:
        """(N, R) the set posterior under this map's parameters."""
        return set_posterior(costs, self.temperature, self.answer_bonus, self.misfit_reference, self.misfit_power)


IDENTITY = Calibration()


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    """The package's fitted map (the identity where the file is missing)."""
    if not CALIBRATION_FILE.is_file():
        return IDENTITY
    return Calibration.from_json(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))


def in_play(costs: SetCosts, chosen: np.ndarray) -> np.ndarray:
    """(N, P) bool: the phases of each point's answer or of one of its competing sets."""
    out = np.asarray(chosen, dtype=bool).copy()
    finite = np.isfinite(costs.cost)
    for r in range(costs.members.shape[1]):
        for k in range(costs.members.shape[2]):
            v = costs.members[:, r, k]
            ok = (v >= 0) & finite[:, r]
            out[np.flatnonzero(ok), v[ok]] = True
    return out


def raw_probabilities(
    costs: SetCosts, chosen: np.ndarray, level: float, calibration: Calibration, p_n: int
) -> tuple[np.ndarray, list[list[tuple[tuple[int, ...], float]]], np.ndarray]:
    """The posterior before the monotone maps.

    Parameters
    ----------
    costs : SetCosts
    chosen : ndarray (N, P) bool
        The answer's phases at or above ``level`` (row 0 of each point is the answer).
    level : float
        Presence level (share of the set's peak heights).
    calibration : Calibration
        Its posterior parameters are used (not its maps).
    p_n : int
        Number of candidate phases.

    Returns
    -------
    presence : ndarray (N, P)
        Probability that each phase is present.
    sets : list of list of (phase tuple, probability)
        Per point, the distinct sets (members at or above ``level``), best first.
    chosen_p : ndarray (N,)
        Probability of the answer's set.
    """
    post = calibration.posterior(costs)
    keys = present_sets(costs, level)
    n = post.shape[0]
    presence = np.zeros((n, p_n))
    out: list[list[tuple[tuple[int, ...], float]]] = []
    chosen_p = np.zeros(n)
    for i in range(n):
        grouped: dict[tuple[int, ...], float] = {}
        for r in np.flatnonzero(np.isfinite(costs.cost[i])):
            key = (
                tuple(int(k) for k in np.flatnonzero(chosen[i]))
                if r == 0
                else tuple(int(k) for k in keys[i, r] if k >= 0)
            )
            grouped[key] = grouped.get(key, 0.0) + float(post[i, r])
        for key, p in grouped.items():
            presence[i, list(key)] += p
        ranked = sorted(grouped.items(), key=lambda kv: -kv[1])
        out.append(ranked)
        chosen_p[i] = grouped.get(tuple(int(k) for k in np.flatnonzero(chosen[i])), 0.0)
    return np.clip(presence, 0.0, 1.0), out, chosen_p


def calibrated_probabilities(
    costs: SetCosts, chosen: np.ndarray, level: float, calibration: Calibration | None = None
) -> tuple[np.ndarray, Alternatives]:
    """Probabilities of presence and the alternative sets, through the calibration map.

    Parameters
    ----------
    costs : SetCosts
        Each point's competing sets (:attr:`PhaseMapper.set_costs_ <drnets.solve.PhaseMapper>`).
    chosen : ndarray (N, P) bool
        The answer's phases at or above ``level``.
    level : float
        Presence level.
    calibration : Calibration, optional
        Default: the package's fitted map; ``Calibration()`` is the bare posterior at temperature 1.

    Returns
    -------
    presence : ndarray (N, P)
    alternatives : Alternatives
    """
    cal = default_calibration() if calibration is None else calibration
    p_n = chosen.shape[1]
    presence, sets, chosen_p = raw_probabilities(costs, chosen, level, cal, p_n)
    n = presence.shape[0]
    k = max(1, max((len(s) for row in sets for s, _ in row[:ALTERNATIVES]), default=1))
    members = np.full((n, ALTERNATIVES, k), -1, dtype=np.int64)
    prob = np.full((n, ALTERNATIVES), np.nan)
    for i, row in enumerate(sets):
        top = row[:ALTERNATIVES]
        p = cal.map_sets(np.array([v for _, v in top]))
        if p.sum() > 1:
            p = p / p.sum()
        for r, (s, _) in enumerate(top):
            members[i, r, : len(s)] = s
            prob[i, r] = p[r]
    chosen_cal = cal.map_sets(chosen_p)
    # The answer's own set, where listed, carries the same number in both places.
    for i, row in enumerate(sets):
        key = tuple(int(k) for k in np.flatnonzero(chosen[i]))
        for r, (s, _) in enumerate(row[:ALTERNATIVES]):
            if s == key:
                chosen_cal[i] = prob[i, r]
    play = in_play(costs, chosen)
    rest = np.broadcast_to(cal.missed / np.maximum((~play).sum(1, keepdims=True), 1), play.shape)
    return np.where(play, cal.map_presence(presence), rest), Alternatives(members, prob, chosen_cal)
