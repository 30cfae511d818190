"""Stick patterns of structure prototypes at any cell, from stored data (no pymatgen).

``data/prototypes.json`` (made once by ``_make_prototypes.py``) holds, for each prototype,
its reflection families with the role matrices ``R`` (see there). For a compound with
given elements on the roles and a given cell, a family's position is Q = 2π/d with d from
its (h, k, l) and the cell, and its intensity is

    I = (f @ R @ f) * LP(θ) * exp(-2 B s²),

with ``f`` the roles' X-ray scattering factors at ``s = sin θ / λ = Q / 4π``, LP the
Lorentz-polarisation factor at Cu Kα and B a Debye-Waller factor. This is the powder
intensity pymatgen's ``XRDCalculator`` gives (exactly, for B = 0), so weak and strong
scatterers (Li against Bi) look as they would.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError, Phase

_DATA = Path(__file__).with_name("data") / "prototypes.json"
CU_KA = 1.54184  # Å, the wavelength of pymatgen's "CuKa" (as the built-in phases)
MIN_INTENSITY = 0.005  # sticks weaker than this share of the strongest are dropped
_ANGLES = {"cubic": (90.0, 90.0, 90.0), "tetragonal": (90.0, 90.0, 90.0), "orthorhombic": (90.0, 90.0, 90.0)}


@lru_cache(maxsize=1)
def prototype_data() -> dict[str, Any]:
    """The stored prototypes, scattering table and binary oxides (read once)."""
    with open(_DATA, encoding="utf-8") as fh:
        return json.load(fh)


def full_cell(lattice: str, params: list[float] | tuple[float, ...]) -> tuple[float, ...]:
    """(a, b, c, alpha, beta, gamma) from a crystal system's free parameters."""
    p = [float(v) for v in params]
    if lattice == "cubic":
        return (p[0], p[0], p[0], *_ANGLES["cubic"])
    if lattice == "tetragonal":
        return (p[0], p[0], p[1], *_ANGLES["tetragonal"])
    if lattice == "hexagonal":
        return (p[0], p[0], p[1], 90.0, 90.0, 120.0)
    if lattice == "orthorhombic":
        return (p[0], p[1], p[2], *_ANGLES["orthorhombic"])
    raise InputError(f"unknown lattice kind {lattice!r}", source=str(_DATA))


def inv_d2(lattice: str, cell: tuple[float, ...], hkl: np.ndarray) -> np.ndarray:
    """1/d² (Å⁻²) of reflections ``hkl`` (K, 3) in a cell (a, b, c, ...)."""
    h, k, ell = hkl.T.astype(float)
    a, b, c = cell[:3]
    if lattice == "hexagonal":
        return 4.0 / 3.0 * (h * h + h * k + k * k) / (a * a) + ell * ell / (c * c)
    return h * h / (a * a) + k * k / (b * b) + ell * ell / (c * c)


def _form_factor(entry: dict[str, Any], s2: np.ndarray) -> np.ndarray:
    """X-ray scattering factor ``Z - 41.78214 s² sum a_i exp(-b_i s²)`` at ``s²`` (Å⁻²)."""
    coeff = np.asarray(entry["coeff"], dtype=float)
    return entry["Z"] - 41.78214 * s2 * np.sum(coeff[:, 0] * np.exp(-coeff[:, 1] * s2[:, None]), axis=1)


def stick_intensities(
    proto: dict[str, Any],
    species: dict[str, str],
    params: list[float] | tuple[float, ...],
    scattering: dict[str, dict[str, Any]],
    b_iso: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Q (nm⁻¹) and absolute intensity of a prototype's reflection families.

    Parameters
    ----------
    proto : dict
        One entry of the stored prototypes.
    species : dict of str to str
        The element on each role (``{"A": "Zn", "B": "Fe", "O": "O"}``).
    params : sequence of float
        The crystal system's free cell parameters (Å).
    scattering : dict
        The stored scattering-factor table.
    b_iso : float
        Debye-Waller factor B (Å²).

    Returns
    -------
    q, intensity : ndarray
        Of the families reachable at Cu Kα.
    index : ndarray of int
        Their positions in the stored order.
    """
    hkl = np.asarray(proto["hkl"], dtype=int)
    g2 = inv_d2(proto["lattice"], full_cell(proto["lattice"], params), hkl)
    s2 = g2 / 4.0
    sin_t = np.sqrt(s2) * CU_KA
    index = np.flatnonzero(sin_t < 0.999)
    s2, sin_t = s2[index], sin_t[index]
    roles = proto["site_classes"]
    try:
        f = np.stack([_form_factor(scattering[species[r]], s2) for r in roles], axis=1)  # (K, S)
    except KeyError as err:
        raise InputError(f"no element for role or scattering factor {err}", where="prototype species") from None
    n = len(roles)
    packed = np.asarray(proto["role_matrix"], dtype=float)[index]
    mat = np.zeros((packed.shape[0], n, n))
    iu = np.triu_indices(n)
    mat[:, iu[0], iu[1]] = packed
    mat[:, iu[1], iu[0]] = packed
    f2 = np.einsum("ks,kst,kt->k", f, mat, f)
    theta = np.arcsin(sin_t)
    lp = (1.0 + np.cos(2.0 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    inten = f2 * lp * np.exp(-2.0 * b_iso * s2)
    q = 2.0 * math.pi * np.sqrt(4.0 * s2) * 10.0  # 2π/d in nm⁻¹
    return q, inten, index


def prototype_phase(
    label: str,
    prototype: str,
    species: dict[str, str],
    params: list[float] | tuple[float, ...],
    *,
    q_range: tuple[float, float] = (10.0, 81.0),
    perturb: np.ndarray | None = None,
    b_iso: float = 0.5,
) -> Phase:
    """A candidate phase: a prototype with given cations and cell, as sticks.

    Parameters
    ----------
    label : str
        The phase label.
    prototype : str
        A stored prototype name (``"spinel"``, ``"rocksalt"``, ...).
    species : dict of str to str
        The element on each cation role (``{"A": "Zn", "B": "Fe"}``); oxygen is implied.
    params : sequence of float
        The free cell parameters (a; a, c; or a, b, c) in Å.
    q_range : tuple of float
        Sticks are kept inside this Q range (nm⁻¹).
    perturb : ndarray, optional
        Per-family intensity factors (stored order), standing in for atom positions and
        site mixing that differ from the prototype's.
    b_iso : float
        Debye-Waller factor B (Å²).
    """
    data = prototype_data()
    if prototype not in data["prototypes"]:
        raise InputError(f"unknown prototype {prototype!r}", source=str(_DATA))
    proto = data["prototypes"][prototype]
    q, inten, index = stick_intensities(proto, {**species, "O": "O"}, params, data["scattering"], b_iso)
    if perturb is not None:
        inten = inten * np.asarray(perturb, dtype=float)[index]
    hkl = np.asarray(proto["hkl"], dtype=int)[index]
    keep = (q >= q_range[0]) & (q <= q_range[1])
    q, inten, hkl = q[keep], inten[keep], hkl[keep]
    if q.size == 0 or inten.max() <= 0:
        raise InputError(f"no reflections in Q range {q_range}", where=f"phase {label!r}")
    strong = inten >= MIN_INTENSITY * inten.max()
    formula = proto["formula"].format(**{r: species[r] for r in proto["roles"]})
    cell = full_cell(proto["lattice"], params)
    return Phase(label, formula, q[strong], inten[strong], hkl[strong], cell, proto["space_group"])
