"""Rigaku ``.rasx`` (SmartLab Studio II): a zip archive of a profile and its measurement conditions.

What is read: the one ``Data0/Profile0.txt`` (tab-separated rows: angle, counts,
attenuator factor; a byte-order mark may open it) and ``Data0/MesurementConditions0.xml``
(so spelt by the instrument software; the spelling ``Measurement`` is accepted too): the
scan's ``AxisName`` (a 2θ axis) and the ``XrayGenerator``'s ``TargetName``,
``WavelengthKalpha1``, ``WavelengthKalpha2`` (Å) and ``WaveType`` (``Ka1``: a single line).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import (
    Pattern,
    axis_unit,
    checked_pattern,
    first,
    number,
    open_zip,
    parse_xml,
    tube_wavelength,
    zip_member,
)
from ._text import parse_float

_PROFILE = re.compile(r"^Data\d+/Profile\d+\.txt$", re.IGNORECASE)
_CONDITIONS = re.compile(r"^Data\d+/Mea?surementConditions\d+\.xml$", re.IGNORECASE)


def read_rasx(path: str | os.PathLike[str]) -> Pattern:
    """Read a Rigaku ``.rasx`` archive holding one 2θ profile.

    Raises
    ------
    InputError
        When the file is no zip archive (or a damaged one), holds no profile or several,
        the scan axis is not 2θ, or a profile row is not numeric.
    """
    path = Path(path)
    with open_zip(path, "Rigaku .rasx") as archive:
        names = archive.namelist()
        profiles = [n for n in names if _PROFILE.match(n)]
        if len(profiles) != 1:
            raise InputError(
                f"{len(profiles)} profiles (Data*/Profile*.txt); drnets reads archives of one", source=path
            )
        conditions = [n for n in names if _CONDITIONS.match(n)]
        text = zip_member(archive, profiles[0], source=path).decode("utf-8-sig", errors="replace")
        root = None
        if conditions:
            root = parse_xml(zip_member(archive, conditions[0], source=path), source=path, where=conditions[0])
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            vals = [parse_float(v) for v in line.split()]
        except ValueError:
            raise InputError(
                f"non-numeric row {line[:40]!r}", source=path, where=f"{profiles[0]}: line {lineno}"
            ) from None
        if len(vals) not in (2, 3) or (rows and len(vals) != len(rows[0])):
            raise InputError(
                f"{len(vals)} columns, expected angle, counts, attenuation",
                source=path,
                where=f"{profiles[0]}: line {lineno}",
            )
        rows.append(vals)
    lam = None
    if root is not None:
        axis = first(root, "AxisName")
        name = None if axis is None else axis.text
        if name and axis_unit(name) != "twotheta":
            raise InputError(f"scan axis {name!r}: not a 2θ scan", source=path, where=conditions[0])

        def text_of(tag: str) -> str | None:
            el = first(root, tag)
            return None if el is None else el.text

        lam = tube_wavelength(
            number(text_of("WavelengthKalpha1"), source=path, where="WavelengthKalpha1"),
            number(text_of("WavelengthKalpha2"), source=path, where="WavelengthKalpha2"),
            None,
            text_of("TargetName"),
            single=(text_of("WaveType") or "").strip().lower() == "ka1",
            source=path,
            where="WavelengthKalpha1",
        )
    data = np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.zeros((0, 2))
    y = data[:, 1] * (data[:, 2] if data.shape[1] == 3 else 1.0)
    return checked_pattern(data[:, 0], y, unit="twotheta", wavelength=lam, source=path)
