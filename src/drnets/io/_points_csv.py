"""``points.csv`` of a solution from pattern files: which file (sample) each point is, and its composition.

Layout: a header ``point,name`` then one column per element where the compositions are
known; one row per point, in point order. ``name`` is the sample name (the file's stem).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ..core import InputError, Library
from ._atomic import atomic_text
from ._text import parse_float, read_text

#: The file's name in a solution folder.
POINTS = "points.csv"


def write_points_csv(path: str | os.PathLike[str], library: Library, *, compositions: bool = True) -> None:
    """Write ``point,name[,<El1>,...]`` for a library read from pattern files (atomically).

    Parameters
    ----------
    path : path-like
        The output file.
    library : Library
        With ``sample`` (else ``file``) metadata naming each point.
    compositions : bool
        Whether to add the composition columns (False for samples of unknown composition).
    """
    names = library.metadata.get("sample", library.metadata.get("file"))
    if names is None:
        raise ValueError("the library names no sample or file per point")
    with atomic_text(Path(path)) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["point", "name", *(library.elements if compositions else ())])
        for i, name in enumerate(names):
            comp = [f"{v:.10g}" for v in library.compositions[i]] if compositions else []
            w.writerow([i, str(name), *comp])


def read_points_csv(path: str | os.PathLike[str]) -> tuple[list[str], tuple[str, ...], np.ndarray | None]:
    """Read a ``points.csv``.

    Returns
    -------
    names : list of str
        One per point, in point order.
    elements : tuple of str
        The composition columns (empty where there are none).
    compositions : ndarray of shape (N, M) or None

    Raises
    ------
    InputError
        On a wrong header, a point out of order, a wrong field count or a non-numeric composition.
    """
    path = Path(path)
    try:
        rows = [r for r in csv.reader(io.StringIO(read_text(path))) if r]
    except csv.Error as err:
        raise InputError(f"not a CSV file ({err})", source=path) from None
    if not rows or [h.strip() for h in rows[0][:2]] != ["point", "name"]:
        raise InputError("expected a header starting with 'point,name'", source=path, where="line 1")
    elements = tuple(h.strip() for h in rows[0][2:])
    names, comps = [], []
    for lineno, row in enumerate(rows[1:], start=2):
        where = f"line {lineno}"
        if len(row) != 2 + len(elements):
            raise InputError(f"{len(row)} fields, expected {2 + len(elements)}", source=path, where=where)
        if row[0].strip() != str(lineno - 2):
            raise InputError(f"point {row[0]!r} where point {lineno - 2} was expected", source=path, where=where)
        names.append(row[1])
        try:
            comps.append([parse_float(v) for v in row[2:]])
        except ValueError:
            raise InputError("non-numeric composition", source=path, where=where) from None
    return names, elements, (np.array(comps, dtype=float).reshape(len(names), len(elements)) if elements else None)
