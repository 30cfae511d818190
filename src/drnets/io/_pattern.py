"""One measured 1-D pattern as a file states it, and the one function that reads any pattern file.

Each file format has its own backend module (``_xy``: text columns, ``_xrdml``, ``_brml``,
``_bruker_raw``, ``_ras``, ``_rasx``, ``_gsas``, ``_nexus``); each returns a
:class:`Pattern`: the x values in the file's own unit, the intensities, and the wavelength
where the file states one. Turning patterns into a library (units to Q, one grid) is the
folder reader's (:mod:`._xy`).
"""

from __future__ import annotations

import importlib
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import InputError, Wavelength
from ._formats import PATTERN_FORMATS

#: The x units a pattern can be in: 2θ in degrees, Q in nm⁻¹, Q in Å⁻¹.
X_UNITS = ("twotheta", "q_nm", "q_A")

#: Backend of each pattern format: module and function.
_BACKENDS = {
    "columns": ("._xy", "read_columns"),
    "xrdml": ("._xrdml", "read_xrdml"),
    "brml": ("._brml", "read_brml"),
    "bruker_raw": ("._bruker_raw", "read_bruker_raw"),
    "ras": ("._ras", "read_ras"),
    "rasx": ("._rasx", "read_rasx"),
    "gsas": ("._gsas", "read_gsas"),
    "nexus": ("._nexus", "read_nexus"),
}

#: Largest member of a zipped format (``.brml``, ``.rasx``) read: a pattern is megabytes, more is a damaged file.
MAX_MEMBER_BYTES = 512 * 2**20


@dataclass(frozen=True, eq=False)
class Pattern:
    """A measured pattern as its file states it.

    Parameters
    ----------
    x : ndarray of shape (L,)
        Positions, strictly monotonic, in ``unit``.
    y : ndarray of shape (L,)
        Intensities (counts or counts per second).
    unit : {'twotheta', 'q_nm', 'q_A'} or None
        The x unit the file states; None where it states none (plain text columns).
    wavelength : Wavelength, optional
        The radiation the file states.
    source : str
        The file.
    """

    x: np.ndarray
    y: np.ndarray
    unit: str | None
    wavelength: Wavelength | None
    source: str


def checked_pattern(
    x: object,
    y: object,
    *,
    unit: str | None,
    wavelength: Wavelength | None,
    source: str | os.PathLike[str],
    where: str | None = None,
) -> Pattern:
    """A :class:`Pattern` from a backend's arrays, after the checks every format shares.

    Raises
    ------
    InputError
        On fewer than 2 points, x and y of different lengths, non-finite values, or x
        values that are repeated or run both ways.
    """
    xs = np.asarray(x, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()
    if xs.size != ys.size:
        raise InputError(f"{xs.size} positions but {ys.size} intensities", source=source, where=where)
    if xs.size < 2:
        raise InputError(f"{xs.size} data points, need at least 2", source=source, where=where)
    for name, v in (("position", xs), ("intensity", ys)):
        if not np.all(np.isfinite(v)):
            i = int(np.argmax(~np.isfinite(v)))
            raise InputError(f"non-finite {name} at point {i + 1}", source=source, where=where)
    step = np.sign(np.diff(xs))
    if np.any(step == 0):
        i = 1 + int(np.argmax(step == 0))
        raise InputError(f"repeated x value {xs[i]:g} at point {i + 1}", source=source, where=where)
    if np.any(step != step[0]):
        i = 1 + int(np.argmax(step != step[0]))
        raise InputError(f"x values are out of order at point {i + 1}", source=source, where=where)
    if unit is not None and unit not in X_UNITS:  # pragma: no cover - backends name their units
        raise ValueError(f"unknown unit {unit!r}")
    return Pattern(xs, ys, unit, wavelength, str(source))


def pattern_format(path: str | os.PathLike[str]) -> str | None:
    """The pattern format a file's name tells (see :data:`drnets.io._formats.PATTERN_FORMATS`), or None."""
    return PATTERN_FORMATS.get(Path(path).suffix.lower())


def read_pattern(path: str | os.PathLike[str]) -> Pattern:
    """Read one pattern file of any supported format (told by its suffix).

    Raises
    ------
    InputError
        For a name that tells no pattern format, and whatever the format's backend refuses.
    """
    path = Path(path)
    kind = pattern_format(path)
    if kind is None:
        raise InputError(f"not a pattern file (suffixes: {', '.join(sorted(PATTERN_FORMATS))})", source=path)
    if not path.is_file():
        raise InputError("no such file", source=path)
    module, name = _BACKENDS[kind]
    reader = getattr(importlib.import_module(module, __package__), name)
    return reader(path)


def axis_unit(text: str | None) -> str | None:
    """The x unit a file's axis name or unit text states (``2Theta``, ``TwoThetaTheta``, ``q_nm^-1``, ...)."""
    if not text:
        return None
    t = text.strip().lower().replace(" ", "")
    if re.search(r"q.*(nm|1/nm)|nm\^?-1|nm⁻¹|1/nm", t):
        return "q_nm"
    if re.search(r"q.*(a\^?-1|å|ang|1/a)|(a|å)\^?-1|å⁻¹|1/(a|å)\b", t):
        return "q_A"
    if re.search(r"2th|twotheta|2-?theta|2θ|tth", t):
        return "twotheta"
    return None


def tube_wavelength(
    kalpha1: float | None,
    kalpha2: float | None,
    ratio: float | None,
    anode: str | None,
    *,
    single: bool,
    source: str | os.PathLike[str],
    where: str | None = None,
) -> Wavelength | None:
    """The wavelength a tube's stated lines make: Kα1 alone where ``single`` (a Kα1 monochromator)
    or no Kα2 is stated, else the doublet (ratio 0.5 where none is stated). None without a Kα1.

    Raises
    ------
    InputError
        When a stated value is not a diffraction wavelength.
    """
    from ..core._wavelength import KALPHA2_RATIO

    if kalpha1 is None or kalpha1 == 0:
        return None
    anode = anode.strip().capitalize() if anode and anode.strip() else None
    try:
        if single or not kalpha2 or kalpha2 == kalpha1:
            return Wavelength(float(kalpha1), anode=anode)
        r = KALPHA2_RATIO if ratio is None or ratio == 0 else float(ratio)
        return Wavelength(float(kalpha1), float(kalpha2), r, anode)
    except InputError as err:
        raise InputError(err.problem, source=source, where=where) from None


def number(text: str | None, *, source: str | os.PathLike[str], where: str) -> float | None:
    """A number a file states as text (None for an empty or missing one).

    Raises
    ------
    InputError
        When the text is there but is not a number.
    """
    if text is None or not text.strip():
        return None
    try:
        return float(text.strip().strip('"'))
    except ValueError:
        raise InputError(f"{text.strip()[:40]!r} is not a number", source=source, where=where) from None


def open_zip(path: str | os.PathLike[str], what: str) -> zipfile.ZipFile:
    """A zipped format's archive (``what`` names the format in the message).

    Raises
    ------
    InputError
        When the file is not a readable zip archive (cut off, or not this format at all).
    """
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise InputError(f"not a {what} file: it is no zip archive, or a damaged one ({err})", source=path) from None


def zip_member(archive: zipfile.ZipFile, name: str, *, source: str | os.PathLike[str]) -> bytes:
    """One member's bytes, refusing one too large to be a pattern's or one that cannot be decompressed.

    Raises
    ------
    InputError
        Naming the member.
    """
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(
            f"member is {info.file_size / 2**20:.0f} MiB: too large for a pattern", source=source, where=name
        )
    try:
        return archive.read(name)
    except Exception as err:  # zlib.error, BadZipFile (bad CRC), EOFError, NotImplementedError (compression)
        raise InputError(f"cannot decompress it ({type(err).__name__}: {err})", source=source, where=name) from None


def parse_xml(data: bytes, *, source: str | os.PathLike[str], where: str | None = None):
    """The root element of an XML document (tags keep their ``{namespace}`` prefixes).

    Raises
    ------
    InputError
        When the bytes are not well-formed XML (a cut-off file).
    """
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(data)
    except ET.ParseError as err:
        raise InputError(f"not well-formed XML ({err})", source=source, where=where) from None


def local(tag: str) -> str:
    """An XML tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def first(root, name: str):
    """The first element anywhere below ``root`` whose local tag is ``name``, or None."""
    for el in root.iter():
        if local(el.tag) == name:
            return el
    return None


def every(root, name: str) -> list:
    """Every element below ``root`` whose local tag is ``name``."""
    return [el for el in root.iter() if local(el.tag) == name]
