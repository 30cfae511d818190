"""GSAS powder data files (``.gsa``, ``.gss``, ``.fxye``): a title line, comment lines, a ``BANK`` line, data.

What is read: the one constant-wavelength bank. Its ``BANK`` line is ``BANK n points
records CONS start step 0 0 type`` with ``start`` and ``step`` in centidegrees of 2θ and
``type`` one of ``STD`` (the default: ten fields of eight characters per line, each a
two-character count of summed readings, then the intensity), ``ESD`` (five pairs of
eight-character fields: intensity, its error) or ``FXYE`` (free-format rows: 2θ in
centidegrees, intensity, error). GSAS keeps the wavelength in the instrument parameter
file, not here: give it (``--wavelength``). Time-of-flight banks are not read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import Pattern, checked_pattern
from ._text import parse_float, read_text

_WIDTH = 8  # characters of a fixed-format field


def read_gsas(path: str | os.PathLike[str]) -> Pattern:
    """Read a GSAS constant-wavelength data file holding one bank.

    Raises
    ------
    InputError
        When there is no ``BANK`` line or several, the bank is time-of-flight or of an
        unknown type, a field is not numeric, or the data hold fewer points than the
        ``BANK`` line says (a cut-off file).
    """
    path = Path(path)
    lines = read_text(path).splitlines()
    banks = [i for i, line in enumerate(lines) if line.startswith("BANK")]
    if len(banks) != 1:
        raise InputError(
            f"{len(banks)} BANK lines; drnets reads files of one bank" + ("" if banks else " (is this a GSAS file?)"),
            source=path,
        )
    at = banks[0]
    where = f"line {at + 1}"
    fields = lines[at].split()
    if len(fields) < 5:
        raise InputError("a BANK line needs: BANK n points records binning ...", source=path, where=where)
    binning = fields[4].upper()
    if binning != "CONS":
        raise InputError(
            f"bank binning {fields[4]!r}: only constant-wavelength (CONS) banks are read, not time-of-flight",
            source=path,
            where=where,
        )
    try:
        npts = int(fields[2])
        start, step = parse_float(fields[5]), parse_float(fields[6])
    except (ValueError, IndexError):
        raise InputError("BANK line: points, start and step must be numbers", source=path, where=where) from None
    kind = fields[9].upper() if len(fields) > 9 else "STD"
    if not 2 <= npts <= 10**8:
        raise InputError(f"{npts} points in the bank", source=path, where=where)
    body = [(i + 1, line) for i, line in enumerate(lines[at + 1 :], start=at + 1) if line.strip()]
    if kind == "FXYE":
        x, y = _free_rows(body, npts, path)
    elif kind in ("STD", "ESD"):
        y = _fixed_fields(body, npts, kind, path)
        x = (start + step * np.arange(npts)) / 100.0
    else:
        raise InputError(f"data type {fields[9]!r}: expected STD, ESD or FXYE", source=path, where=where)
    return checked_pattern(x, y, unit="twotheta", wavelength=None, source=path)


def _free_rows(body: list[tuple[int, str]], npts: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for lineno, line in body[:npts]:
        parts = line.split()
        try:
            vals = [parse_float(v) for v in parts]
        except ValueError:
            raise InputError(f"non-numeric row {line[:40]!r}", source=path, where=f"line {lineno}") from None
        if len(vals) != 3:
            raise InputError(f"{len(vals)} columns, expected 2θ, intensity, error", source=path, where=f"line {lineno}")
        x.append(vals[0] / 100.0)  # centidegrees
        y.append(vals[1])
    if len(x) < npts:
        raise InputError(f"{len(x)} rows of the {npts} the BANK line says: the file is cut off", source=path)
    return np.array(x), np.array(y)


def _fixed_fields(body: list[tuple[int, str]], npts: int, kind: str, path: Path) -> np.ndarray:
    per = 2 if kind == "ESD" else 1  # an ESD point is an intensity and its error
    values: list[float] = []
    for lineno, line in body:
        text = line.rstrip("\n")
        for k in range(0, len(text.rstrip()), _WIDTH):
            field = text[k : k + _WIDTH]
            if kind == "STD":
                field = field[2:]  # the first two characters count the readings summed
            try:
                values.append(parse_float(field.strip()))
            except ValueError:
                raise InputError(
                    f"field {k // _WIDTH + 1} {field.strip()[:20]!r} is not a number",
                    source=path,
                    where=f"line {lineno}",
                ) from None
        if len(values) >= per * npts:
            break
    if len(values) < per * npts:
        raise InputError(
            f"{len(values) // per} points of the {npts} the BANK line says: the file is cut off", source=path
        )
    return np.array(values[: per * npts : per])
