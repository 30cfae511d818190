"""One entry point for every input format: the format is told by the path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core import Dataset, InputError, Library, PhaseLibrary, parse_formula
from ..core._formula import ANIONS
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
    max_phases: int | None = None,
    **kwargs,
) -> Dataset:
    """Read a library (and what travels with it) from any supported input.

    Parameters
    ----------
    path : path-like
        An instance text file, a DRNets npy folder, a native ``.h5`` file, a folder of 1-D
        pattern files or one pattern file (any format of
        :data:`drnets.io._formats.PATTERN_FORMATS`: text columns, ``.xrdml``, ``.brml``,
        ``.raw``, ``.ras``, ``.rasx``, GSAS, NeXus). Patterns without compositions (one
        file, or a folder without a compositions CSV) are independent samples: no
        neighbours, every candidate phase allowed, at most ``max_phases`` phases each; the
        system's elements are then the phases' cations.
    phases : path-like, optional
        A stick CSV or CIF folder; replaces any phases the input holds.
    mask : path-like, optional
        A CSV of the allowed-phase mask (``point`` then one 0/1 column per phase label).
    substrates : sequence of str, optional
        Phase labels declared substrate: allowed at every point whatever their formula.
    resample : bool
        Pattern folders: interpolate patterns on different Q grids onto the range they
        share (recorded as ``resampled`` metadata and a warning) instead of refusing them.
    max_phases : int, optional
        The most phases at any point (the Gibbs limit everywhere). Default: for
        independent samples :data:`INDEPENDENT_MAX_PHASES`, else what the input holds or
        the elements present.
    **kwargs
        Format-specific options (``x_unit``, ``wavelength``, ``compositions`` for
        patterns). CIF phases are computed at the library's wavelength (its Kα1) where it
        has one.

    Returns
    -------
    Dataset
        With ``warnings``: one line per thing to report about the input.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=path)
    if max_phases is not None and not (isinstance(max_phases, int) and 1 <= max_phases <= _MAX_PHASES):
        raise InputError(
            f"max_phases must be a whole number from 1 to {_MAX_PHASES}, got {max_phases!r}", where="max_phases"
        )
    kind = format_of(path)
    if kind in ("xy", "pattern"):
        return _load_patterns(path, phases, mask, substrates, resample, max_phases, kwargs)
    if kwargs:
        raise InputError(f"{', '.join(kwargs)}: only for pattern files", source=path)
    if kind == "instance":
        from ._instance import read_instance

        ds = Dataset(read_instance(path))
    elif kind == "drnets":
        from ._drnets import read_drnets

        ds = read_drnets(path, substrates=() if phases is not None else substrates)
    elif kind == "hdf5":
        from ._hdf5 import read_hdf5

        ds = read_hdf5(path, substrates=() if phases is not None else substrates)
    elif kind == "sticks":
        raise InputError("this is a stick table; pass it as the phases, with a library as the input", source=path)
    else:  # pragma: no cover - format_of covers all
        raise InputError("unknown input format", source=path)
    if phases is None and substrates and ds.phases is None:
        raise InputError("substrates are declared but there are no phases", source=path, where="substrates")
    if phases is not None:
        ph = read_phases(phases, ds.library.elements, substrates=substrates, **_at(ds.library))
        keep_mask = ds.mask if (ds.phases is not None and ds.phases.labels == ph.labels) else None
        ds = Dataset(ds.library, ph, keep_mask, ds.max_phases, None, independent=ds.independent)
    if max_phases is not None:
        limits = np.full(ds.library.n_points, max_phases)
        ds = Dataset(ds.library, ds.phases, ds.mask, limits, ds.solution, independent=ds.independent)
    return _with_mask(ds, mask)


#: The most phases an independent sample is searched with by default (``--max-phases``).
INDEPENDENT_MAX_PHASES = 3
# Beyond any phase library.
_MAX_PHASES = 1000


def _load_patterns(
    path: Path,
    phases: str | os.PathLike[str] | None,
    mask: str | os.PathLike[str] | None,
    substrates: Sequence[str],
    resample: bool,
    max_phases: int | None,
    kwargs: dict,
) -> Dataset:
    """Pattern files: a library with compositions, or independent samples whose system is the phases'."""
    from ._xy import has_compositions, read_xy_folder

    if has_compositions(path, kwargs.get("compositions")):
        lib = read_xy_folder(path, resample=resample, **kwargs)
        ph = None if phases is None else read_phases(phases, lib.elements, substrates=substrates, **_at(lib))
        limits = None if max_phases is None else np.full(lib.n_points, max_phases)
        if phases is None and substrates:
            raise InputError("substrates are declared but there are no phases", source=path, where="substrates")
        return _with_mask(Dataset(lib, ph, None, limits), mask)
    lib = read_xy_folder(path, resample=resample, **kwargs)
    ph = None
    if phases is not None:
        # The system is what the candidates hold: read them over no element, then over their cations.
        loose = read_phases(phases, lib.elements, **_at(lib))
        elements = system_elements(loose)
        if elements:
            comp = np.full((lib.n_points, len(elements)), 1.0 / len(elements))
            lib = Library(elements, comp, lib.q, lib.patterns, lib.metadata, lib.source, lib.wavelength)
        ph = PhaseLibrary(loose.phases, lib.elements, source=loose.source, substrates=substrates)
    elif substrates:
        raise InputError("substrates are declared but there are no phases", source=path, where="substrates")
    limit = INDEPENDENT_MAX_PHASES if max_phases is None else max_phases
    # No mask: with every element present alike the element rule allows every phase.
    return _with_mask(Dataset(lib, ph, None, np.full(lib.n_points, limit), independent=True), mask)


def _at(library: Library) -> dict:
    """The CIF reader's keywords for a library measured at a known wavelength."""
    return {} if library.wavelength is None else {"wavelength": library.wavelength.kalpha1}


def system_elements(phases: PhaseLibrary) -> tuple[str, ...]:
    """The cations the phases' formulas hold, sorted: the system of samples of unknown composition."""
    found: set[str] = set()
    for p in phases:
        found.update(e for e in parse_formula(p.formula) if e not in ANIONS)
    return tuple(sorted(found))


def _with_mask(ds: Dataset, mask: str | os.PathLike[str] | None) -> Dataset:
    """The dataset with the mask CSV applied, where one is given."""
    if mask is not None:
        if ds.phases is None:
            raise InputError("a mask needs phases", source=mask)
        ds = Dataset(
            ds.library,
            ds.phases,
            read_mask_csv(mask, ds.library.n_points, ds.phases.labels),
            ds.max_phases,
            ds.solution,
            independent=ds.independent,
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
