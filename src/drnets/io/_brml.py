"""Bruker ``.brml`` (DIFFRAC.SUITE): a zip archive of XML files.

What is read: the one ``Experiment*/RawData*.xml`` member, its ``DataRoute`` that holds
``<Datum>`` rows (where several do, the last: earlier routes are pre-scans), each row
``time,flag,2θ,θ,counts`` separated by commas (the 2θ column is the third, the counts the
fifth); and the tube's ``WaveLengthAlpha1``, ``WaveLengthAlpha2``, ``WaveLengthRatio``
(``Value`` attributes, Å) and ``TubeMaterial``, from the raw-data member or else from any
other XML member that states them (``MeasurementContainer.xml``). Detector snapshots (a
still, position-sensitive measurement with one ``Datum`` of all channels) are not read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import Pattern, checked_pattern, every, first, number, open_zip, parse_xml, tube_wavelength, zip_member

_RAW_DATA = re.compile(r"(^|/)RawData\d*\.xml$", re.IGNORECASE)
# Columns of a Datum row of a scan: counting time, a flag, 2θ, θ, counts.
_TWO_THETA, _COUNTS = 2, 4


def read_brml(path: str | os.PathLike[str]) -> Pattern:
    """Read a Bruker ``.brml`` archive holding one 2θ scan.

    Raises
    ------
    InputError
        When the file is no zip archive (or a damaged one), holds no raw-data member or
        more than one, its XML is not well-formed, it holds no scan rows, or a row is
        short or not numeric.
    """
    path = Path(path)
    with open_zip(path, "Bruker .brml") as archive:
        names = archive.namelist()
        raw = [n for n in names if _RAW_DATA.search(n)]
        if len(raw) != 1:
            raise InputError(
                f"{len(raw)} RawData members; drnets reads archives of one measurement"
                + ("" if raw else " (is this a .brml file?)"),
                source=path,
            )
        root = parse_xml(zip_member(archive, raw[0], source=path), source=path, where=raw[0])
        routes = [r for r in every(root, "DataRoute") if every(r, "Datum")]
        if not routes:
            raise InputError("no <Datum> rows: no scan in the archive", source=path, where=raw[0])
        rows = every(routes[-1], "Datum")
        x, y = np.empty(len(rows)), np.empty(len(rows))
        for i, row in enumerate(rows):
            fields = (row.text or "").split(",")
            where = f"{raw[0]}: Datum {i + 1}"
            if len(fields) <= _COUNTS:
                if i == 0 and len(rows) == 1:
                    raise InputError("one Datum row: a still (detector snapshot) measurement, not a scan", source=path)
                raise InputError(f"{len(fields)} fields, expected at least {_COUNTS + 1}", source=path, where=where)
            x[i] = number(fields[_TWO_THETA], source=path, where=where)
            y[i] = number(fields[_COUNTS], source=path, where=where)
        tube = _tube(root)
        if tube is None:  # some versions state the tube beside the raw data only
            for name in names:
                if name != raw[0] and name.lower().endswith(".xml") and "container" in name.lower():
                    other = parse_xml(zip_member(archive, name, source=path), source=path, where=name)
                    tube = _tube(other)
                    if tube is not None:
                        break
    lam = None
    if tube is not None:
        k1, k2, ratio, anode = tube
        lam = tube_wavelength(
            number(k1, source=path, where="WaveLengthAlpha1"),
            number(k2, source=path, where="WaveLengthAlpha2"),
            number(ratio, source=path, where="WaveLengthRatio"),
            anode,
            single=False,
            source=path,
            where="WaveLengthAlpha1",
        )
    return checked_pattern(x, y, unit="twotheta", wavelength=lam, source=path)


def _tube(root) -> tuple[str | None, str | None, str | None, str | None] | None:
    """The tube's (Kα1, Kα2, ratio, anode) texts where the document states Kα1, else None."""
    k1 = first(root, "WaveLengthAlpha1")
    if k1 is None or not k1.get("Value"):
        return None

    def value(name: str) -> str | None:
        el = first(root, name)
        return None if el is None else el.get("Value")

    material = first(root, "TubeMaterial")
    anode = None if material is None else (material.get("Value") or material.text)
    return k1.get("Value"), value("WaveLengthAlpha2"), value("WaveLengthRatio"), anode
