"""One entry point for every input format: the format is told by the path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core import Dataset, InputError, PhaseLibrary
from ._formats import format_of


def read_phases(
    path: str | os.PathLike[str], elements: tuple[str, ...] | list[str], *, substrates: Sequence[str] = (), **kwargs
) -> PhaseLibrary:
    """Read candidate phases from a stick CSV or a folder of CIF files.

    Parameters
    ----------
    path : path-like
        A ``phase,formula,q,intensity`` CSV or a folder of ``.cif`` files.
    elements : sequence of str
        The system's elements.
    substrates : sequence of str, optional
        Phase labels declared substrate (allowed at every point).
    **kwargs
        Passed to the CIF reader (``wavelength``, ``q_range``).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=path)
    if path.is_dir():
        from ._cif import read_cif_folder

        return read_cif_folder(path, elements, substrates=substrates, **kwargs)
    from ._sticks_csv import read_sticks_csv

    return read_sticks_csv(path, elements, substrates=substrates)


def load(
    path: str | os.PathLike[str],
    *,
    phases: str | os.PathLike[str] | None = None,
    mask: str | os.PathLike[str] | None = None,
    substrates: Sequence[str] = (),
    resample: bool = False,
    **kwargs,
) -> Dataset:
    """Read a library (and what travels with it) from any supported input.

    Parameters
    ----------
    path : path-like
        An instance text file, a DRNets npy folder, a folder of 1-D pattern files, or a
        native ``.h5`` file.
    phases : path-like, optional
        A stick CSV or CIF folder; replaces any phases the input holds.
    mask : path-like, optional
        A CSV of the allowed-phase mask (``point`` then one 0/1 column per phase label).
    substrates : sequence of str, optional
        Phase labels declared substrate: allowed at every point whatever their formula.
    resample : bool
        Pattern folders: interpolate patterns on different Q grids onto the range they
        share (recorded as ``resampled`` metadata and a warning) instead of refusing them.
    **kwargs
        Format-specific options (e.g. ``x_unit``, ``wavelength`` for pattern folders).

    Returns
    -------
    Dataset
        With ``warnings``: one line per thing to report about the input.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=path)
    kind = format_of(path)
    if kind == "instance":
        from ._instance import read_instance

        ds = Dataset(read_instance(path))
    elif kind == "drnets":
        from ._drnets import read_drnets

        ds = read_drnets(path, substrates=() if phases is not None else substrates)
    elif kind == "hdf5":
        from ._hdf5 import read_hdf5

        ds = read_hdf5(path, substrates=() if phases is not None else substrates)
    elif kind == "xy":
        from ._xy import read_xy_folder

        ds = Dataset(read_xy_folder(path, resample=resample, **kwargs))
    elif kind == "sticks":
        raise InputError("this is a stick table; pass it as the phases, with a library as the input", source=path)
    else:  # pragma: no cover - format_of covers all
        raise InputError("unknown input format", source=path)
    if phases is None and substrates and ds.phases is None:
        raise InputError("substrates are declared but there are no phases", source=path, where="substrates")
    if phases is not None:
        ph = read_phases(phases, ds.library.elements, substrates=substrates)
        keep_mask = ds.mask if (ds.phases is not None and ds.phases.labels == ph.labels) else None
        ds = Dataset(ds.library, ph, keep_mask, ds.max_phases, None)
    if mask is not None:
        if ds.phases is None:
            raise InputError("a mask needs phases", source=mask)
        ds = Dataset(
            ds.library,
            ds.phases,
            read_mask_csv(mask, ds.library.n_points, ds.phases.labels),
            ds.max_phases,
            ds.solution,
        )
    return ds


def read_mask_csv(path: str | os.PathLike[str], n_points: int, labels: list[str]) -> np.ndarray:
    """Read an allowed-phase mask CSV (``point`` then 0/1 columns by phase label)."""
    import csv
    import io

    from ._text import read_text

    path = Path(path)
    try:
        rows = list(csv.reader(io.StringIO(read_text(path))))
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    except csv.Error as err:
        raise InputError(f"not a CSV file ({err})", source=path) from None
    if not rows or rows[0][:1] != ["point"]:
        raise InputError("expected a header starting with 'point'", source=path, where="line 1")
    header = rows[0][1:]
    unknown = [h for h in header if h not in labels]
    if unknown:
        raise InputError(f"unknown phase label {unknown[0]!r}", source=path, where="line 1")
    out = np.zeros((n_points, len(labels)), dtype=bool)
    cols = [labels.index(h) for h in header]
    seen = set()
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            i = int(row[0])
            vals = [float(v) for v in row[1:]]
        except ValueError:
            raise InputError("non-numeric value", source=path, where=f"line {lineno}") from None
        if not 0 <= i < n_points or len(vals) != len(cols):
            raise InputError(
                f"bad point index {i} or {len(vals)} values for {len(cols)} columns",
                source=path,
                where=f"line {lineno}",
            )
        out[i, cols] = np.array(vals) > 0
        seen.add(i)
    if len(seen) != n_points:
        raise InputError(f"mask covers {len(seen)} of {n_points} points", source=path)
    if not out.any():
        raise InputError("the mask allows no phase at any point (all zero)", source=path)
    return out
