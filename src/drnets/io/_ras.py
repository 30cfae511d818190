"""Rigaku ``.ras`` (SmartLab, Ultima): text, a header of ``*KEY "value"`` lines, then data rows.

What is read: one ``*RAS_DATA_START`` ... ``*RAS_DATA_END`` block; its header's
``*MEAS_SCAN_AXIS_X`` (a 2θ axis: ``TwoThetaTheta``, ``TwoTheta``, ...) and
``*MEAS_SCAN_UNIT_X`` (degrees), ``*MEAS_DATA_COUNT`` (the rows to expect), the tube's ``*HW_XG_TARGET_NAME``,
``*HW_XG_WAVE_LENGTH_ALPHA1`` and ``*HW_XG_WAVE_LENGTH_ALPHA2`` (Å; ``*HW_XG_WAVE_TYPE``
``Ka1`` means a single line); the rows between ``*RAS_INT_START`` and ``*RAS_INT_END``:
angle, counts and the attenuator factor the counts are multiplied by.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import Pattern, axis_unit, checked_pattern, number, tube_wavelength
from ._text import parse_float, read_text

_HEADER = re.compile(r'^\*(\S+)\s*(?:"(.*)"|(\S*))\s*$')


def read_ras(path: str | os.PathLike[str]) -> Pattern:
    """Read a Rigaku ``.ras`` file holding one 2θ scan.

    Raises
    ------
    InputError
        When the file has no data block or several, a block is not closed (a cut-off
        file), the scan axis is not 2θ, or a data row is not numeric.
    """
    path = Path(path)
    text = read_text(path)  # SmartLab writes Shift-JIS comments: read as Latin-1, the numbers are ASCII
    header: dict[str, str] = {}
    rows: list[list[float]] = []
    blocks, state = 0, "outside"
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        where = f"line {lineno}"
        if not line:
            continue
        if line.startswith("*"):
            key = line.split(None, 1)[0]
            if key == "*RAS_DATA_START":
                blocks += 1
                if blocks > 1:
                    raise InputError("several scans (RAS_DATA_START blocks); drnets reads files of one", source=path)
                state = "header"
            elif key == "*RAS_INT_START":
                state = "data"
            elif key == "*RAS_INT_END":
                state = "ended"
            elif state == "header":
                m = _HEADER.match(line)
                if m:
                    header[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
            continue
        if state != "data":
            raise InputError(f"text outside the data rows: {line[:40]!r}", source=path, where=where)
        fields = line.split()
        try:
            vals = [parse_float(f) for f in fields]
        except ValueError:
            raise InputError(f"non-numeric row {line[:40]!r}", source=path, where=where) from None
        if len(vals) not in (2, 3):
            raise InputError(f"{len(vals)} columns, expected angle, counts[, attenuation]", source=path, where=where)
        rows.append(vals)
    if blocks == 0:
        raise InputError("no *RAS_DATA_START: not a Rigaku .ras file", source=path)
    if state != "ended":
        raise InputError("the data rows are not closed by *RAS_INT_END: the file is cut off", source=path)
    count = number(header.get("MEAS_DATA_COUNT"), source=path, where="MEAS_DATA_COUNT")
    if count is not None and count != len(rows):
        raise InputError(f"{len(rows)} data rows but MEAS_DATA_COUNT says {count:g}: a damaged file", source=path)
    if any(len(r) != len(rows[0]) for r in rows):
        raise InputError("rows of different column counts", source=path)
    unit = axis_unit(header.get("MEAS_SCAN_AXIS_X"))
    if unit != "twotheta":
        raise InputError(f"scan axis {header.get('MEAS_SCAN_AXIS_X')!r}: not a 2θ scan", source=path)
    if header.get("MEAS_SCAN_UNIT_X", "deg").lower() not in ("deg", "degree", "degrees"):
        raise InputError(f"scan unit {header['MEAS_SCAN_UNIT_X']!r}, expected degrees", source=path)
    data = np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.zeros((0, 2))
    y = data[:, 1] * (data[:, 2] if data.shape[1] == 3 else 1.0)
    lam = tube_wavelength(
        number(header.get("HW_XG_WAVE_LENGTH_ALPHA1"), source=path, where="HW_XG_WAVE_LENGTH_ALPHA1"),
        number(header.get("HW_XG_WAVE_LENGTH_ALPHA2"), source=path, where="HW_XG_WAVE_LENGTH_ALPHA2"),
        None,
        header.get("HW_XG_TARGET_NAME"),
        single=header.get("HW_XG_WAVE_TYPE", "").strip().lower() == "ka1",
        source=path,
        where="HW_XG_WAVE_LENGTH_ALPHA1",
    )
    return checked_pattern(data[:, 0], y, unit="twotheta", wavelength=lam, source=path)
