"""Comparing an answer with a truth (phase sets, fractions, shifts) and reconstruction errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError
from ..core.constants import COMPARISON_THRESHOLDS, GROSS_HIGH, GROSS_LOW
from ..io import PhaseTable, read_phase_table, read_solution_dir


def as_phase_table(obj: Any, *, shifts: bool = False) -> PhaseTable:
    """Coerce a fractions-like object to a :class:`PhaseTable`.

    Accepts a PhaseTable, a path to a CSV, a directory holding ``fractions.csv`` (or
    ``shifts.csv`` with ``shifts=True``), a :class:`~drnets.core.Solution`, a mapping of label
    to column (points 0..N-1), or a pandas DataFrame (a ``point`` column or the index as points).
    """
    from ..core import Solution

    if isinstance(obj, PhaseTable):
        return obj
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if not p.is_dir():
            return read_phase_table(p)
        folder = read_solution_dir(p)
        table = folder.shifts if shifts else folder.fractions
        if table is None:
            raise InputError(f"the folder holds no {'shifts' if shifts else 'fractions'}.csv", source=str(p))
        return table
    if isinstance(obj, Solution):
        vals = obj.shifts if shifts else obj.fractions
        return PhaseTable(np.arange(obj.n_points), obj.labels, vals)
    if hasattr(obj, "columns") and hasattr(obj, "to_numpy"):  # pandas DataFrame
        cols = [str(c) for c in obj.columns]
        if "point" in cols:
            pts = np.asarray(obj["point"]).astype(int)
            labels = [c for c in cols if c != "point"]
            vals = (
                np.column_stack([np.asarray(obj[c], dtype=float) for c in labels])
                if labels
                else np.zeros((len(pts), 0))
            )
        else:
            pts = np.asarray(obj.index).astype(int)
            labels = cols
            vals = obj.to_numpy(dtype=float)
        return PhaseTable(pts, labels, vals)
    if isinstance(obj, Mapping):
        labels = [str(k) for k in obj if str(k) != "point"]
        cols = [np.asarray(obj[k], dtype=float).ravel() for k in obj if str(k) != "point"]
        n = cols[0].size if cols else 0
        pts = np.asarray(obj["point"], dtype=int) if "point" in obj else np.arange(n)
        return PhaseTable(pts, labels, np.column_stack(cols) if cols else np.zeros((n, 0)))
    raise TypeError(f"cannot read phase fractions from {type(obj).__name__}")


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (a & b).sum(axis=1)
    union = (a | b).sum(axis=1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def compare(
    fractions: Any,
    truth: Any,
    thresholds: Sequence[float] = COMPARISON_THRESHOLDS,
    *,
    shifts: Any | None = None,
    truth_shifts: Any | None = None,
) -> dict[str, Any]:
    """Compare predicted phase fractions with a truth, matching phases by label.

    A phase a table lacks counts as 0 at every point. Points are matched by index; only
    points in both tables are compared. A phase is present where its value exceeds the
    threshold (applied to both sides, so binary 0/1 phase sets compare as sets).

    Parameters
    ----------
    fractions, truth : fractions-like
        Anything :func:`as_phase_table` accepts.
    thresholds : sequence of float
        Presence thresholds to report at.
    shifts, truth_shifts : shifts-like, optional
        Multiplicative shifts; where both are given the shift error is reported over
        (point, phase) pairs present in both (at the smallest threshold) with finite shifts.

    Returns
    -------
    dict
        ``points``, ``labels`` (union, truth's first), ``fraction_l1`` (sum over phases,
        mean over points), ``fraction_l1_per_point``; ``gross_error_share`` and
        ``gross_error_points`` (points where some phase is above ``GROSS_HIGH`` on one side
        and under ``GROSS_LOW`` on the other, see :mod:`drnets.core.constants`);
        ``by_threshold``: one entry per
        threshold with ``exact_match`` (share of points whose phase sets agree),
        ``mean_jaccard``, ``exact_match_points``, ``mismatched_points``, ``per_phase``
        (true/predicted/both counts, precision, recall per label) and ``confusion``
        (``{true_label: {predicted_label: count}}``: at points where the true phase is
        missed, the predicted phases that are not in the truth; ``"(none)"`` when nothing
        replaces it); and ``shift`` (``pairs``, ``mae``, ``max_abs``, ``mean_rel``)
        when shifts were given.
    """
    pred = as_phase_table(fractions)
    true = as_phase_table(truth)
    points = np.array(sorted(set(pred.points.tolist()) & set(true.points.tolist())), dtype=int)
    if points.size == 0:
        raise InputError("the prediction and the truth share no points")
    labels = list(true.labels) + [lbl for lbl in pred.labels if lbl not in true.labels]
    P = pred.aligned(points, labels)
    T = true.aligned(points, labels)
    P = np.nan_to_num(P, nan=0.0)
    T = np.nan_to_num(T, nan=0.0)
    l1 = np.abs(P - T).sum(axis=1)
    gross = (((P > GROSS_HIGH) & (T < GROSS_LOW)) | ((T > GROSS_HIGH) & (P < GROSS_LOW))).any(axis=1)
    out: dict[str, Any] = {
        "points": int(points.size),
        "points_only_in_prediction": int(np.setdiff1d(pred.points, points).size),
        "points_only_in_truth": int(np.setdiff1d(true.points, points).size),
        "labels": labels,
        "labels_only_in_prediction": [lbl for lbl in pred.labels if lbl not in true.labels],
        "labels_only_in_truth": [lbl for lbl in true.labels if lbl not in pred.labels],
        "fraction_l1": float(l1.mean()),
        "fraction_l1_per_point": l1.tolist(),
        "gross_error_share": float(gross.mean()),
        "gross_error_points": [int(p) for p in points[gross]],
        "by_threshold": [],
    }
    for thr in thresholds:
        a, b = P > thr, T > thr
        exact = np.all(a == b, axis=1)
        jac = _jaccard(a, b)
        per_phase = {}
        for k, lbl in enumerate(labels):
            nt, npred, nb = int(b[:, k].sum()), int(a[:, k].sum()), int((a[:, k] & b[:, k]).sum())
            if nt or npred:
                per_phase[lbl] = {
                    "true": nt,
                    "predicted": npred,
                    "both": nb,
                    "precision": nb / npred if npred else None,
                    "recall": nb / nt if nt else None,
                }
        confusion: dict[str, dict[str, int]] = {}
        missed = b & ~a
        extra = a & ~b
        for i, k in zip(*np.nonzero(missed)):
            row = confusion.setdefault(labels[k], {})
            subs = np.flatnonzero(extra[i])
            for s in subs if subs.size else [None]:
                key = "(none)" if s is None else labels[s]
                row[key] = row.get(key, 0) + 1
        out["by_threshold"].append(
            {
                "threshold": float(thr),
                "exact_match": float(exact.mean()),
                "mean_jaccard": float(jac.mean()),
                "exact_match_points": int(exact.sum()),
                "mismatched_points": [int(p) for p in points[~exact]],
                "per_phase": per_phase,
                "confusion": confusion,
            }
        )
    if shifts is not None and truth_shifts is not None:
        thr = min(thresholds) if len(thresholds) else 0.0
        SP = as_phase_table(shifts, shifts=True).aligned(points, labels, fill=np.nan)
        ST = as_phase_table(truth_shifts, shifts=True).aligned(points, labels, fill=np.nan)
        use = (P > thr) & (T > thr) & np.isfinite(SP) & np.isfinite(ST)
        d = (SP - ST)[use]
        out["shift"] = {
            "pairs": int(use.sum()),
            "mae": float(np.abs(d).mean()) if d.size else None,
            "max_abs": float(np.abs(d).max()) if d.size else None,
            "mean_rel": float(np.mean(np.abs(d) / np.abs(ST[use]))) if d.size else None,
        }
    return out


def reconstruction_errors(patterns: np.ndarray, reconstruction: np.ndarray, *, eps: float = 1e-12) -> dict[str, Any]:
    """How well a reconstruction matches the measured patterns.

    Parameters
    ----------
    patterns, reconstruction : ndarray of shape (N, L)

    Returns
    -------
    dict
        Per point (lists of N): ``rel_l1`` = sum|x - r| / sum|x|, ``rel_l2`` = ||x - r|| / ||x||,
        ``sym_kl`` = KL(p||q) + KL(q||p) of the sum-normalised (clipped non-negative)
        patterns; and overall: ``rel_l1_total`` and ``rel_l2_total`` (over the whole
        library), ``rel_l1_mean``, ``rel_l2_mean``, ``sym_kl_mean``, ``worst_points``
        (the five largest relative L2).
    """
    x = np.asarray(patterns, dtype=float)
    r = np.asarray(reconstruction, dtype=float)
    if x.shape != r.shape:
        raise ValueError(f"patterns {x.shape} and reconstruction {r.shape} differ in shape")
    x2, r2 = np.atleast_2d(x), np.atleast_2d(r)
    d = x2 - r2
    rel_l1 = np.abs(d).sum(axis=1) / np.maximum(np.abs(x2).sum(axis=1), eps)
    rel_l2 = np.linalg.norm(d, axis=1) / np.maximum(np.linalg.norm(x2, axis=1), eps)
    p = np.clip(x2, 0, None) + eps
    q = np.clip(r2, 0, None) + eps
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    kl = np.sum((p - q) * (np.log(p) - np.log(q)), axis=1)
    return {
        "rel_l1": rel_l1.tolist(),
        "rel_l2": rel_l2.tolist(),
        "sym_kl": kl.tolist(),
        "rel_l1_total": float(np.abs(d).sum() / max(np.abs(x2).sum(), eps)),
        "rel_l2_total": float(np.linalg.norm(d) / max(np.linalg.norm(x2), eps)),
        "rel_l1_mean": float(rel_l1.mean()),
        "rel_l2_mean": float(rel_l2.mean()),
        "sym_kl_mean": float(kl.mean()),
        "worst_points": [int(i) for i in np.argsort(-rel_l2, kind="stable")[:5]],
    }


def reconstruction_summary(patterns: np.ndarray, reconstruction: np.ndarray | None) -> dict[str, Any] | None:
    """:func:`reconstruction_errors` without the per-point lists (the library-level figures of a
    summary); None without a reconstruction or when the shapes differ."""
    if reconstruction is None:
        return None
    try:
        r = reconstruction_errors(patterns, reconstruction)
    except ValueError:
        return None
    return {k: v for k, v in r.items() if not isinstance(v, list) or k == "worst_points"}
