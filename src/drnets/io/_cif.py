"""Candidate phases from a folder of CIF files (needs pymatgen, the ``cif`` extra)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..core import InputError, Phase, PhaseLibrary

_NEED = "reading CIF files needs pymatgen: pip install 'drnets[cif]'"


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

    Returns
    -------
    PhaseLibrary
        Sticks in Q nm⁻¹ (Q = 4π sin θ / λ × 10), intensities relative to the strongest,
        hkl (first of each peak's family; the 3-index form for hexagonal cells), cell
        parameters, space-group symbol, and the reduced formula.

    Raises
    ------
    InputError
        When pymatgen is missing, the folder holds no CIF file, a file cannot be parsed,
        or a phase has no reflection in ``q_range``.
    """
    try:
        from pymatgen.analysis.diffraction.xrd import XRDCalculator
        from pymatgen.io.cif import CifParser
    except ImportError:
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
    calc = XRDCalculator(wavelength=float(wavelength))
    tt_range = _two_theta_range(q_range, float(wavelength))
    phases = []
    for f in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                structures = CifParser(f).parse_structures(primitive=False)
                structure = structures[0]
            except Exception as err:  # pymatgen raises many kinds on malformed CIFs
                msg = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise InputError(f"cannot read CIF ({msg})", source=f) from None
            try:
                pattern = calc.get_pattern(structure, scaled=True, two_theta_range=tt_range)
                sg = structure.get_space_group_info()[0]
            except Exception as err:
                raise InputError(f"cannot compute the powder pattern ({type(err).__name__}: {err})", source=f) from None
        two_theta = np.asarray(pattern.x, dtype=float)
        if two_theta.size == 0:
            raise InputError(f"no reflections in Q range {q_range}", source=f)
        q = 4.0 * np.pi * np.sin(np.deg2rad(two_theta) / 2.0) / float(wavelength) * 10.0
        hkl = []
        for fam in pattern.hkls:
            h = tuple(int(v) for v in fam[0]["hkl"])
            hkl.append((h[0], h[1], h[3]) if len(h) == 4 else h)
        lat = structure.lattice
        try:
            phases.append(
                Phase(
                    label=f.stem,
                    formula=structure.composition.reduced_formula,
                    q=q,
                    intensity=np.asarray(pattern.y, dtype=float),
                    hkl=np.array(hkl, dtype=int),
                    cell=(*lat.abc, *lat.angles),
                    space_group=str(sg),
                )
            )
        except InputError as err:
            raise InputError(err.problem, source=f, where=err.where) from None
    return PhaseLibrary(phases, tuple(elements), source=str(folder))
