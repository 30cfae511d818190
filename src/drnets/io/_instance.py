"""The Phase-Mapper / JCAP instance text format (``KEY=v1,v2,...``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core import InputError, Library, check_elements
from ..core.constants import MAX_INTENSITY
from ._atomic import atomic_text
from ._text import parse_float, read_text, refuse_cut, unended_line

_META_KEYS = ("X", "Y", "sample_no", "plate_id", "pattern_fn")


def _parse_lines(path: Path) -> dict[str, tuple[int, str]]:
    """Map each key to (line number, raw value string)."""
    text = read_text(path)
    unended = unended_line(text)
    entries: dict[str, tuple[int, str]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if "=" not in line:
            raise InputError(f"expected KEY=values, got {line[:40]!r}", source=path, where=f"line {lineno}")
        key, value = line.split("=", 1)
        key = key.strip()
        if not key:
            raise InputError("empty key", source=path, where=f"line {lineno}")
        if key in entries:
            raise InputError(
                f"key {key!r} repeated (first on line {entries[key][0]})", source=path, where=f"line {lineno}"
            )
        entries[key] = (lineno, value.strip())
        items = [v.strip() for v in value.split(",")]
        if lineno == unended and len(items) > 1:
            refuse_cut(items[-1], min(len(v) for v in items[:-1]), source=path, where=f"line {lineno} ({key})")
    return entries


def _numbers(path: Path, entries: dict, key: str, n: int | None = None) -> np.ndarray:
    if key not in entries:
        raise InputError(f"missing key {key!r}", source=path)
    lineno, value = entries[key]
    where = f"line {lineno} ({key})"
    items = [v for v in value.split(",")]
    if items and items[-1].strip() == "":
        items = items[:-1]  # tolerate a trailing comma
    try:
        arr = np.array([parse_float(v) for v in items], dtype=float)
    except ValueError:
        bad = next(v for v in items if not _is_float(v))
        raise InputError(f"non-numeric value {bad.strip()!r}", source=path, where=where) from None
    if n is not None and arr.size != n:
        raise InputError(f"{arr.size} values, expected {n}", source=path, where=where)
    if not np.all(np.isfinite(arr)):
        raise InputError(
            f"non-finite value at position {int(np.argmax(~np.isfinite(arr))) + 1}", source=path, where=where
        )
    return arr


def _is_float(v: str) -> bool:
    try:
        parse_float(v)
        return True
    except ValueError:
        return False


def _integer(path: Path, entries: dict, key: str) -> int:
    if key not in entries:
        raise InputError(f"missing key {key!r}", source=path)
    lineno, value = entries[key]
    try:
        out = int(value)
    except ValueError:
        raise InputError(
            f"expected an integer, got {value[:30]!r}", source=path, where=f"line {lineno} ({key})"
        ) from None
    if out <= 0:
        raise InputError(f"must be positive, got {out}", source=path, where=f"line {lineno} ({key})")
    return out


def _names(path: Path, entries: dict, key: str) -> list[str]:
    if key not in entries:
        raise InputError(f"missing key {key!r}", source=path)
    lineno, value = entries[key]
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise InputError("no names given", source=path, where=f"line {lineno} ({key})")
    return names


def read_instance(path: str | os.PathLike[str]) -> Library:
    """Read a library from a Phase-Mapper / JCAP instance text file.

    Parameters
    ----------
    path : path-like
        The ``instance.txt`` file: UTF-8 (with or without a byte-order mark) or Latin-1,
        any line ends.

    Returns
    -------
    Library

    Raises
    ------
    InputError
        On any malformed content, naming the line and key.
    """
    path = Path(path)
    entries = _parse_lines(path)
    m = _integer(path, entries, "M")
    n = _integer(path, entries, "N")
    elements = _names(path, entries, "Elements")
    check_elements(elements, source=path, where=f"line {entries['Elements'][0]} (Elements)")
    if len(elements) != m:
        raise InputError(
            f"{len(elements)} elements listed but M={m}", source=path, where=f"line {entries['Elements'][0]} (Elements)"
        )
    comp_keys = _names(path, entries, "Composition") if "Composition" in entries else elements
    if len(comp_keys) != m:
        raise InputError(
            f"{len(comp_keys)} composition keys but M={m}",
            source=path,
            where=f"line {entries['Composition'][0]} (Composition)",
        )
    comp = np.stack([_numbers(path, entries, k, n) for k in comp_keys], axis=1)
    q = _numbers(path, entries, "Q")
    patterns = np.stack([_numbers(path, entries, f"I{i}", q.size) for i in range(1, n + 1)])
    extra = sorted(k for k in entries if k.startswith("I") and k[1:].isdigit() and not 1 <= int(k[1:]) <= n)
    if extra:
        raise InputError(f"pattern key {extra[0]} beyond N={n}", source=path, where=f"line {entries[extra[0]][0]}")
    metadata: dict[str, np.ndarray] = {}
    if "Deposition" in entries:
        for key in _names(path, entries, "Deposition"):
            metadata[key] = _numbers(path, entries, key, n)
    for key in _META_KEYS:
        if key in entries and key not in metadata:
            lineno, value = entries[key]
            vals = [v.strip() for v in value.split(",")]
            if vals and vals[-1] == "" and len(vals) == n + 1:
                vals = vals[:-1]
            if len(vals) != n:
                raise InputError(f"{len(vals)} values, expected {n}", source=path, where=f"line {lineno} ({key})")
            metadata[key] = np.array(vals, dtype=str)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values are reported as errors, not warned about
        _check_library_values(path, entries, comp, comp_keys, q, patterns)
    return Library(
        elements=tuple(elements), compositions=comp, q=q, patterns=patterns, metadata=metadata, source=str(path)
    )


def _check_library_values(path, entries, comp, comp_keys, q, patterns) -> None:
    """Re-state the model's checks with line numbers, which only the reader knows."""
    if np.any(np.diff(q) <= 0):
        i = int(np.argmax(np.diff(q) <= 0))
        raise InputError(
            f"Q grid is not strictly ascending at position {i + 2}", source=path, where=f"line {entries['Q'][0]} (Q)"
        )
    sums = comp.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > 0.02)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"composition of point {i + 1} sums to {sums[i]:.4g}, not 1 (keys {','.join(comp_keys)})",
            source=path,
            where=f"line {entries[comp_keys[0]][0]}",
        )
    if np.any(comp < 0):
        i, j = (int(v) for v in np.argwhere(comp < 0)[0])
        raise InputError(
            f"negative composition at point {i + 1}",
            source=path,
            where=f"line {entries[comp_keys[j]][0]} ({comp_keys[j]})",
        )
    for bad, problem in (
        (patterns < 0, "negative intensity {v:g} at position {j}"),
        (
            patterns > MAX_INTENSITY,
            f"intensity {{v:g}} at position {{j}} is over {MAX_INTENSITY:g}: rescale the patterns",
        ),
    ):
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise InputError(
                problem.format(v=patterns[i, j], j=j + 1),
                source=path,
                where=f"line {entries[f'I{i + 1}'][0]} (I{i + 1})",
            )


def write_instance(library: Library, path: str | os.PathLike[str]) -> None:
    """Write a library as instance text (atomically)."""
    comp_keys = [f"C{e}" for e in library.elements]
    with atomic_text(path) as fh:
        fh.write("// Metadata\n")
        fh.write(f"M={library.n_elements}\nElements={','.join(library.elements)}\nN={library.n_points}\n")
        fh.write(f"Composition={','.join(comp_keys)}\n")
        numeric_meta = [
            k for k, v in library.metadata.items() if np.issubdtype(v.dtype, np.number) and k.isidentifier()
        ]
        if numeric_meta:
            fh.write(f"Deposition={','.join(numeric_meta)}\n")
        fh.write("\n// Deposition/Composition data\n")
        for k in numeric_meta:
            fh.write(f"{k}=" + ",".join(repr(float(v)) for v in library.metadata[k]) + "\n")
        for k, v in library.metadata.items():
            if k in _META_KEYS and k not in numeric_meta:
                fh.write(f"{k}=" + ",".join(str(s).replace(",", "_") for s in v) + "\n")
        for key, col in zip(comp_keys, library.compositions.T):
            fh.write(f"{key}=" + ",".join(f"{v:.10g}" for v in col) + "\n")
        fh.write("\n// Integrated counts data\n")
        fh.write("Q=" + ",".join(f"{v:.10g}" for v in library.q) + "\n")
        for i, row in enumerate(library.patterns, start=1):
            fh.write(f"I{i}=" + ",".join(f"{v:.8g}" for v in row) + "\n")
