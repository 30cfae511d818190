"""The phase diagram at fixed temperature: tie-simplices between the stable phases.

Every stable phase is one vertex on the composition simplex (a line compound) or two (a
solid solution: host and far end). The simplex is split into tie-simplices by a Delaunay
triangulation of the vertices; a point's phases are the vertices of its tie-simplex in
lever-rule proportions (its barycentric coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import Delaunay, QhullError

from ..core import InputError
from ..structure import simplex_coordinates
from ._systems import ChemicalSystem


@dataclass
class Diagram:
    """Vertices of the stable phases and the tie-simplices between them."""

    vertex_phase: np.ndarray  # (V,) index into system.stable
    vertex_far: np.ndarray  # (V,) bool: the far end of a solid solution
    vertex_comp: np.ndarray  # (V, M)
    simplices: np.ndarray  # (S, M) vertex indices


def build_diagram(system: ChemicalSystem) -> Diagram:
    """The vertices of a system's stable phases and their Delaunay tie-simplices."""
    phase, far, comp = [], [], []
    for i, sp in enumerate(system.stable):
        for is_far, c in ((False, sp.host), (True, sp.far)):
            if c is None:
                continue
            unknown = set(c) - set(system.elements)
            if unknown:
                raise InputError(f"phase {sp.label!r} uses elements {sorted(unknown)} outside the system")
            v = np.array([c.get(e, 0.0) for e in system.elements], dtype=float)
            phase.append(i)
            far.append(is_far)
            comp.append(v / v.sum())
    comp_a = np.array(comp)
    x = simplex_coordinates(comp_a)
    try:
        tri = Delaunay(x)
    except QhullError as err:  # pragma: no cover - the built-in systems triangulate
        raise InputError(f"cannot triangulate the phase diagram of {system.name} ({err})") from None
    # Drop flat simplices that degenerate (cospherical) input can leave.
    keep = []
    for s in tri.simplices:
        d = x[s[1:]] - x[s[0]]
        if abs(np.linalg.det(d)) > 1e-12:
            keep.append(np.sort(s))
    return Diagram(np.array(phase), np.array(far), comp_a, np.array(keep, dtype=int))


def barycentric(diagram: Diagram, compositions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tie-simplex index (N,) and vertex weights (N, M) of every point."""
    n, m = compositions.shape
    vx = diagram.vertex_comp  # (V, M)
    simplex = np.full(n, -1, dtype=int)
    weights = np.zeros((n, m))
    best = np.full(n, -np.inf)
    for s_idx, s in enumerate(diagram.simplices):
        # Solve vx[s].T @ w = c (M equations incl. sum = 1, since rows sum to 1).
        w = np.linalg.solve(vx[s].T, compositions.T).T  # (N, M)
        worst = w.min(axis=1)
        better = worst > best + 1e-12
        simplex[better] = s_idx
        weights[better] = w[better]
        best[better] = worst[better]
    if np.any(best < -1e-6):
        i = int(np.argmin(best))
        raise InputError(f"point {i} lies outside every tie-simplex")  # pragma: no cover
    weights = np.where(weights < 1e-10, 0.0, weights)
    return simplex, weights / weights.sum(axis=1, keepdims=True)
