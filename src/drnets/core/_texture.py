"""Preferred orientation: the March-Dollase factor of each reflection.

A textured sample holds more crystallites with one lattice plane (the texture axis, given
as a plane normal ``hkl``) parallel to its surface. The intensity of reflection k is then
multiplied by ``(r**2 cos**2 a_k + sin**2 a_k / r) ** -1.5``, with ``a_k`` the angle
between its plane normal and the axis and ``r`` the March-Dollase parameter (1: random
powder; below 1: plates along the axis; above 1: needles). The generator draws texture
with it and the solver fits it.
"""

from __future__ import annotations

import math

import numpy as np


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
