"""The solver's output folder: fractions.csv, shifts.csv, solution.h5 and summary.json.

Every file is written atomically (a temporary file beside the target, then one rename), so an
interrupted write never leaves a half-written file and an earlier run's file stays intact
until the new one is complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..core import Dataset, Library, PhaseLibrary, Solution
from ..core.constants import WEAK_EVIDENCE

#: The files of a solution folder, in the order they are written.
SOLUTION_FILES = ("fractions.csv", "shifts.csv", "solution.h5", "summary.json")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def _clean_json(obj: Any) -> Any:
    """Replace non-finite floats by None so that summary.json is strict JSON."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _clean_json(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_clean_json(v) for v in obj]
    return obj


def active_phases(solution: Solution) -> np.ndarray:
    """Indices (phase-library order) of the phases with a fraction above 0 at one point at least."""
    frac = np.nan_to_num(np.asarray(solution.fractions, dtype=float), nan=0.0)
    return np.flatnonzero((frac > 0).any(axis=0))


def _write_table(path: Path, labels: list[str], values: np.ndarray) -> None:
    from ..evaluate import PhaseTable, write_phase_table
    from ..io import atomic_path

    table = PhaseTable(np.arange(values.shape[0]), labels, values)
    with atomic_path(path) as tmp:
        write_phase_table(table, tmp, fmt="%.6g")


def _row_normalised(frac: np.ndarray) -> np.ndarray:
    """Fractions whose nonzero rows sum to 1 exactly at the CSV's precision."""
    frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, None)
    tot = frac.sum(axis=1, keepdims=True)
    return np.divide(frac, tot, out=np.zeros_like(frac), where=tot > 0)


def reconstruction_summary(library: Library, solution: Solution) -> dict[str, Any] | None:
    """Library-level reconstruction errors (no per-point lists: those live in solution.h5)."""
    if solution.reconstruction is None:
        return None
    from ..evaluate import reconstruction_errors

    try:
        r = reconstruction_errors(library.patterns, solution.reconstruction)
    except ValueError:
        return None
    return {k: v for k, v in r.items() if not isinstance(v, list) or k == "worst_points"}


def build_summary(
    library: Library,
    phases: PhaseLibrary,
    solution: Solution,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    extra_summary: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json`` (JSON-ready)."""
    meta = dict(solution.metadata or {})
    frac = np.nan_to_num(np.asarray(solution.fractions, dtype=float), nan=0.0)
    used = active_phases(solution)
    counts = (frac > 0).sum(axis=1)
    audit = dict(solution.audit or {})
    if not audit:
        try:
            from ..evaluate import audit_solution

            audit = audit_solution(solution, library, phases)
        except Exception:  # the audit is a courtesy here; the answer is still written
            audit = {}
    residuals = None if solution.residuals is None else np.asarray(solution.residuals, dtype=float)
    summary: dict[str, Any] = {
        "points": int(library.n_points),
        "phases": int(len(solution.labels)),
        "phases_used": [solution.labels[k] for k in used],
        "points_per_phase_count": {str(k): int((counts == k).sum()) for k in range(int(counts.max()) + 1 if counts.size else 1)},
        "interrupted": bool(meta.get("interrupted", False)),
        "version": meta.get("version"),
        "seed": meta.get("seed"),
        "device": meta.get("device"),
        "wall_time_s": meta.get("wall_time_s"),
        "inputs": {
            "library": None if library.source is None else str(library.source),
            "phases": None if getattr(phases, "source", None) is None else str(phases.source),
            "mask": "given" if mask is not None else "element rule",
            "max_phases": "given" if max_phases is not None else "elements present",
        },
        "parameters": meta.get("parameters", {}),
        "widths": np.asarray(solution.widths, dtype=float).tolist(),
        "audit": audit,
    }
    if residuals is not None and residuals.size:
        summary["residual_mean"] = float(np.nanmean(residuals))
        summary["residual_max"] = float(np.nanmax(residuals))
    weak = solution.weakly_supported()
    if weak is not None:
        ev = np.asarray(solution.evidence, dtype=float)
        summary["evidence"] = {
            "weak_below": WEAK_EVIDENCE,
            "weak_entries": int(weak.sum()),
            "weak_points": int(weak.any(axis=1).sum()),
            "median": float(np.median(ev[frac > 0])) if (frac > 0).any() else None,
            "weak_by_phase": {solution.labels[k]: int(weak[:, k].sum()) for k in np.flatnonzero(weak.any(axis=0))},
        }
    rec = reconstruction_summary(library, solution)
    if rec is not None:
        summary["reconstruction"] = rec
    summary["metadata"] = meta
    if extra_summary:
        extra = dict(extra_summary)
        if isinstance(extra.get("inputs"), Mapping):
            extra["inputs"] = {**summary["inputs"], **{k: v for k, v in extra["inputs"].items() if v is not None}}
        summary.update(extra)
    return _clean_json(json.loads(json.dumps(summary, default=_json_default)))


def write_solution_dir(
    out_dir: str | os.PathLike[str],
    library: Library,
    phases: PhaseLibrary,
    solution: Solution,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    extra_summary: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a solution folder, each file atomically.

    Parameters
    ----------
    out_dir : path-like
        The folder (created if needed; the four files in it are replaced).
    library, phases : Library, PhaseLibrary
        What was solved.
    solution : Solution
        The answer (aligned with ``phases``).
    mask, max_phases : ndarray, optional
        The user-supplied mask and Gibbs limits, stored in ``solution.h5`` with the library.
    extra_summary : mapping, optional
        More entries for ``summary.json`` (e.g. ``comparison`` with a truth); they win over
        the computed ones.

    Returns
    -------
    list of Path
        ``fractions.csv`` (``point`` then one column per phase present somewhere, rows
        summing to 1), ``shifts.csv`` (same columns, empty where the phase is absent),
        ``solution.h5`` (library, phases, mask, limits and the full solution) and
        ``summary.json`` (audit, reconstruction errors, run facts, parameters) and, where
        the solution has it, ``evidence.csv`` (same columns: what each present phase buys,
        in per-phase costs; below 1 the data alone do not support it).
    """
    from ..io import atomic_text, write_hdf5

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    used = active_phases(solution)
    labels = [solution.labels[k] for k in used]
    frac = _row_normalised(np.asarray(solution.fractions, dtype=float))[:, used]

    def where_present(values: np.ndarray) -> np.ndarray:  # empty cells where a phase is absent
        out = np.asarray(values, dtype=float)[:, used].copy()
        out[~(frac > 0)] = np.nan
        return out

    shifts = where_present(solution.shifts)
    paths = [out / name for name in SOLUTION_FILES]
    _write_table(paths[0], labels, frac)
    _write_table(paths[1], labels, shifts)
    if solution.evidence is not None:
        paths.append(out / "evidence.csv")
        _write_table(paths[-1], labels, where_present(solution.evidence))
    write_hdf5(Dataset(library, phases, mask, max_phases, solution), paths[2])
    summary = build_summary(library, phases, solution, mask=mask, max_phases=max_phases, extra_summary=extra_summary)
    summary["files"] = [p.name for p in paths]
    with atomic_text(paths[3]) as fh:
        json.dump(summary, fh, indent=2, allow_nan=False)
        fh.write("\n")
    return paths
