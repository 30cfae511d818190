"""Preferred orientation: the March-Dollase factor of each reflection.

A textured sample holds more crystallites with one lattice plane (the texture axis, given
as a plane normal ``hkl``) parallel to its surface. The intensity of reflection k is then
multiplied by ``(r**2 cos**2 a_k + sin**2 a_k / r) ** -1.5``, with ``a_k`` the angle
between its plane normal and the axis and ``r`` the March-Dollase parameter (1: random
powder; below 1: plates along the axis; above 1: needles). The generator draws texture
with it and the solver fits it.

A reflection family holds every plane of the same spacing; for a powder its factor is the
mean of the factor over the family's members (:func:`family_cosines`, found as the sign
changes and permutations of the indices that keep the spacing, with the fourth
Miller-Bravais index on hexagonal cells). The factor is normalised over the sphere, so the
total diffracted intensity (and a weight fraction's scale factor) does not change with ``r``.
"""

from __future__ import annotations

import math
from itertools import permutations, product

import numpy as np

#: The texture axes tried for each phase by the lab refinement (plane normals, Miller indices).
TEXTURE_AXES = ((0, 0, 1), (1, 0, 0), (0, 1, 0), (1, 1, 0), (1, 1, 1))
#: Bounds of the lab refinement's March-Dollase parameter: a factor of 8 (r**-3) at most.
MARCH_BOUNDS = (0.5, 2.0)


def reciprocal_rows(cell: tuple[float, ...]) -> np.ndarray:
    """Rows a*, b*, c* of the reciprocal lattice of a cell (a, b, c, alpha, beta, gamma in degrees)."""
    a, b, c, al, be, ga = cell
    al, be, ga = (math.radians(v) for v in (al, be, ga))
    va = np.array([a, 0.0, 0.0])
    vb = np.array([b * math.cos(ga), b * math.sin(ga), 0.0])
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    vc = np.array([cx, cy, math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))])
    return np.linalg.inv(np.stack([va, vb, vc])).T


def plane_cosines(hkl: np.ndarray, cell: tuple[float, ...], axis: tuple[int, int, int]) -> np.ndarray:
    """|cos| of the angle between each reflection's plane normal and the texture axis (K,)."""
    rec = reciprocal_rows(cell)
    g = np.asarray(hkl, dtype=float) @ rec
    ga = np.asarray(axis, dtype=float) @ rec
    cos = np.abs(g @ ga) / np.maximum(np.linalg.norm(g, axis=1) * np.linalg.norm(ga), 1e-12)
    return np.clip(cos, 0.0, 1.0)


def march_dollase(cos: np.ndarray, r: float | np.ndarray) -> np.ndarray:
    """March-Dollase intensity factor of reflections at |cos| ``cos`` to the axis, parameter ``r``.

    ``r`` may be an array that broadcasts against ``cos`` (e.g. (N, 1) for one value per point).
    """
    cos2 = np.asarray(cos, dtype=float) ** 2
    r = np.asarray(r, dtype=float)
    return (r * r * cos2 + (1.0 - cos2) / r) ** -1.5


def _family(hkl: tuple[int, int, int], hexagonal: bool) -> np.ndarray:
    h, k, ell = hkl
    out = set()
    if hexagonal:
        for p in permutations((h, k, -h - k)):
            for s in (1, -1):
                for sl in (1, -1):
                    out.add((s * p[0], s * p[1], sl * ell))
    for p in permutations((h, k, ell)):
        for s in product((1, -1), repeat=3):
            out.add((s[0] * p[0], s[1] * p[1], s[2] * p[2]))
    return np.array(sorted(out), dtype=float)


def family_cosines(hkl: np.ndarray, cell: tuple[float, ...], axis: tuple[int, int, int]) -> np.ndarray:
    """cos α of every member of each reflection family with the texture ``axis``: (K, M), NaN-padded.

    Computed once per phase and axis; :func:`family_factors` then costs one vector operation per ``r``.
    """
    hkl = np.asarray(hkl, dtype=int).reshape(-1, 3)
    basis = reciprocal_rows(cell)
    hexagonal = abs(cell[5] - 120.0) < 0.5 and abs(cell[0] - cell[1]) < 1e-3 * cell[0]
    ax = np.asarray(axis, dtype=float) @ basis
    ax = ax / np.linalg.norm(ax)
    rows = []
    for row in hkl:
        ref = np.linalg.norm(row.astype(float) @ basis)
        if ref == 0:
            rows.append(np.array([0.0]))
            continue
        fam = _family((int(row[0]), int(row[1]), int(row[2])), hexagonal) @ basis
        norms = np.linalg.norm(fam, axis=1)
        same = np.abs(norms - ref) <= 1e-6 * ref
        rows.append(np.clip((fam[same] @ ax) / norms[same], -1.0, 1.0))
    out = np.full((len(rows), max((len(v) for v in rows), default=1)), np.nan)
    for i, v in enumerate(rows):
        out[i, : len(v)] = v
    return out


def family_factors(cosines: np.ndarray, r: float | np.ndarray) -> np.ndarray:
    """March-Dollase factor of each family from its members' cos α (:func:`family_cosines`).

    ``r`` a number gives (K,); an array of parameters (R,) gives one row per parameter (R, K).
    ``r = 1`` (a random powder) gives exactly 1.
    """
    r = np.asarray(r, dtype=float)
    if r.ndim == 0 and r == 1.0:
        return np.ones(cosines.shape[0])
    mean = np.nanmean(march_dollase(np.nan_to_num(cosines), r[..., None, None]) + 0 * cosines, axis=-1)
    return np.where(r[..., None] == 1.0, 1.0, mean)


def family_texture(hkl: np.ndarray, cell: tuple[float, ...], axis: tuple[int, int, int], r: float) -> np.ndarray:
    """March-Dollase factor (K,) of each reflection family ``hkl`` (K, 3) for texture ``axis`` and
    parameter ``r``: the mean over the family's members of equal spacing (see the module doc)."""
    return family_factors(family_cosines(hkl, cell, axis), r)
