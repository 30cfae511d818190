"""Candidate phases from a folder of CIF files (needs pymatgen, the ``cif`` extra)."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError, Phase, PhaseLibrary
from ._cif_cache import cache_key, load_entry, store_entry
from ._text import read_text

_NEED = "reading CIF files needs pymatgen: pip install 'drnets[cif]'"
# The reflections to compute grow with the cell volume: a corrupted length must not hang the reader.
_MAX_CELL_VOLUME = 1e6
_CELL_LENGTH = re.compile(r"\s*_cell_length_([abc])\s+(\S+)", re.IGNORECASE)


def _two_theta_range(q_range: tuple[float, float] | None, wavelength: float) -> tuple[float, float] | None:
    """The 2θ range (degrees) holding Q in ``q_range`` (nm⁻¹); None for all reflections."""
    if q_range is None:
        return None
    lo, hi = (float(v) for v in q_range)
    s = np.clip(np.array([lo, hi]) * wavelength / (40.0 * np.pi), 0.0, 1.0)
    tt = np.rad2deg(2.0 * np.arcsin(s))
    return float(tt[0]), float(tt[1])


def read_cif_folder(
    path: str | os.PathLike[str],
    elements: tuple[str, ...] | list[str],
    *,
    wavelength: float = 1.5406,
    q_range: tuple[float, float] | None = None,
    substrates: Sequence[str] = (),
) -> PhaseLibrary:
    """Compute candidate phases' stick patterns from the CIF files in a folder.

    Parameters
    ----------
    path : path-like
        A folder of ``.cif`` files; each file is one phase labelled by its stem.
    elements : sequence of str
        The system's elements.
    wavelength : float
        X-ray wavelength in Å used for the powder pattern (default Cu Kα1).
    q_range : (float, float), optional
        Keep reflections with Q (nm⁻¹) in this range; default all reflections.
    substrates : sequence of str, optional
        Labels (file stems) declared substrate: allowed at every point.

    Returns
    -------
    PhaseLibrary
        Sticks in Q nm⁻¹ (Q = 4π sin θ / λ × 10), intensities relative to the strongest,
        hkl (first of each peak's family; the 3-index form for hexagonal cells), cell
        parameters, space-group symbol, the reduced formula, and the cell mass and the
        strongest reflection's absolute intensity (for weight fractions). Conversions are
        cached by content hash in the user's cache folder (:mod:`._cif_cache`).

    Raises
    ------
    InputError
        When pymatgen is missing, the folder holds no CIF file, a file cannot be parsed or
        gives a cell length that is not positive, or a phase has no reflection in ``q_range``.
    """
    try:
        pymatgen_version = metadata.version("pymatgen")
    except metadata.PackageNotFoundError:
        raise InputError(_NEED, source=path) from None
    folder = Path(path)
    if not folder.is_dir():
        raise InputError("not a folder of CIF files", source=folder)
    if not (np.isfinite(wavelength) and wavelength > 0):
        raise InputError(f"wavelength must be positive, got {wavelength}", source=folder, where="wavelength")
    if q_range is not None:
        if len(q_range) != 2 or not all(np.isfinite(q_range)) or not 0 <= q_range[0] < q_range[1]:
            raise InputError(
                f"q_range must be (low, high) with 0 <= low < high, got {q_range}", source=folder, where="q_range"
            )
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == ".cif")
    if not files:
        raise InputError("no .cif files", source=folder)
    tt_range = _two_theta_range(q_range, float(wavelength))
    phases = []
    for f in files:
        entry = _converted(f, float(wavelength), tt_range, q_range, pymatgen_version)
        try:
            phases.append(
                Phase(
                    label=f.stem,
                    formula=str(entry["formula"]),
                    q=entry["q"],
                    intensity=entry["intensity"],
                    hkl=entry["hkl"],
                    cell=tuple(float(v) for v in entry["cell"]),
                    space_group=str(entry["space_group"]),
                    cell_mass=float(entry["cell_mass"]),
                    intensity_scale=float(entry["intensity_scale"]),
                )
            )
        except InputError as err:
            raise InputError(err.problem, source=f, where=err.where) from None
    try:
        return PhaseLibrary(phases, tuple(elements), source=str(folder), substrates=substrates)
    except InputError as err:
        files_by_where = {f"phase {f.stem!r}": f for f in files}
        raise InputError(err.problem, source=files_by_where.get(err.where or "", folder), where=err.where) from None


def _converted(
    f: Path, wavelength: float, tt_range: tuple[float, float] | None, q_range: tuple[float, float] | None, version: str
) -> dict[str, Any]:
    """One CIF's sticks and cell facts, from the content-hash cache (:mod:`._cif_cache`) or computed and cached."""
    key = cache_key(f.read_bytes(), wavelength, tt_range, version)
    entry = load_entry(key)
    if entry is not None:
        return entry
    # pymatgen takes seconds to import: only a conversion that is not cached pays for it
    try:
        from pymatgen.analysis.diffraction.xrd import XRDCalculator
        from pymatgen.io.cif import CifParser
    except ImportError:
        raise InputError(_NEED, source=f) from None

    calc = XRDCalculator(wavelength=wavelength)

    _check_cell_lengths(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            structures = CifParser(f).parse_structures(primitive=False)
            structure = structures[0]
        except Exception as err:  # pymatgen raises many kinds on malformed CIFs
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise InputError(f"cannot read CIF ({msg})", source=f) from None
        if not structure.lattice.volume <= _MAX_CELL_VOLUME:
            raise InputError(
                f"cell volume {structure.lattice.volume:.3g} Å³ is over {_MAX_CELL_VOLUME:g} Å³: its powder "
                "pattern would take too long to compute",
                source=f,
            )
        try:
            # absolute intensities: their maximum is the phase's intensity scale (weight fractions need it)
            pattern = calc.get_pattern(structure, scaled=False, two_theta_range=tt_range)
            sg = structure.get_space_group_info()[0]
        except Exception as err:
            raise InputError(f"cannot compute the powder pattern ({type(err).__name__}: {err})", source=f) from None
    two_theta = np.asarray(pattern.x, dtype=float)
    if two_theta.size == 0:
        raise InputError(f"no reflections in Q range {q_range}", source=f)
    y = np.asarray(pattern.y, dtype=float)
    hkl = []
    for fam in pattern.hkls:
        h = tuple(int(v) for v in fam[0]["hkl"])
        hkl.append((h[0], h[1], h[3]) if len(h) == 4 else h)
    lat = structure.lattice
    entry = {
        "formula": np.array(structure.composition.reduced_formula),
        "q": 4.0 * np.pi * np.sin(np.deg2rad(two_theta) / 2.0) / wavelength * 10.0,
        "intensity": y / max(float(y.max()), 1e-300),
        "hkl": np.array(hkl, dtype=int).reshape(-1, 3),
        "cell": np.array([*lat.abc, *lat.angles], dtype=float),
        "space_group": np.array(str(sg)),
        "cell_mass": np.array(float(structure.composition.weight)),
        "intensity_scale": np.array(float(y.max())),
    }
    store_entry(key, entry)
    return entry


def _check_cell_lengths(path: Path) -> None:
    """Refuse a cell length that is not a positive number (pymatgen silently takes its absolute value)."""
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        m = _CELL_LENGTH.match(line)
        if m is None:
            continue
        value = m.group(2).split("(", 1)[0]  # drop a standard uncertainty, 4.2(3)
        try:
            length = float(value)
        except ValueError:
            if value in (".", "?"):  # CIF's "inapplicable" and "unknown"
                continue
            raise InputError(
                f"cell length {m.group(1)} {m.group(2)!r} is not a number", source=path, where=f"line {lineno}"
            ) from None
        if not (np.isfinite(length) and length > 0):
            raise InputError(
                f"cell length {m.group(1)} = {m.group(2)} Å: must be positive", source=path, where=f"line {lineno}"
            )
