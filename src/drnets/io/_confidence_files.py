"""The confidence files of a solution folder: probabilities.csv, alternatives.csv, unexplained.csv.

- ``probabilities.csv``: ``point``, then one column per candidate phase (all of them, by
  label): the probability that the phase is present (see :class:`~drnets.core.Solution`).
- ``alternatives.csv``: ``point,rank,phases,probability``, each point's best few phase sets
  (rank 1 first), ``phases`` the ``;``-joined labels (empty for no phase).
- ``unexplained.csv``: ``point,flag,score,peaks``, ``flag`` 0 or 1, ``score`` the strongest
  unexplained peak relative to the point's strongest peak, ``peaks`` the ``;``-joined Q
  positions (nm⁻¹) of the unexplained peaks.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..core import Alternatives, InputError, Unexplained
from ._atomic import atomic_text

PROBABILITIES, ALTERNATIVES, UNEXPLAINED = "probabilities.csv", "alternatives.csv", "unexplained.csv"
_ALT_HEADER = ["point", "rank", "phases", "probability"]
_UNEXP_HEADER = ["point", "flag", "score", "peaks"]


def write_alternatives(path: Path, alternatives: Alternatives, labels: list[str]) -> None:
    """``alternatives.csv`` (see the module)."""
    with atomic_text(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_ALT_HEADER)
        for i in range(alternatives.sets.shape[0]):
            for rank, (members, p) in enumerate(alternatives.at(i), start=1):
                w.writerow([i, rank, ";".join(labels[k] for k in members), f"{p:.6g}"])


def write_unexplained(path: Path, unexplained: Unexplained) -> None:
    """``unexplained.csv`` (see the module)."""
    with atomic_text(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_UNEXP_HEADER)
        for i in range(unexplained.flag.size):
            peaks = ";".join(f"{v:.4f}" for v in unexplained.peaks_at(i)[:, 0])
            w.writerow([i, int(unexplained.flag[i]), f"{unexplained.score[i]:.4g}", peaks])


def _rows(path: Path, header: list[str]) -> list[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"unreadable ({err})", source=str(path)) from None
    if not rows or [c.strip() for c in rows[0]] != header:
        raise InputError(f"expected the header {','.join(header)}", source=str(path), where="line 1")
    return rows[1:]


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"{column} {text!r} is not a number", source=str(path), where=f"line {line}") from None
    if not np.isfinite(v):
        raise InputError(f"{column} {text!r} is not finite", source=str(path), where=f"line {line}")
    return v


def read_alternatives(path: Path, labels: list[str], n_points: int) -> Alternatives:
    """Read ``alternatives.csv`` against the candidate ``labels``; an InputError names a bad line."""
    index = {lbl: k for k, lbl in enumerate(labels)}
    per_point: dict[int, list[tuple[list[int], float]]] = {}
    for line, row in enumerate(_rows(path, _ALT_HEADER), start=2):
        if len(row) != 4:
            raise InputError(f"expected 4 fields, found {len(row)}", source=str(path), where=f"line {line}")
        i = int(_number(row[0], path, line, "point"))
        if not 0 <= i < n_points:
            raise InputError(
                f"point {i} is not in the library (0-{n_points - 1})", source=str(path), where=f"line {line}"
            )
        names = [s for s in row[2].split(";") if s]
        unknown = [s for s in names if s not in index]
        if unknown:
            raise InputError(f"unknown phase {unknown[0]!r}", source=str(path), where=f"line {line}")
        p = _number(row[3], path, line, "probability")
        if not 0.0 <= p <= 1.0:
            raise InputError(f"probability {p} is not in [0, 1]", source=str(path), where=f"line {line}")
        per_point.setdefault(i, []).append(([index[s] for s in names], p))
    r = max((len(v) for v in per_point.values()), default=1)
    k = max((len(s) for v in per_point.values() for s, _ in v), default=1) or 1
    sets = np.full((n_points, r, k), -1, dtype=np.int64)
    prob = np.full((n_points, r), np.nan)
    for i, rows in per_point.items():
        for j, (s, p) in enumerate(rows):
            sets[i, j, : len(s)] = s
            prob[i, j] = p
    return Alternatives(sets, prob, np.full(n_points, np.nan))


def read_unexplained(path: Path, n_points: int) -> Unexplained:
    """Read ``unexplained.csv`` (peak heights are not in it: NaN); an InputError names a bad line."""
    flag = np.zeros(n_points, dtype=bool)
    score = np.zeros(n_points)
    peaks = []
    for line, row in enumerate(_rows(path, _UNEXP_HEADER), start=2):
        if len(row) != 4:
            raise InputError(f"expected 4 fields, found {len(row)}", source=str(path), where=f"line {line}")
        i = int(_number(row[0], path, line, "point"))
        if not 0 <= i < n_points:
            raise InputError(
                f"point {i} is not in the library (0-{n_points - 1})", source=str(path), where=f"line {line}"
            )
        if row[1].strip() not in ("0", "1"):
            raise InputError(f"flag {row[1]!r} is not 0 or 1", source=str(path), where=f"line {line}")
        flag[i] = row[1].strip() == "1"
        score[i] = _number(row[2], path, line, "score")
        peaks += [(i, _number(v, path, line, "peak"), np.nan) for v in row[3].split(";") if v.strip()]
    return Unexplained(flag, score, np.array(peaks, dtype=float).reshape(-1, 3))
