"""The one rule that tells a path's format, for reading and for writing alike."""

from __future__ import annotations

import os
from pathlib import Path

from ..core import InputError

#: Suffixes of the native HDF5 file.
HDF5_SUFFIXES = (".h5", ".hdf5")
#: A name ending in this (``x.drnets``, ``out_drnets``, ``drnets``) is a DRNets npy folder.
DRNETS_NAME_END = "drnets"
#: Suffixes of 1-D pattern files and their formats (each read by its backend, see ``_pattern``).
#: In a folder every one is a pattern; a single ``.csv`` is a stick table, a single ``.dat`` is
#: tried as instance text, and a single ``.h5``/``.hdf5`` is the native file unless it is not one.
PATTERN_FORMATS = {
    ".xy": "columns",
    ".xye": "columns",
    ".chi": "columns",
    ".csv": "columns",
    ".dat": "columns",
    ".xrdml": "xrdml",
    ".brml": "brml",
    ".raw": "bruker_raw",
    ".ras": "ras",
    ".rasx": "rasx",
    ".fxye": "gsas",
    ".gsa": "gsas",
    ".gss": "gsas",
    ".nxs": "nexus",
    ".nx5": "nexus",
    ".h5": "nexus",
    ".hdf5": "nexus",
}
# Single files of these suffixes keep their older meaning (see PATTERN_FORMATS).
_NOT_SINGLE_PATTERNS = (".csv", ".dat", *HDF5_SUFFIXES)


def _is_drnets_folder(path: Path) -> bool:
    return (path / "XRD.npy").exists() or (path / "drnets" / "XRD.npy").exists()


def _is_foreign_hdf5(path: Path) -> bool:
    """An existing HDF5 file that is not the native one (a beamline's NeXus file)."""
    if not path.is_file():
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "library" not in f and f.attrs.get("format") != "drnets"
    except Exception:  # not HDF5 at all, or damaged: the native reader says what is wrong
        return False


def format_of(path: str | os.PathLike[str], *, for_writing: bool = False) -> str:
    """The format a path names.

    The name decides first, the same way for reading and writing: ``.h5``/``.hdf5`` is the
    native file (``'hdf5'``) and a name ending in ``drnets`` (``.drnets`` included) is a
    DRNets npy folder (``'drnets'``); for reading, an existing HDF5 file that is not the
    native one is a 1-D pattern (NeXus, ``'pattern'``). Otherwise an existing folder is
    written as a DRNets npy folder and read by what it holds (``XRD.npy`` here or in
    ``drnets/``: ``'drnets'``; ``.cif`` files: ``'cif'``; else pattern files: ``'xy'``). A
    ``.txt`` file is instance text (``'instance'``); for reading, a ``.csv`` file is a stick
    table (``'sticks'``), a file with a pattern suffix (:data:`PATTERN_FORMATS`: ``.xy``,
    ``.xrdml``, ``.raw``, ...) is one pattern (``'pattern'``) and any other file is tried as
    instance text.

    Parameters
    ----------
    path : path-like
        The input or output path.
    for_writing : bool
        Whether the path is an output (then a name that tells no format is an error).

    Returns
    -------
    str
        ``'hdf5'``, ``'drnets'``, ``'instance'``, and for reading also ``'cif'``, ``'xy'``,
        ``'pattern'`` or ``'sticks'``.

    Raises
    ------
    InputError
        For writing, when the name tells no format.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES:
        return "pattern" if not for_writing and _is_foreign_hdf5(path) else "hdf5"
    if path.name.lower().endswith(DRNETS_NAME_END):
        return "drnets"
    if path.is_dir():
        if for_writing or _is_drnets_folder(path):
            return "drnets"
        return "cif" if any(path.glob("*.cif")) else "xy"
    if suffix == ".txt":
        return "instance"
    if not for_writing:
        if suffix == ".csv":
            return "sticks"
        return "pattern" if suffix in PATTERN_FORMATS and suffix not in _NOT_SINGLE_PATTERNS else "instance"
    raise InputError(
        "cannot tell the output format from the name: use .h5/.hdf5 (native), .txt (instance text) "
        "or a folder named ...drnets (DRNets npy folder)",
        source=path,
    )
