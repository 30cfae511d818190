"""How honest probabilities are: reliability bins, expected calibration error, an isotonic fit.

Used to judge an answer's probabilities against a truth (``drnets evaluate``, the report's
reliability diagram) and, by ``benchmarks/calibrate.py``, to fit the solver's calibration map.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Equal-width probability bins of the reliability table and the calibration error.
CALIBRATION_BINS = 10


def reliability(prob: np.ndarray, outcome: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Reliability table of probabilities against what happened.

    Parameters
    ----------
    prob : array-like
        Predicted probabilities (any shape; flattened).
    outcome : array-like of bool
        Whether the event happened (same shape).
    bins : int
        Equal-width bins over [0, 1].

    Returns
    -------
    dict
        ``edges`` (bins + 1), and per bin ``count``, ``mean_prob`` and ``frequency`` (NaN for an
        empty bin); ``ece``: the count-weighted mean of |frequency - mean_prob| (expected
        calibration error); ``pairs``: the number of probabilities.
    """
    p = np.clip(np.asarray(prob, dtype=float).ravel(), 0.0, 1.0)
    y = np.asarray(outcome, dtype=bool).ravel()
    if p.shape != y.shape:
        raise ValueError("probabilities and outcomes differ in size")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    psum = np.bincount(which, weights=p, minlength=bins)
    ysum = np.bincount(which, weights=y.astype(float), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_prob = np.where(count > 0, psum / count, np.nan)
        freq = np.where(count > 0, ysum / count, np.nan)
    ok = count > 0
    ece = float((count[ok] * np.abs(freq[ok] - mean_prob[ok])).sum() / max(p.size, 1))
    return {
        "edges": edges.tolist(),
        "count": count.tolist(),
        "mean_prob": mean_prob.tolist(),
        "frequency": freq.tolist(),
        "ece": ece,
        "pairs": int(p.size),
    }


def calibration_error(prob: np.ndarray, outcome: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error over ``bins`` equal-width bins (see :func:`reliability`)."""
    return reliability(prob, outcome, bins)["ece"]


def isotonic_fit(prob: np.ndarray, outcome: np.ndarray, knots: int = 50) -> tuple[list[float], list[float]]:
    """A monotone non-decreasing map from probabilities to observed frequencies.

    Pool-adjacent-violators on the sorted probabilities, then read off at ``knots`` quantiles
    (and 0 and 1) so that the map is a short piecewise-linear table.

    Returns
    -------
    x, y : list of float
        Knots, ascending in ``x``, with ``y`` non-decreasing in [0, 1].
    """
    p = np.asarray(prob, dtype=float).ravel()
    y = np.asarray(outcome, dtype=float).ravel()
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    # Pool adjacent violators: blocks of (sum, count), merged while the means decrease.
    sums: list[float] = []
    counts: list[float] = []
    ends: list[int] = []
    for k, v in enumerate(y):
        sums.append(float(v))
        counts.append(1.0)
        ends.append(k)
        while len(sums) > 1 and sums[-2] / counts[-2] >= sums[-1] / counts[-1]:
            s, c, e = sums.pop(), counts.pop(), ends.pop()
            sums[-1] += s
            counts[-1] += c
            ends[-1] = e
    fitted = np.empty(p.size)
    start = 0
    for s, c, e in zip(sums, counts, ends):
        fitted[start : e + 1] = s / c
        start = e + 1
    qs = np.unique(np.quantile(p, np.linspace(0, 1, knots))) if p.size else np.zeros(0)
    xs = np.unique(np.concatenate([[0.0], qs, [1.0]]))
    ys = np.interp(xs, p, fitted) if p.size else xs
    ys = np.maximum.accumulate(np.clip(ys, 0.0, 1.0))
    xs, ys = np.round(xs, 6), np.round(ys, 6)
    keep = np.append(xs[1:] > xs[:-1], True)  # one knot per x (the last: y never decreases)
    return [float(v) for v in xs[keep]], [float(v) for v in ys[keep]]
