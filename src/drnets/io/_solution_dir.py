"""The solution folder: fractions.csv, shifts.csv, evidence.csv, solution.h5, summary.json (and points.csv;
and, where the answer has them, the confidence files of :mod:`._confidence_files`).

This module is the folder's one home: :func:`write_solution_dir` writes it and
:func:`read_solution_dir` reads it back (a bare fractions CSV reads too). Every file is
written atomically (a temporary file beside the target, then one rename), so an interrupted
write never leaves a half-written file and an earlier run's file stays intact until the new
one is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Alternatives, Dataset, InputError, Library, PhaseLibrary, Solution, Unexplained
from ..core.constants import CONFIDENT, WEAK_EVIDENCE
from ._atomic import atomic_path, atomic_text
from ._confidence_files import (
    ALTERNATIVES,
    PROBABILITIES,
    UNEXPLAINED,
    read_alternatives,
    read_unexplained,
    write_alternatives,
    write_unexplained,
)
from ._hdf5 import read_hdf5, write_hdf5
from ._phase_table import PhaseTable, read_phase_table, write_phase_table
from ._points_csv import POINTS, read_points_csv, write_points_csv

#: The files of a solution folder, in the order they are written (evidence.csv follows where there is evidence).
SOLUTION_FILES = ("fractions.csv", "shifts.csv", "solution.h5", "summary.json")
FRACTIONS, SHIFTS, SOLUTION_H5, SUMMARY = SOLUTION_FILES
EVIDENCE = "evidence.csv"
#: Weight fractions and their standard errors, where the phases allow them (same layout as fractions.csv).
WEIGHT_FRACTIONS, WEIGHT_FRACTION_ERRORS = "weight_fractions.csv", "weight_fraction_errors.csv"
#: Where ``drnets solve`` keeps the search state of each finished round (``--resume`` reads it).
CHECKPOINT = "checkpoint.npz"

#: Peak sigma (nm⁻¹) assumed for a solution rebuilt from the CSVs when summary.json does not tell it.
DEFAULT_WIDTH = 0.25


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
    table = PhaseTable(np.arange(values.shape[0]), labels, values)
    with atomic_path(path) as tmp:
        write_phase_table(table, tmp, fmt="%.6g")


def _row_normalised(frac: np.ndarray) -> np.ndarray:
    """Fractions whose nonzero rows sum to 1 exactly at the CSV's precision."""
    frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, None)
    tot = frac.sum(axis=1, keepdims=True)
    return np.divide(frac, tot, out=np.zeros_like(frac), where=tot > 0)


def _build_summary(
    library: Library,
    phases: PhaseLibrary,
    solution: Solution,
    mask: np.ndarray | None,
    max_phases: np.ndarray | None,
    extra_summary: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The content of ``summary.json`` (JSON-ready); the arguments are :func:`write_solution_dir`'s."""
    meta = dict(solution.metadata or {})
    frac = np.nan_to_num(np.asarray(solution.fractions, dtype=float), nan=0.0)
    used = active_phases(solution)
    counts = (frac > 0).sum(axis=1)
    audit = dict(solution.audit or {})  # the caller's to make (drnets.evaluate.audit_solution)
    residuals = None if solution.residuals is None else np.asarray(solution.residuals, dtype=float)
    summary: dict[str, Any] = {
        "points": int(library.n_points),
        "phases": int(len(solution.labels)),
        "phases_used": [solution.labels[k] for k in used],
        "points_per_phase_count": {
            str(k): int((counts == k).sum()) for k in range(int(counts.max()) + 1 if counts.size else 1)
        },
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
        "eta": float(solution.eta),
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
    if "weight_fractions" in meta:  # how they were computed, or why there are none
        summary["weight_fractions"] = meta["weight_fractions"]
    conf = confidence_summary(solution)
    if conf:
        summary["confidence"] = conf
    summary["metadata"] = meta
    if extra_summary:
        extra = dict(extra_summary)
        if isinstance(extra.get("inputs"), Mapping):
            extra["inputs"] = {**summary["inputs"], **{k: v for k, v in extra["inputs"].items() if v is not None}}
        summary.update(extra)
    return _clean_json(json.loads(json.dumps(summary, default=_json_default)))


def confidence_summary(solution: Solution) -> dict[str, Any]:
    """The ``confidence`` entry of ``summary.json``: uncertain and flagged points, unknown-phase
    candidates ({} where the answer has no probabilities)."""
    out: dict[str, Any] = {}
    alts, unexp = solution.alternatives, solution.unexplained
    if alts is not None:
        chosen = np.asarray(alts.chosen, dtype=float)
        out["confident_at"] = CONFIDENT
        out["uncertain_points"] = int((~(chosen >= CONFIDENT)).sum())
        out["mean_chosen_probability"] = float(np.nanmean(chosen)) if chosen.size else None
    if solution.probabilities is not None:
        out["presence_level"] = (solution.metadata or {}).get("parameters", {}).get("presence_level")
    if unexp is not None:
        out["flagged_points"] = int(unexp.flag.sum())
        out["unexplained_peaks"] = int(unexp.peaks.shape[0])
        out["unknown_phases"] = unexp.candidates
    return out


def write_solution_dir(
    out_dir: str | os.PathLike[str],
    library: Library,
    phases: PhaseLibrary,
    solution: Solution,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    extra_summary: Mapping[str, Any] | None = None,
    independent: bool = False,
) -> list[Path]:
    """Write a solution folder, each file atomically.

    Parameters
    ----------
    out_dir : path-like
        The folder (created if needed; the files in it are replaced).
    library, phases : Library, PhaseLibrary
        What was solved.
    solution : Solution
        The answer (aligned with ``phases``).
    mask, max_phases : ndarray, optional
        The user-supplied mask and Gibbs limits, stored in ``solution.h5`` with the library.
    extra_summary : mapping, optional
        More entries for ``summary.json`` (e.g. ``comparison`` with a truth); they win over
        the computed ones.
    independent : bool
        The points are samples of unknown composition (kept in ``solution.h5``; no
        composition columns in ``points.csv``).

    Returns
    -------
    list of Path
        ``fractions.csv`` (``point`` then one column per phase present somewhere, rows
        summing to 1), ``shifts.csv`` (same columns, empty where the phase is absent),
        ``solution.h5`` (library, phases, mask, limits and the full solution) and
        ``summary.json`` (audit, reconstruction errors, run facts, parameters) and, where
        the solution has it, ``evidence.csv`` (same columns: what each present phase buys,
        in per-phase costs; below 1 the data alone do not support it); for a library read
        from pattern files, ``points.csv`` (``point,name`` and the composition columns
        where known: which file each point is); and where the solution has weight
        fractions, ``weight_fractions.csv`` (same layout as ``fractions.csv``: mass shares,
        rows summing to 1) and ``weight_fraction_errors.csv`` (their standard errors, empty
        where absent). ``fractions.csv`` always holds peak-height shares (see
        ``docs/weight_fractions.md``); and the confidence
        files where the solution has them: ``probabilities.csv`` (every candidate),
        ``alternatives.csv`` and ``unexplained.csv`` (see :mod:`drnets.io._confidence_files`).
    """
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
        paths.append(out / EVIDENCE)
        _write_table(paths[-1], labels, where_present(solution.evidence))
    if "file" in library.metadata:
        paths.append(out / POINTS)
        write_points_csv(paths[-1], library, compositions=not independent)
    if solution.weight_fractions is not None:
        paths.append(out / WEIGHT_FRACTIONS)
        _write_table(paths[-1], labels, _row_normalised(np.asarray(solution.weight_fractions, dtype=float))[:, used])
        if solution.weight_fraction_errors is not None:
            paths.append(out / WEIGHT_FRACTION_ERRORS)
            _write_table(paths[-1], labels, where_present(solution.weight_fraction_errors))
    if solution.probabilities is not None:
        paths.append(out / PROBABILITIES)
        _write_table(paths[-1], list(solution.labels), np.asarray(solution.probabilities, dtype=float))
    if solution.alternatives is not None:
        paths.append(out / ALTERNATIVES)
        write_alternatives(paths[-1], solution.alternatives, list(solution.labels))
    if solution.unexplained is not None:
        paths.append(out / UNEXPLAINED)
        write_unexplained(paths[-1], solution.unexplained)
    write_hdf5(Dataset(library, phases, mask, max_phases, solution, independent=independent), paths[2])
    summary = _build_summary(library, phases, solution, mask, max_phases, extra_summary)
    summary["files"] = [p.name for p in paths]
    with atomic_text(paths[3]) as fh:
        json.dump(summary, fh, indent=2, allow_nan=False)
        fh.write("\n")
    return paths


def is_solution_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a solution folder (``summary.json`` and ``solution.h5``, or a run's checkpoint)."""
    p = Path(path)
    return ((p / SUMMARY).is_file() and (p / SOLUTION_H5).is_file()) or (p / CHECKPOINT).is_file()


def solution_inputs(path: str | os.PathLike[str]) -> list[Path]:
    """What a reader of a solution reads: the files of a solution folder (read by name, so a new file
    beside them harms nothing), or the path itself (a bare fractions CSV, or a missing path)."""
    p = Path(path)
    return sorted(c for c in p.iterdir() if c.is_file()) if p.is_dir() else [p]


def read_summary(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``summary.json`` of a solution folder ({} when there is none).

    Raises
    ------
    InputError
        When the file is there but cannot be read or is not a JSON object.
    """
    path = Path(folder) / SUMMARY
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"unreadable summary ({err})", source=str(path)) from None
    if not isinstance(summary, dict):
        raise InputError(f"expected a JSON object, found {type(summary).__name__}", source=str(path))
    return summary


@dataclass(eq=False)
class SolutionDir:
    """A solution folder as read back by :func:`read_solution_dir`.

    Parameters
    ----------
    source : Path
        The folder (or the bare fractions CSV) read.
    fractions : PhaseTable or None
        ``fractions.csv``: one column per phase present somewhere (None only in a folder that
        holds ``solution.h5`` alone).
    shifts, evidence : PhaseTable or None
        ``shifts.csv`` and ``evidence.csv`` where the folder has them (NaN where absent).
    probabilities : PhaseTable or None
        ``probabilities.csv`` (one column per candidate) where the folder has it.
    summary : dict
        ``summary.json`` ({} where there is none).
    h5 : Path or None
        ``solution.h5`` where the folder has one; :attr:`dataset` reads it.
    points : tuple or None
        ``points.csv`` where the folder has one: (names, elements, compositions or None),
        see :func:`drnets.io._points_csv.read_points_csv`.
    weight_fractions, weight_fraction_errors : PhaseTable or None
        ``weight_fractions.csv`` and ``weight_fraction_errors.csv`` where the folder has them.
    """

    source: Path
    fractions: PhaseTable | None
    shifts: PhaseTable | None = None
    evidence: PhaseTable | None = None
    summary: dict[str, Any] | None = None
    h5: Path | None = None
    points: tuple[list[str], tuple[str, ...], np.ndarray | None] | None = None
    weight_fractions: PhaseTable | None = None
    weight_fraction_errors: PhaseTable | None = None
    probabilities: PhaseTable | None = None

    def __post_init__(self) -> None:
        self.summary = dict(self.summary or {})

    @cached_property
    def dataset(self) -> Dataset | None:
        """``solution.h5``: library, phases, mask, limits and the full solution (None without it)."""
        return None if self.h5 is None else read_hdf5(self.h5)

    def alternatives(self, labels: list[str]) -> Alternatives | None:
        """``alternatives.csv`` against the candidate ``labels`` (None where the folder has none)."""
        path = self.source / ALTERNATIVES if self.source.is_dir() else None
        if path is None or not path.is_file() or self.fractions is None:
            return None
        return read_alternatives(path, labels, int(self.fractions.points.size))

    def unexplained(self) -> Unexplained | None:
        """``unexplained.csv`` (None where the folder has none)."""
        path = self.source / UNEXPLAINED if self.source.is_dir() else None
        if path is None or not path.is_file() or self.fractions is None:
            return None
        return read_unexplained(path, int(self.fractions.points.size))

    def solution_from_tables(self, library: Library) -> Solution:
        """A :class:`Solution` over ``library`` rebuilt from the CSVs and the summary.

        Its phases are the columns of ``fractions.csv`` (of ``probabilities.csv``, every
        candidate, where the folder has it). Amplitudes are estimated as
        fraction × the point's pattern maximum; shifts are 1 where ``shifts.csv`` is
        missing; the peak widths are the summary's ``widths`` where they fit those
        columns, else :data:`DEFAULT_WIDTH`.
        """
        if self.fractions is None:
            raise InputError(f"no {FRACTIONS} to rebuild the solution from", source=str(self.source))
        labels = self.fractions.labels
        if self.probabilities is not None and set(labels) <= set(self.probabilities.labels):
            labels = self.probabilities.labels  # every candidate: the alternatives may name unused ones
        pts = np.arange(library.n_points)
        frac = np.nan_to_num(self.fractions.aligned(pts, labels))
        sh = (
            self.shifts.aligned(pts, labels, fill=np.nan)
            if self.shifts is not None
            else np.where(frac > 0, 1.0, np.nan)
        )
        ev = None if self.evidence is None else np.nan_to_num(self.evidence.aligned(pts, labels))
        amp = frac * library.patterns.max(axis=1, keepdims=True)
        w = np.asarray(self.summary.get("widths", DEFAULT_WIDTH), dtype=float)
        if w.ndim == 2 and w.shape != (len(labels), 2):
            w = np.asarray(DEFAULT_WIDTH)  # the summary's rows are every candidate's, not these columns'
        widths = np.broadcast_to(w if w.ndim else np.array([w, w]), (len(labels), 2)) if w.ndim <= 1 else w
        probs = None if self.probabilities is None else np.nan_to_num(self.probabilities.aligned(pts, labels))
        return Solution(
            labels,
            frac,
            sh,
            amp,
            np.array(widths),
            eta=float(self.summary.get("eta", 0.0)),
            evidence=ev,
            probabilities=probs,
            alternatives=self.alternatives(labels),
            unexplained=self.unexplained(),
            audit=self.summary.get("audit", {}),
            metadata=self.summary.get("metadata", {}),
        )


def read_solution_dir(path: str | os.PathLike[str]) -> SolutionDir:
    """Read a solution folder, or a bare fractions CSV.

    Parameters
    ----------
    path : path-like
        A folder written by :func:`write_solution_dir` (or one with only the CSVs, with or
        without ``summary.json``), or a fractions CSV (``point`` then one column per phase).

    Returns
    -------
    SolutionDir
        The tables and the summary; ``solution.h5`` is read only when its
        :attr:`~SolutionDir.dataset` is asked for.

    Raises
    ------
    InputError
        When the path does not exist, a folder holds neither ``fractions.csv`` nor
        ``solution.h5``, or a file cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=str(path))
    if not path.is_dir():
        return SolutionDir(path, read_phase_table(path))

    def table(name: str) -> PhaseTable | None:
        return read_phase_table(path / name) if (path / name).is_file() else None

    h5 = path / SOLUTION_H5
    fractions = table(FRACTIONS)
    if fractions is None and not h5.is_file():
        raise InputError(f"the folder holds neither {SOLUTION_H5} nor {FRACTIONS}", source=str(path))
    points = read_points_csv(path / POINTS) if (path / POINTS).is_file() else None
    return SolutionDir(
        path,
        fractions,
        table(SHIFTS),
        table(EVIDENCE),
        read_summary(path),
        h5 if h5.is_file() else None,
        points,
        table(WEIGHT_FRACTIONS),
        table(WEIGHT_FRACTION_ERRORS),
        table(PROBABILITIES),
    )
