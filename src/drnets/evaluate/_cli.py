"""What ``drnets evaluate`` computes and prints (kept here so the CLI stays thin)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError
from ..core.constants import COMPARISON_THRESHOLDS, PHASE_THRESHOLD, RULES
from ..io import read_solution_dir
from ._metrics import compare


def _phase_counts(values: np.ndarray, thr: float) -> dict[str, int]:
    c = (values > thr).sum(axis=1)
    return {str(k): int((c == k).sum()) for k in range(int(c.max()) + 1 if c.size else 1)}


def print_comparison(c: dict[str, Any], console, truth_name: str) -> None:
    """The headline of a :func:`compare` result: phase-set match per threshold, L1, shifts."""
    from rich.table import Table

    tc = Table(title=f"comparison with {truth_name} ({c['points']} points)")
    for col in ("threshold", "exact match", "mean Jaccard", "mismatched"):
        tc.add_column(col, justify="right")
    for b in c["by_threshold"]:
        tc.add_row(
            f"{b['threshold']:g}",
            f"{100 * b['exact_match']:.1f} %",
            f"{b['mean_jaccard']:.3f}",
            str(len(b["mismatched_points"])),
        )
    console.print(tc)
    console.print(
        f"fraction L1 (sum over phases, mean over points): {c['fraction_l1']:.4f}", markup=False, highlight=False
    )
    s = c.get("shift")
    if s and s.get("pairs"):
        console.print(
            f"shift error over {s['pairs']} pairs: MAE {s['mae']:.4g}, max {s['max_abs']:.4g}",
            markup=False,
            highlight=False,
        )


def evaluate_solution_dir(
    path: str | Path,
    *,
    truth: str | Path | None = None,
    truth_shifts: str | Path | None = None,
    thresholds: Sequence[float] = COMPARISON_THRESHOLDS,
) -> dict[str, Any]:
    """Evaluate a solution folder (or a bare fractions CSV).

    Reads ``fractions.csv`` (and ``shifts.csv``, ``summary.json`` where present), reports
    phase usage, the rule audit stored in ``summary.json`` and, with ``truth``, the
    comparison of :func:`compare`.
    """
    sd = read_solution_dir(path)
    frac = sd.fractions
    if frac is None:
        raise InputError("the folder holds no fractions.csv", source=str(path))
    shifts, summary = sd.shifts, sd.summary
    vals = np.nan_to_num(frac.values, nan=0.0)
    used = vals.max(axis=0) > PHASE_THRESHOLD if vals.size else np.zeros(0, bool)
    result: dict[str, Any] = {
        "source": str(path),
        "points": int(frac.points.size),
        "phases": len(frac.labels),
        "phases_used": [lbl for lbl, u in zip(frac.labels, used) if u],
        "phases_per_point": {str(t): _phase_counts(vals, t) for t in thresholds},
    }
    if summary.get("audit"):
        result["audit"] = summary["audit"]
    for key in ("metadata", "residual_mean", "residuals", "reconstruction"):
        if key in summary:
            result[key] = summary[key]
    if truth is not None:
        result["comparison"] = compare(
            frac,
            Path(truth),
            thresholds,
            shifts=shifts if truth_shifts else None,
            truth_shifts=Path(truth_shifts) if truth_shifts else None,
        )
        result["truth"] = str(truth)
    return result


def print_evaluation(result: dict[str, Any], console) -> None:
    """Rich tables of an :func:`evaluate_solution_dir` result."""
    from rich.table import Table

    t = Table(title=f"drnets evaluate: {result['source']}", show_header=False)
    t.add_row("points", str(result["points"]))
    t.add_row("phases used", f"{len(result['phases_used'])} of {result['phases']}")
    for lbl in result["phases_used"]:
        t.add_row("", lbl)
    for thr, counts in result["phases_per_point"].items():
        t.add_row(f"points per phase count (> {float(thr):g})", ", ".join(f"{k}: {v}" for k, v in counts.items()))
    console.print(t)
    a = result.get("audit")
    if a:
        ta = Table(title="rule audit (exact, on the final answer)")
        ta.add_column("rule")
        ta.add_column("violations", justify="right")
        for r in RULES:
            if f"{r}_violations" in a:
                checked = a.get("checked", {}).get(r, True)
                ta.add_row(r, str(a[f"{r}_violations"]) if checked else "not checked")
        if "total_violations" in a:
            ta.add_row("total", str(a["total_violations"]))
        console.print(ta)
    c = result.get("comparison")
    if c:
        print_comparison(c, console, str(result.get("truth")))
        for b in c["by_threshold"]:
            if b["confusion"]:
                tf = Table(title=f"missed true phases and what replaced them (> {b['threshold']:g})")
                tf.add_column("true phase")
                tf.add_column("predicted instead")
                for tl, row in b["confusion"].items():
                    tf.add_row(tl, ", ".join(f"{k} ×{v}" for k, v in row.items()))
                console.print(tf)
