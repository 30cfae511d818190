"""PANalytical ``.xrdml``: an XML file of one or more measurements, each holding scans.

What is read (namespaces ``http://www.xrdml.com/XRDMeasurement/1.x`` of any version are
accepted alike): the one scan's ``dataPoints``, with the 2θ axis as ``positions
axis="2Theta"`` (a ``startPosition``/``endPosition`` pair for equal steps, or
``listPositions``) and ``intensities`` (older files: ``counts``, multiplied by the
``beamAttenuationFactors`` where there are any; ``intensities`` are corrected already); the measurement's
``usedWavelength`` (``kAlpha1``, ``kAlpha2``, ``ratioKAlpha2KAlpha1``; ``intended="K-Alpha 1"``
means a Kα1 monochromator, so a single line) and the tube's ``anodeMaterial``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import Pattern, checked_pattern, every, first, local, number, parse_xml, tube_wavelength


def read_xrdml(path: str | os.PathLike[str]) -> Pattern:
    """Read a PANalytical ``.xrdml`` file holding one 2θ scan.

    Raises
    ------
    InputError
        When the file is not well-formed XML, not an XRDML document, holds no scan or more
        than one, has no 2θ axis, or states positions or intensities that are not numbers.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    root = parse_xml(data, source=path)
    if local(root.tag) != "xrdMeasurements":
        raise InputError(f"not an XRDML file (its root element is <{local(root.tag)}>)", source=path)
    scans = [(m, s) for m in every(root, "xrdMeasurement") for s in every(m, "scan")]
    if len(scans) != 1:
        raise InputError(
            f"{len(scans)} scans; drnets reads files of one scan (save each scan as its own file)", source=path
        )
    measurement, scan = scans[0]
    points = first(scan, "dataPoints")
    if points is None:
        raise InputError("the scan has no <dataPoints>", source=path)
    counts_el = first(points, "intensities")
    if counts_el is None:
        counts_el = first(points, "counts")
    if counts_el is None or not (counts_el.text or "").strip():
        raise InputError("the scan has no <intensities> (or <counts>)", source=path, where="dataPoints")
    y = _numbers(counts_el.text, path, "intensities")
    factors = first(points, "beamAttenuationFactors")
    if local(counts_el.tag) == "counts" and factors is not None:
        att = _numbers(factors.text, path, "beamAttenuationFactors")
        if att.size != y.size:
            raise InputError(f"{att.size} attenuation factors for {y.size} counts", source=path, where="dataPoints")
        y = y * att
    axis = next((p for p in every(points, "positions") if p.get("axis", "").lower() == "2theta"), None)
    if axis is None:
        named = ", ".join(p.get("axis", "?") for p in every(points, "positions")) or "none"
        raise InputError(f"no 2Theta positions (axes: {named}): not a powder scan", source=path)
    unit = axis.get("unit", "deg").lower()
    if unit not in ("deg", "degree", "degrees", "°"):
        raise InputError(f"2Theta positions in {unit!r}, expected degrees", source=path, where="positions")
    listed = first(axis, "listPositions")
    if listed is not None:
        x = _numbers(listed.text, path, "listPositions")
    else:
        start = number(_text(first(axis, "startPosition")), source=path, where="startPosition")
        end = number(_text(first(axis, "endPosition")), source=path, where="endPosition")
        if start is None or end is None:
            raise InputError("2Theta positions need startPosition and endPosition, or listPositions", source=path)
        x = np.linspace(start, end, y.size) if y.size > 1 else np.array([start])
    used = first(measurement, "usedWavelength")
    lam = None
    if used is not None:
        where = "usedWavelength"
        lam = tube_wavelength(
            number(_text(first(used, "kAlpha1")), source=path, where=where),
            number(_text(first(used, "kAlpha2")), source=path, where=where),
            number(_text(first(used, "ratioKAlpha2KAlpha1")), source=path, where=where),
            _text(first(measurement, "anodeMaterial")),
            single=used.get("intended", "").replace(" ", "").lower() == "k-alpha1",
            source=path,
            where=where,
        )
    return checked_pattern(x, y, unit="twotheta", wavelength=lam, source=path)


def _text(el) -> str | None:
    return None if el is None else el.text


def _numbers(text: str | None, path: Path, where: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in (text or "").split()], dtype=float)
    except ValueError:
        bad = next(v for v in (text or "").split() if not _is_number(v))
        raise InputError(f"{bad[:40]!r} is not a number", source=path, where=where) from None


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True
