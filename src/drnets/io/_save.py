"""One entry point for writing: the format is told by the output path."""

from __future__ import annotations

import os
from pathlib import Path

from ..core import Dataset
from ._formats import format_of


def sticks_beside(path: str | os.PathLike[str]) -> Path:
    """The stick CSV that :func:`save` writes beside an instance text file: ``<stem>_sticks.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_sticks.csv")


def save(dataset: Dataset, path: str | os.PathLike[str]) -> list[Path]:
    """Write a dataset in the format its path names.

    ``.h5``/``.hdf5``: the native file (everything). ``.txt``: instance text, plus the
    phases as ``<stem>_sticks.csv`` beside it when there are phases (mask, limits and
    solution are not kept). An existing folder or a name ending in ``drnets``: a DRNets
    npy folder (the solution is not kept). Every file is written atomically.

    Parameters
    ----------
    dataset : Dataset
        What to write.
    path : path-like
        The output file or folder.

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    kind = format_of(path, for_writing=True)
    if kind == "hdf5":
        from ._hdf5 import write_hdf5

        write_hdf5(dataset, path)
        return [path]
    if kind == "instance":
        from ._instance import write_instance

        write_instance(dataset.library, path)
        out = [path]
        if dataset.phases is not None:
            from ._sticks_csv import write_sticks_csv

            sticks = sticks_beside(path)
            write_sticks_csv(dataset.phases, sticks)
            out.append(sticks)
        return out
    from ._drnets import write_drnets

    return write_drnets(dataset, path)
