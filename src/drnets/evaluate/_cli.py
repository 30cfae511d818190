"""What ``drnets evaluate`` computes and prints (kept here so the CLI stays thin)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError
from ..core.constants import (
    COMPARISON_THRESHOLDS,
    CONFIDENCE_PRESENCE,
    CONFIDENT,
    GROSS_HIGH,
    GROSS_LOW,
    PHASE_THRESHOLD,
    RULE_MEANINGS,
    RULES,
)
from ..io import PhaseTable, SolutionDir, read_solution_dir
from ._calibration import reliability
from ._metrics import as_phase_table, compare

#: Why a correct answer can still carry composition flags (shown under the rule counts).
SOLID_SOLUTION_NOTE = (
    "composition flags can come from solid solutions: where a phase's composition moves away from its "
    "tabulated formula, the formulas cannot make up the point's composition although the phases are right"
)
#: The first line of every table about an interrupted run's answer.
PARTIAL_ANSWER = "INTERRUPTED: a partial answer (the search stopped early; drnets solve --resume continues it)"


def audit_rows(audit: dict[str, Any]) -> list[tuple[str, str]]:
    """One (rule, text) per audited rule: its count and what the count means."""
    rows = []
    checks = audit.get("checked") if isinstance(audit.get("checked"), dict) else {}
    for r in RULES:
        if f"{r}_violations" in audit:
            checked = checks.get(r, True)
            rows.append((r, f"{audit[f'{r}_violations']}: {RULE_MEANINGS[r]}" if checked else "not checked"))
    return rows


def audit_note(audit: dict[str, Any]) -> str | None:
    """The solid-solution note, where the audit flags the composition rule."""
    return SOLID_SOLUTION_NOTE if audit.get("composition_violations") else None


def _some(labels: Sequence[str]) -> str:
    return ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")


def check_truth(
    truth: PhaseTable, n_points: int | np.ndarray, labels: Sequence[str], source: str | Path | None
) -> None:
    """Refuse a truth that does not describe this library: other points, or no phase label in common.

    Parameters
    ----------
    truth : PhaseTable
        The truth's fractions.
    n_points : int or ndarray
        The answer's number of points (0 .. N-1), or its point indices.
    labels : sequence of str
        The answer's phase labels (every candidate's, where known).
    source : path-like
        The truth file, for the message.
    """
    points = np.arange(n_points) if np.ndim(n_points) == 0 else np.asarray(n_points)
    mine, theirs = set(points.tolist()), set(truth.points.tolist())
    if mine != theirs:
        if len(mine) != len(theirs):
            problem = f"the truth has {len(theirs)} points, the answer {len(mine)}"
        else:
            problem = f"the truth's points ({min(theirs)}-{max(theirs)}) are not the answer's ({min(mine)}-{max(mine)})"
        raise InputError(f"{problem}: it is not the truth of this library", source=source and str(source))
    if truth.labels and not set(truth.labels) & set(labels):
        raise InputError(
            f"no phase label in common: the truth has {_some(truth.labels)}, the answer {_some(list(labels))}",
            source=source and str(source),
        )


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
    if "gross_error_points" in c:
        console.print(
            f"gross errors (a phase above {GROSS_HIGH:.0%} on one side, under {GROSS_LOW:.0%} on the other): "
            f"{len(c['gross_error_points'])} points ({100 * c['gross_error_share']:.1f} %)",
            markup=False,
            highlight=False,
        )
    s = c.get("shift")
    if s and s.get("pairs"):
        console.print(
            f"shift error over {s['pairs']} pairs: MAE {s['mae']:.4g}, max {s['max_abs']:.4g}",
            markup=False,
            highlight=False,
        )


def check_folder_truth(folder: SolutionDir, truth: str | Path) -> PhaseTable:
    """Read a truth and check it against a solution folder (:func:`check_truth`); returns its fractions."""
    true = as_phase_table(Path(truth))
    frac = folder.fractions
    if frac is None:
        raise InputError("the folder holds no fractions.csv to compare", source=str(folder.source))
    labels = frac.labels
    if not set(true.labels) & set(labels) and folder.h5 is not None and folder.dataset.phases is not None:
        labels = folder.dataset.phases.labels  # the answer used none of the truth's phases: were they candidates?
    check_truth(true, frac.points, labels, truth)
    return true


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
    if isinstance(summary.get("audit"), dict) and summary["audit"]:
        result["audit"] = summary["audit"]
    for key in ("metadata", "residual_mean", "residuals", "reconstruction", "warnings"):
        if key in summary:
            result[key] = summary[key]
    result["interrupted"] = bool(summary.get("interrupted", False))
    if isinstance(summary.get("confidence"), dict):
        result["confidence"] = summary["confidence"]
    if truth is not None:
        true = check_folder_truth(sd, truth)
        result["comparison"] = compare(
            frac,
            true,
            thresholds,
            shifts=shifts if truth_shifts else None,
            truth_shifts=Path(truth_shifts) if truth_shifts else None,
        )
        result["truth"] = str(truth)
        if sd.probabilities is not None:
            level = (result.get("confidence") or {}).get("presence_level") or CONFIDENCE_PRESENCE
            t = true.aligned(sd.probabilities.points, sd.probabilities.labels)
            result["calibration"] = {
                **reliability(np.nan_to_num(sd.probabilities.values), t >= level),
                "presence_level": level,
            }
    return result


def print_evaluation(result: dict[str, Any], console) -> None:
    """Rich tables of an :func:`evaluate_solution_dir` result."""
    from rich.table import Table

    partial = "PARTIAL ANSWER (interrupted run) - " if result.get("interrupted") else ""
    t = Table(title=f"{partial}drnets evaluate: {result['source']}", show_header=False)
    if result.get("interrupted"):
        t.add_row("status", PARTIAL_ANSWER)
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
        ta.add_column("violations: what they count")
        for rule, text in audit_rows(a):
            ta.add_row(rule, text)
        if "total_violations" in a:
            ta.add_row("total", str(a["total_violations"]))
        console.print(ta)
        note = audit_note(a)
        if note:
            console.print(f"note: {note}", markup=False, highlight=False)
    conf = result.get("confidence")
    if conf:
        tk = Table(title="how sure the answer is", show_header=False)
        if "uncertain_points" in conf:
            tk.add_row(f"points below {conf.get('confident_at', CONFIDENT):g}", str(conf["uncertain_points"]))
        if "flagged_points" in conf:
            tk.add_row("points flagged for unexplained signal", str(conf["flagged_points"]))
            tk.add_row("unknown-phase candidates", str(len(conf.get("unknown_phases") or [])))
        cal = result.get("calibration")
        if cal:
            tk.add_row(
                "calibration error (ECE)",
                f"{cal['ece']:.4f} over {cal['pairs']} (point, phase) pairs, presence at {cal['presence_level']:g}",
            )
        console.print(tk)
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
