"""The stick-table CSV: ``phase,formula,q,intensity[,h,k,l][,role][,rir]``, one row per reflection."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core import InputError, Phase, PhaseLibrary
from ._atomic import atomic_text
from ._text import parse_float, read_text, refuse_cut, unended_line

_REQUIRED = ("phase", "formula", "q", "intensity")
_ROLES = ("phase", "substrate")
_MAX_INDEX = 1000  # Miller indices beyond it are corrupted values, not reflections


def read_sticks_csv(
    path: str | os.PathLike[str], elements: tuple[str, ...] | list[str], *, substrates: Sequence[str] = ()
) -> PhaseLibrary:
    """Read candidate phases from a stick table.

    Parameters
    ----------
    path : path-like
        CSV with header ``phase,formula,q,intensity`` and optional ``h,k,l``, ``role``
        (``phase``, the default, or ``substrate``) and ``rir`` (the phase's reference
        intensity ratio I/I(corundum), the same on each of its rows or given on its first
        row only: weight fractions without a structure). Each phase's rows come together.
    elements : sequence of str
        The system's elements (from the library), over which phase compositions are taken.
    substrates : sequence of str, optional
        Labels declared substrate besides those with role ``substrate``.

    Returns
    -------
    PhaseLibrary
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("empty file", source=path) from None
    except csv.Error as err:
        raise InputError(f"not a CSV file ({err})", source=path, where="line 1") from None
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} in header {header}", source=path, where="line 1")
    col = {c: header.index(c) for c in header}
    has_hkl = all(c in col for c in "hkl")
    rows: dict[str, dict] = {}
    previous = None
    numeric = [col[c] for c in ("q", "intensity", *("hkl" if has_hkl else ""))]
    shortest = {c: len(text) for c in numeric}  # per numeric column, the fewest characters above
    unended = unended_line(text)
    try:
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            where = f"line {lineno}"
            if len(row) != len(header):
                raise InputError(f"{len(row)} fields, expected {len(header)}", source=path, where=where)
            label, formula = row[col["phase"]].strip(), row[col["formula"]].strip()
            role = (row[col["role"]].strip().lower() or "phase") if "role" in col else "phase"
            if not label:
                raise InputError("empty phase label", source=path, where=where)
            if role not in _ROLES:
                raise InputError(f"role must be {' or '.join(_ROLES)}, got {role!r}", source=path, where=where)
            if reader.line_num == unended and rows:
                for c in numeric:
                    refuse_cut(row[c].strip(), shortest[c], source=path, where=where)
            shortest = {c: min(n, len(row[c].strip())) for c, n in shortest.items()}
            try:
                q = parse_float(row[col["q"]])
                inten = parse_float(row[col["intensity"]])
                hkl = [parse_float(row[col[c]]) for c in "hkl"] if has_hkl else None
            except ValueError:
                raise InputError("non-numeric q, intensity or hkl", source=path, where=where) from None
            if hkl is not None:
                if not all(v.is_integer() and abs(v) <= _MAX_INDEX for v in hkl):
                    raise InputError(f"h, k, l must be whole numbers up to {_MAX_INDEX}", source=path, where=where)
                hkl = [int(v) for v in hkl]
            if not (np.isfinite(q) and np.isfinite(inten)):
                raise InputError("non-finite q or intensity", source=path, where=where)
            if q <= 0:
                raise InputError(f"q must be positive, got {q:g}", source=path, where=where)
            if inten < 0:
                raise InputError(f"negative intensity {inten:g}", source=path, where=where)
            if label in rows and label != previous:
                e = rows[label]
                raise InputError(
                    f"phase {label!r} again, after other phases (its rows are on lines {e['line']}-{e['last']}): "
                    "keep a phase's rows together, or give the two phases different labels",
                    source=path,
                    where=where,
                )
            rir = None
            if "rir" in col and row[col["rir"]].strip():
                try:
                    rir = parse_float(row[col["rir"]])
                except ValueError:
                    raise InputError(f"non-numeric rir {row[col['rir']].strip()!r}", source=path, where=where) from None
                if not (np.isfinite(rir) and rir > 0):
                    raise InputError(f"rir must be a positive number, got {rir:g}", source=path, where=where)
            entry = rows.setdefault(
                label, {"formula": formula, "role": role, "q": [], "i": [], "hkl": [], "line": lineno, "rir": rir}
            )
            if rir is not None and entry["rir"] is not None and rir != entry["rir"]:
                raise InputError(
                    f"phase {label!r} has rir {rir:g} here but {entry['rir']:g} on line {entry['line']}",
                    source=path,
                    where=where,
                )
            if entry["rir"] is None:
                entry["rir"] = rir
            for key, value in (("formula", formula), ("role", role)):
                if entry[key] != value:
                    raise InputError(
                        f"phase {label!r} has {key} {value!r} here but {entry[key]!r} on line {entry['line']}",
                        source=path,
                        where=where,
                    )
            entry["q"].append(q)
            entry["i"].append(inten)
            entry["hkl"].append(hkl)
            entry["last"] = lineno
            previous = label
    except csv.Error as err:
        raise InputError(f"malformed CSV ({err})", source=path) from None
    if not rows:
        raise InputError("no phases (no data rows)", source=path)
    phases = []
    for label, e in rows.items():
        if max(e["i"]) <= 0:
            raise InputError(f"phase {label!r} has only zero intensities", source=path, where=f"line {e['line']}")
        try:
            phases.append(
                Phase(
                    label,
                    e["formula"],
                    np.array(e["q"]),
                    np.array(e["i"]),
                    np.array(e["hkl"]) if has_hkl else None,
                    rir=e["rir"],
                )
            )
        except InputError as err:
            raise InputError(err.problem, source=path, where=f"line {e['line']}") from None
    declared = [*(label for label, e in rows.items() if e["role"] == "substrate"), *substrates]
    try:
        return PhaseLibrary(phases, tuple(elements), source=str(path), substrates=declared)
    except InputError as err:
        lines = {f"phase {label!r}": f"line {e['line']}" for label, e in rows.items()}
        raise InputError(err.problem, source=path, where=lines.get(err.where or "", err.where)) from None


def write_sticks_csv(phases: PhaseLibrary, path: str | os.PathLike[str]) -> None:
    """Write phases as a stick table (atomically); h,k,l columns when every phase has them, a role
    column when a phase is declared substrate, an rir column when a phase has one."""
    has_hkl = all(p.hkl is not None for p in phases)
    has_role = bool(phases.substrates)
    has_rir = any(p.rir is not None for p in phases)
    with atomic_text(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            ["phase", "formula", "q", "intensity"]
            + (["h", "k", "l"] if has_hkl else [])
            + (["role"] if has_role else [])
            + (["rir"] if has_rir else [])
        )
        for p in phases:
            role = ["substrate" if p.label in phases.substrates else "phase"] if has_role else []
            for j in range(p.q.size):
                row = [p.label, p.formula, f"{p.q[j]:.6f}", f"{p.intensity[j]:.6f}"]
                if has_hkl:
                    row += [int(v) for v in p.hkl[j]]
                rir = ([f"{p.rir:.6g}" if p.rir is not None else ""]) if has_rir else []
                w.writerow(row + role + rir)
