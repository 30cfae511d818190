"""The stick-table CSV: ``phase,formula,q,intensity[,h,k,l]``, one row per reflection."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ..core import InputError, Phase, PhaseLibrary
from ._atomic import atomic_text

_REQUIRED = ("phase", "formula", "q", "intensity")


def read_sticks_csv(path: str | os.PathLike[str], elements: tuple[str, ...] | list[str]) -> PhaseLibrary:
    """Read candidate phases from a stick table.

    Parameters
    ----------
    path : path-like
        CSV with header ``phase,formula,q,intensity`` and optional ``h,k,l``.
    elements : sequence of str
        The system's elements (from the library), over which phase compositions are taken.

    Returns
    -------
    PhaseLibrary
    """
    path = Path(path)
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as err:
        raise InputError(err.strerror or "cannot open", source=path) from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError("empty file", source=path) from None
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputError(f"not a CSV file ({err})", source=path, where="line 1") from None
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)} in header {header}", source=path, where="line 1")
        col = {c: header.index(c) for c in header}
        has_hkl = all(c in col for c in "hkl")
        rows: dict[str, dict] = {}
        try:
            for lineno, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                where = f"line {lineno}"
                if len(row) != len(header):
                    raise InputError(f"{len(row)} fields, expected {len(header)}", source=path, where=where)
                label, formula = row[col["phase"]].strip(), row[col["formula"]].strip()
                if not label:
                    raise InputError("empty phase label", source=path, where=where)
                try:
                    q = float(row[col["q"]])
                    inten = float(row[col["intensity"]])
                    hkl = [int(float(row[col[c]])) for c in "hkl"] if has_hkl else None
                except (ValueError, OverflowError):
                    raise InputError(
                        "non-numeric or non-finite q, intensity or hkl", source=path, where=where
                    ) from None
                if not (np.isfinite(q) and np.isfinite(inten)):
                    raise InputError("non-finite q or intensity", source=path, where=where)
                if q <= 0:
                    raise InputError(f"q must be positive, got {q:g}", source=path, where=where)
                if inten < 0:
                    raise InputError(f"negative intensity {inten:g}", source=path, where=where)
                entry = rows.setdefault(label, {"formula": formula, "q": [], "i": [], "hkl": [], "line": lineno})
                if entry["formula"] != formula:
                    raise InputError(
                        f"phase {label!r} has formula {formula!r} here "
                        f"but {entry['formula']!r} on line {entry['line']}",
                        source=path,
                        where=where,
                    )
                entry["q"].append(q)
                entry["i"].append(inten)
                entry["hkl"].append(hkl)
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputError(f"malformed CSV ({err})", source=path) from None
    if not rows:
        raise InputError("no phases (no data rows)", source=path)
    phases = []
    for label, e in rows.items():
        if max(e["i"]) <= 0:
            raise InputError(f"phase {label!r} has only zero intensities", source=path, where=f"line {e['line']}")
        try:
            phases.append(
                Phase(label, e["formula"], np.array(e["q"]), np.array(e["i"]), np.array(e["hkl"]) if has_hkl else None)
            )
        except InputError as err:
            raise InputError(err.problem, source=path, where=f"line {e['line']}") from None
    try:
        return PhaseLibrary(phases, tuple(elements), source=str(path))
    except InputError as err:
        line = f"line {rows[err.where.split(chr(39))[1]]['line']}" if err.where and "'" in err.where else err.where
        raise InputError(err.problem, source=path, where=line) from None


def write_sticks_csv(phases: PhaseLibrary, path: str | os.PathLike[str]) -> None:
    """Write phases as a stick table (atomically); h,k,l columns when every phase has them."""
    has_hkl = all(p.hkl is not None for p in phases)
    with atomic_text(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["phase", "formula", "q", "intensity"] + (["h", "k", "l"] if has_hkl else []))
        for p in phases:
            for j in range(p.q.size):
                row = [p.label, p.formula, f"{p.q[j]:.6f}", f"{p.intensity[j]:.6f}"]
                if has_hkl:
                    row += [int(v) for v in p.hkl[j]]
                w.writerow(row)
