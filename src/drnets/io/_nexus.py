"""1-D integrated patterns in NeXus/HDF5 files (pyFAI's and beamlines' ``NXdata``).

What is read: the ``NXdata`` group the file's ``default`` attributes lead to (root, then
entry), else the only ``NXdata`` group with a 1-D signal; its ``signal`` dataset and its
first ``axes`` dataset (bin edges, one more than the signal, become centres). The axis
unit comes from the axis's ``units`` attribute or its name, as pyFAI writes them
(``2th_deg``, ``2th_rad``, ``q_nm^-1``, ``q_A^-1``). The wavelength is the first dataset
named ``wavelength`` or ``incident_wavelength`` (NXmonochromator, NXbeam), in its ``units``
(Å, nm or m; a value under 1e-6 without units is taken in metres, as pyFAI stores it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core import InputError, Wavelength
from ._pattern import Pattern, axis_unit, checked_pattern

_WAVELENGTH_NAMES = ("wavelength", "incident_wavelength")
_TO_ANGSTROM = {"a": 1.0, "å": 1.0, "angstrom": 1.0, "angstroms": 1.0, "nm": 10.0, "m": 1e10, "pm": 0.01}


def read_nexus(path: str | os.PathLike[str]) -> Pattern:
    """Read the 1-D pattern of a NeXus/HDF5 file.

    Raises
    ------
    InputError
        When the file is not HDF5, holds no 1-D ``NXdata`` (or several and no ``default``
        to choose), its signal or axis is missing or not 1-D numbers, or the axis unit is
        not 2θ or Q.
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as err:
        raise InputError(
            f"not an HDF5 file ({str(err).splitlines()[0] if str(err) else 'unreadable'})", source=path
        ) from None
    try:
        with f:
            group = _nxdata(f, path)
            signal_name = _attr(group, "signal") or ("I" if "I" in group else None)
            if signal_name is None or signal_name not in group:
                raise InputError("the NXdata group names no signal dataset", source=path, where=group.name)
            axes = group.attrs.get("axes")
            axes = [axes] if isinstance(axes, (str, bytes)) else list(axes) if axes is not None else []
            axis_name = _text(axes[-1]) if axes else None
            if axis_name is None or axis_name not in group:
                raise InputError("the NXdata group names no axis dataset", source=path, where=group.name)
            y = np.asarray(group[signal_name][()], dtype=float)
            x = np.asarray(group[axis_name][()], dtype=float)
            axis = group[axis_name]
            units = _text(axis.attrs.get("units")) if "units" in axis.attrs else None
            lam = _wavelength(f, path)
    except InputError:
        raise
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"malformed NeXus file ({type(err).__name__}: {err})", source=path) from None
    if y.ndim != 1:
        raise InputError(f"the signal has shape {y.shape}: drnets reads one 1-D pattern per file", source=path)
    if x.ndim != 1:
        raise InputError(f"the axis has shape {x.shape}, expected 1-D", source=path)
    if x.size == y.size + 1:
        x = 0.5 * (x[:-1] + x[1:])  # bin edges
    unit, x = _unit(axis_name, units, x, path)
    return checked_pattern(x, y, unit=unit, wavelength=lam, source=path, where=axis_name)


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, np.ndarray):
        return _text(v.ravel()[0]) if v.size else None
    return str(v)


def _attr(obj, name: str) -> str | None:
    return _text(obj.attrs.get(name)) if name in obj.attrs else None


def _nxdata(f, path: Path):
    """The NXdata group to read: by the ``default`` attributes, else the only one with a 1-D signal."""
    import h5py

    node = f
    for _ in range(3):  # root -> entry -> data
        name = _attr(node, "default")
        if name is None or name not in node or not isinstance(node[name], h5py.Group):
            break
        node = node[name]
        if _attr(node, "NX_class") == "NXdata":
            return node
    found = []

    def visit(name: str, obj) -> None:
        if isinstance(obj, h5py.Group) and _attr(obj, "NX_class") == "NXdata":
            found.append(obj)

    f.visititems(visit)
    if not found:
        raise InputError("no NXdata group: not a NeXus pattern file", source=path)
    ones = [g for g in found if _signal_ndim(g) == 1]
    if len(ones) != 1:
        names = ", ".join(g.name for g in (ones or found))
        raise InputError(f"{len(ones)} 1-D NXdata groups ({names}) and no default attribute to choose", source=path)
    return ones[0]


def _signal_ndim(group) -> int:
    name = _attr(group, "signal") or ("I" if "I" in group else None)
    try:
        return int(group[name].ndim) if name is not None and name in group else -1
    except (AttributeError, KeyError, TypeError):
        return -1


def _unit(name: str, units: str | None, x: np.ndarray, path: Path) -> tuple[str, np.ndarray]:
    """The axis's unit (2θ in radians becomes degrees)."""
    text = f"{name} {units or ''}".lower()
    if "2th" in text and "rad" in text:
        return "twotheta", np.rad2deg(x)
    unit = axis_unit(units) or axis_unit(name)
    if unit is None and units and units.lower() in ("deg", "degree", "degrees"):
        unit = "twotheta"
    if unit is None:
        raise InputError(f"axis {name!r} ({units or 'no units'}): not 2θ or Q", source=path, where=name)
    return unit, x


def _wavelength(f, path: Path) -> Wavelength | None:
    import h5py

    found = []

    def visit(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset) and name.rsplit("/", 1)[-1] in _WAVELENGTH_NAMES and not found:
            found.append(obj)

    f.visititems(visit)
    if not found:
        return None
    ds = found[0]
    try:
        value = float(np.asarray(ds[()], dtype=float).ravel()[0])
    except (ValueError, TypeError, IndexError):
        raise InputError("wavelength is not a number", source=path, where=ds.name) from None
    units = (_attr(ds, "units") or "").strip().lower()
    if units:
        if units not in _TO_ANGSTROM:
            raise InputError(f"wavelength units {units!r} (expected Å, nm or m)", source=path, where=ds.name)
        value *= _TO_ANGSTROM[units]
    elif value < 1e-6:
        value *= 1e10  # pyFAI keeps metres
    try:
        return Wavelength(value)
    except InputError as err:
        raise InputError(err.problem, source=path, where=ds.name) from None
