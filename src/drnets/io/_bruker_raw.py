"""Bruker (Siemens) ``.raw`` binary files, versions 3 (``RAW1.01``) and 4 (``RAW4.00``); little-endian.

Version 3 (DIFFRAC-plus; layout of the XCH manual's appendix A): a 712-byte file header
(range count at byte 12, anode name at 608, Kα average/Kα1/Kα2/Kβ/ratio as float64 at
616/624/632/640/648), then per range a 304-byte header (its length at +0, the step count
at +4, θ start at +8, 2θ start at +16, step at +176, supplementary headers' size at +256),
the supplementary headers, and one float32 intensity per step.

Version 4 (DIFFRAC.SUITE): a 61-byte header, then tagged records (type, length): type 30
holds the tube (Kα average/Kα1/Kα2/Kβ/ratio as float64 at +72/+80/+88/+96/+104, anode at
+116); a record of type 0 or 160 opens a range: scan type at +32, start at +72, step at
+80, steps at +88, bytes per point at +136, sub-records' size at +140, then the sub-records
(type 50 an axis: its name at +12, its start at +56) and the intensities. The 2θ start is
the "2Theta" axis record's where there is one.

Versions 1 and 2 are older and not read; a file of several ranges is refused.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ..core import InputError
from ._pattern import Pattern, checked_pattern, tube_wavelength

_V3_HEADER = 712
_V3_RANGE_HEADER = 304
_V4_HEADER = 61
_V4_RANGE_TYPES = (0, 160)
# A record longer than the file, or a step count beyond any scan, is a damaged file.
_MAX_STEPS = 10**8


def read_bruker_raw(path: str | os.PathLike[str]) -> Pattern:
    """Read a Bruker ``.raw`` file (version 3 or 4) holding one range.

    Raises
    ------
    InputError
        When the file is not a Bruker RAW file of version 3 or 4, is cut off, or holds no
        range or several.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    head = data[:7]
    if head == b"RAW1.01":
        return _version3(data, path)
    if head == b"RAW4.00":
        return _version4(data, path)
    if data[:4] in (b"RAW ", b"RAW2"):
        raise InputError("a Bruker RAW file of version 1 or 2: not read (export it as .xy or .brml)", source=path)
    raise InputError(f"not a Bruker RAW file (it starts {data[:8]!r}, not RAW1.01 or RAW4.00)", source=path)


class _Bytes:
    """Little-endian fields of a byte string, refusing reads past its end."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path = data, path

    def need(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or offset + size > len(self.data):
            raise InputError(
                f"the file ends at byte {len(self.data)} inside the {what} (byte {offset}): it is cut off",
                source=self.path,
            )

    def u32(self, offset: int, what: str) -> int:
        self.need(offset, 4, what)
        return struct.unpack_from("<I", self.data, offset)[0]

    def f64(self, offset: int, what: str) -> float:
        self.need(offset, 8, what)
        return struct.unpack_from("<d", self.data, offset)[0]

    def text(self, offset: int, size: int, what: str) -> str:
        self.need(offset, size, what)
        return self.data[offset : offset + size].split(b"\0", 1)[0].decode("latin-1").strip()

    def floats(self, offset: int, count: int, what: str) -> np.ndarray:
        self.need(offset, 4 * count, what)
        return np.frombuffer(self.data, dtype="<f4", count=count, offset=offset).astype(float)


def _tube(b: _Bytes, at: int, anode_at: int, what: str):
    k1, k2, ratio = b.f64(at + 8, what), b.f64(at + 16, what), b.f64(at + 32, what)
    return tube_wavelength(
        k1 or None, k2 or None, ratio, b.text(anode_at, 4, what), single=False, source=b.path, where=what
    )


def _version3(data: bytes, path: Path) -> Pattern:
    b = _Bytes(data, path)
    b.need(0, _V3_HEADER, "file header")
    ranges = b.u32(12, "file header")
    if ranges != 1:
        raise InputError(f"{ranges} ranges; drnets reads files of one range", source=path)
    lam = _tube(b, 616, 608, "file header")
    at = _V3_HEADER
    length = b.u32(at, "range header")
    if length != _V3_RANGE_HEADER:
        raise InputError(f"range header of {length} bytes, expected {_V3_RANGE_HEADER}: a damaged file", source=path)
    steps = b.u32(at + 4, "range header")
    if not 2 <= steps <= _MAX_STEPS:
        raise InputError(f"{steps} steps in the range: a damaged file", source=path)
    start, step = b.f64(at + 16, "range header"), b.f64(at + 176, "range header")
    extra = b.u32(at + 256, "range header")
    y = b.floats(at + length + extra, steps, "intensities")
    return checked_pattern(start + step * np.arange(steps), y, unit="twotheta", wavelength=lam, source=path)


def _version4(data: bytes, path: Path) -> Pattern:
    b = _Bytes(data, path)
    at, lam = _V4_HEADER, None
    while True:  # the file's records, up to the first range
        kind = b.u32(at, "record list")
        if kind in _V4_RANGE_TYPES:
            break
        length = b.u32(at + 4, "record list")
        if length < 8:
            raise InputError(f"a record of {length} bytes at byte {at}: a damaged file", source=path)
        if kind == 30:
            b.need(at, 120, "tube record")
            lam = _tube(b, at + 72, at + 116, "tube record")
        at += length
    ranges: list[tuple[np.ndarray, np.ndarray]] = []
    while at < len(data):
        kind = b.u32(at, "range header")
        if kind not in _V4_RANGE_TYPES:
            raise InputError(f"record type {kind} where a range was expected (byte {at}): a damaged file", source=path)
        scan = b.text(at + 32, 24, "range header")
        start, step = b.f64(at + 72, "range header"), b.f64(at + 80, "range header")
        steps = b.u32(at + 88, "range header")
        size, sub = b.u32(at + 136, "range header"), b.u32(at + 140, "range header")
        if not 2 <= steps <= _MAX_STEPS:
            raise InputError(f"{steps} steps in a range: a damaged file", source=path)
        if size != 4:
            raise InputError(f"{size} bytes per point, expected 4 (float32)", source=path)
        pos, end = at + 160, at + 160 + sub
        while pos < end:  # sub-records: take the 2θ axis's start
            kind, length = b.u32(pos, "range sub-record"), b.u32(pos + 4, "range sub-record")
            if length < 8:
                raise InputError(f"a sub-record of {length} bytes at byte {pos}: a damaged file", source=path)
            if kind == 50 and b.text(pos + 12, 24, "axis record") == "2Theta":
                start = b.f64(pos + 56, "axis record")
            pos += length
        if "coupled" not in scan.lower() and "2theta" not in scan.lower().replace(" ", ""):
            raise InputError(f"a {scan or 'nameless'!r} scan: not a 2θ scan", source=path)
        y = b.floats(end, steps, "intensities")
        ranges.append((start + step * np.arange(steps), y))
        at = end + 4 * steps
    if len(ranges) != 1:
        raise InputError(f"{len(ranges)} ranges; drnets reads files of one range", source=path)
    x, y = ranges[0]
    return checked_pattern(x, y, unit="twotheta", wavelength=lam, source=path)
