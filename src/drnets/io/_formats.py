"""The one rule that tells a path's format, for reading and for writing alike."""

from __future__ import annotations

import os
from pathlib import Path

from ..core import InputError

#: Suffixes of the native HDF5 file.
HDF5_SUFFIXES = (".h5", ".hdf5")
#: A name ending in this (``x.drnets``, ``out_drnets``, ``drnets``) is a DRNets npy folder.
DRNETS_NAME_END = "drnets"


def _is_drnets_folder(path: Path) -> bool:
    return (path / "XRD.npy").exists() or (path / "drnets" / "XRD.npy").exists()


def format_of(path: str | os.PathLike[str], *, for_writing: bool = False) -> str:
    """The format a path names.

    The name decides first, the same way for reading and writing: ``.h5``/``.hdf5`` is the
    native file (``'hdf5'``) and a name ending in ``drnets`` (``.drnets`` included) is a
    DRNets npy folder (``'drnets'``). Otherwise an existing folder is written as a DRNets
    npy folder and read by what it holds (``XRD.npy`` here or in ``drnets/``: ``'drnets'``;
    ``.cif`` files: ``'cif'``; else pattern files: ``'xy'``). A ``.txt`` file is instance
    text (``'instance'``); for reading, a ``.csv`` file is a stick table (``'sticks'``) and
    any other file is tried as instance text.

    Parameters
    ----------
    path : path-like
        The input or output path.
    for_writing : bool
        Whether the path is an output (then a name that tells no format is an error).

    Returns
    -------
    str
        ``'hdf5'``, ``'drnets'``, ``'instance'``, and for reading also ``'cif'``, ``'xy'``
        or ``'sticks'``.

    Raises
    ------
    InputError
        For writing, when the name tells no format.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES:
        return "hdf5"
    if path.name.lower().endswith(DRNETS_NAME_END):
        return "drnets"
    if path.is_dir():
        if for_writing or _is_drnets_folder(path):
            return "drnets"
        return "cif" if any(path.glob("*.cif")) else "xy"
    if suffix == ".txt":
        return "instance"
    if not for_writing:
        return "sticks" if suffix == ".csv" else "instance"
    raise InputError(
        "cannot tell the output format from the name: use .h5/.hdf5 (native), .txt (instance text) "
        "or a folder named ...drnets (DRNets npy folder)",
        source=path,
    )
