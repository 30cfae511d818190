"""The phase-table CSV: ``point`` then one column per phase label (fractions.csv, shifts.csv, evidence.csv)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import InputError


@dataclass(eq=False)
class PhaseTable:
    """Per-point values of named phases: the layout of ``fractions.csv`` and ``shifts.csv``.

    Parameters
    ----------
    points : ndarray of shape (N,), int
        Point indices (0-based, as in the library).
    labels : list of str
        The P phase labels.
    values : ndarray of shape (N, P)
        One column per phase (NaN where a value is missing, e.g. the shift of an absent phase).
    """

    points: np.ndarray
    labels: list[str]
    values: np.ndarray

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=int).ravel()
        self.labels = [str(s) for s in self.labels]
        self.values = np.asarray(self.values, dtype=float).reshape(self.points.size, len(self.labels))

    def aligned(self, points: np.ndarray, labels: Sequence[str], fill: float = 0.0) -> np.ndarray:
        """Values at ``points`` x ``labels`` (``fill`` for labels or points this table lacks)."""
        out = np.full((len(points), len(labels)), fill, dtype=float)
        row = {int(p): i for i, p in enumerate(self.points)}
        col = {lbl: k for k, lbl in enumerate(self.labels)}
        rows = np.array([row.get(int(p), -1) for p in points], dtype=int)
        have = rows >= 0
        for j, lbl in enumerate(labels):
            k = col.get(lbl)
            if k is not None:
                out[have, j] = self.values[rows[have], k]
        return out


def read_phase_table(path: str | Path) -> PhaseTable:
    """Read a ``point,<label>,<label>,...`` CSV (empty cells and ``nan`` read as NaN)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"not a CSV text file ({err})", source=str(path)) from None
    if not rows:
        raise InputError("empty file", source=str(path))
    head = [h.strip() for h in rows[0]]
    if head[0].lower() != "point":
        raise InputError(f"first column is {head[0]!r}, expected 'point'", source=str(path), where="header")
    labels = head[1:]
    pts, vals = [], []
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != len(head):
            raise InputError(f"{len(r)} cells, expected {len(head)}", source=str(path), where=f"line {n}")
        try:
            pts.append(int(float(r[0])))
            vals.append([float(x) if x.strip() not in ("", "NA") else np.nan for x in r[1:]])
        except ValueError as err:
            raise InputError(f"not a number ({err})", source=str(path), where=f"line {n}") from None
    return PhaseTable(np.array(pts, dtype=int), labels, np.array(vals, dtype=float).reshape(len(pts), len(labels)))


def read_fractions_csv(path: str | Path) -> PhaseTable:
    """Read the solver's ``fractions.csv`` (``point`` then one column per phase label)."""
    return read_phase_table(path)


def read_shifts_csv(path: str | Path) -> PhaseTable:
    """Read the solver's ``shifts.csv`` (same layout; NaN or empty where a phase is absent)."""
    return read_phase_table(path)


def write_phase_table(table: PhaseTable, path: str | Path, fmt: str = "%.6g") -> None:
    """Write a table in the ``point,<label>,...`` layout (NaN as empty cells)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point", *table.labels])
        for p, row in zip(table.points, table.values):
            w.writerow([int(p), *("" if not np.isfinite(v) else fmt % v for v in row)])
