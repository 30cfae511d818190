"""The thermodynamic rules on an answer, each defined once: Gibbs count, connected regions,
alloying and composition consistency.

The solver's repairs and :func:`drnets.evaluate.audit` both call these, so that what the
solver enforces is exactly what the audit counts. An answer is given here as a boolean
presence matrix ``present`` (N points x P phases) with, where needed, ``substrate`` (P,)
marking phases outside the system (they do not count in Gibbs or alloying).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.optimize import nnls
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(points: np.ndarray, edges: np.ndarray, n_points: int) -> np.ndarray:
    """Connected-component label of each of ``points`` in the graph restricted to them.

    Parameters
    ----------
    points : ndarray of int
        Point indices (a phase's points, a phase field's points, ...).
    edges : ndarray of shape (E, 2)
        The composition graph.
    n_points : int
        Points in the library.

    Returns
    -------
    ndarray of int, same length as ``points``
        Labels 0, 1, ...; one label per connected piece.
    """
    points = np.asarray(points, dtype=int)
    if points.size == 0:
        return np.zeros(0, dtype=int)
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    inside = np.zeros(n_points, dtype=bool)
    inside[points] = True
    e = edges[inside[edges[:, 0]] & inside[edges[:, 1]]]
    local = np.full(n_points, -1)
    local[points] = np.arange(points.size)
    g = coo_matrix((np.ones(len(e)), (local[e[:, 0]], local[e[:, 1]])), shape=(points.size, points.size))
    return connected_components(g, directed=False)[1]


def linked(points: np.ndarray, edges: np.ndarray, n_points: int) -> np.ndarray:
    """The ``points`` that have a neighbour at all: a point with none (an independent sample) has no
    region to be cut off from, so the connectivity rule does not see it (in a composition graph,
    which joins every point of a library of two or more, every point has one)."""
    points = np.asarray(points, dtype=int)
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    has = np.zeros(n_points, dtype=bool)
    has[edges.ravel()] = True
    return points[has[points]]


def outside_main_region(points: np.ndarray, edges: np.ndarray, n_points: int) -> np.ndarray:
    """The ``points`` cut off from their largest connected piece (the first largest on a tie);
    points without any neighbour (see :func:`linked`) are never cut off."""
    points = linked(points, edges, n_points)
    lab = components(points, edges, n_points)
    if lab.size == 0 or lab.max() < 1:
        return np.zeros(0, dtype=int)
    return points[lab != np.bincount(lab).argmax()]


def phase_fields(present: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each phase field of two or more coexisting phases: (its phases, its points).

    A phase field is an exact set of phases; the fields come in a fixed order (sorted by
    their presence rows), so that every caller walks them alike.
    """
    present = np.asarray(present, dtype=bool)
    multi = np.flatnonzero(present.sum(axis=1) >= 2)
    if multi.size == 0:
        return
    sets, inverse = np.unique(present[multi], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for s in range(len(sets)):
        yield np.flatnonzero(sets[s]), multi[inverse == s]


def broken_regions(present: np.ndarray, edges: np.ndarray) -> list[dict[str, np.ndarray | int]]:
    """Connectivity rule: every phase's region and every phase field should be one piece
    (points without any neighbour, see :func:`linked`, are no part of a piece).

    Returns
    -------
    list of dict
        One entry per broken region: ``phases`` (indices), ``components`` (pieces, > 1)
        and ``points``; each extra piece is one violation.
    """
    present = np.asarray(present, dtype=bool)
    n = present.shape[0]
    out: list[dict[str, np.ndarray | int]] = []
    for k in range(present.shape[1]):
        pts = linked(np.flatnonzero(present[:, k]), edges, n)
        c = int(components(pts, edges, n).max()) + 1 if pts.size else 0
        if c > 1:
            out.append({"phases": np.array([k]), "components": c, "points": pts})
    for phs, pts in phase_fields(present):
        pts = linked(pts, edges, n)
        c = int(components(pts, edges, n).max()) + 1 if pts.size else 0
        if c > 1:
            out.append({"phases": phs, "components": c, "points": pts})
    return out


def extra_components(present: np.ndarray, edges: np.ndarray) -> int:
    """Violations of the connectivity rule: extra pieces of phase regions and phase fields."""
    return sum(int(r["components"]) - 1 for r in broken_regions(present, edges))


def system_phase_count(present: np.ndarray, substrate: np.ndarray | None) -> np.ndarray:
    """Phases per point that count in the Gibbs rule: a substrate is not part of the system."""
    present = np.asarray(present, dtype=bool)
    if substrate is None:
        return present.sum(axis=1)
    return (present & ~np.asarray(substrate, dtype=bool)[None, :]).sum(axis=1)


def gibbs_excess(present: np.ndarray, max_phases: np.ndarray, substrate: np.ndarray | None) -> np.ndarray:
    """Gibbs rule: system phases beyond each point's limit (0 where the rule holds)."""
    return np.maximum(system_phase_count(present, substrate) - np.asarray(max_phases, dtype=int), 0)


def pinned_edges(
    present: np.ndarray, edges: np.ndarray, max_phases: np.ndarray, substrate: np.ndarray | None
) -> np.ndarray:
    """Edges along which the alloying rule forbids a shift change (boolean, one per edge).

    Both ends hold their full phase count (no degree of freedom left to move a phase's
    composition), have the same limit (the same elements present: a point on a lower-order
    face pins a phase's composition differently) and the same phase set (across a
    phase-field boundary a phase's composition may jump).
    """
    present = np.asarray(present, dtype=bool)
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    maxp = np.asarray(max_phases, dtype=int)
    count = system_phase_count(present, substrate)
    i, j = edges[:, 0], edges[:, 1]
    full = (count[i] >= maxp[i]) & (count[j] >= maxp[j]) & (maxp[i] == maxp[j])
    return full & (present[i] == present[j]).all(axis=1)


def relative_jump(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Relative change between two shifts (by their mean magnitude); 0 where either is missing."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    denom = np.where(ok, 0.5 * (np.abs(a) + np.abs(b)), 1.0)
    denom = np.where(denom > 0, denom, 1.0)
    return np.where(ok, np.abs(np.where(ok, a - b, 0.0)) / denom, 0.0)


def alloying_breaks(
    present: np.ndarray,
    shifts: np.ndarray,
    edges: np.ndarray,
    max_phases: np.ndarray,
    substrate: np.ndarray | None,
    tolerance: float,
) -> np.ndarray:
    """Alloying rule: (E, P) boolean, a phase whose shift jumps by more than ``tolerance``
    along a pinned edge (:func:`pinned_edges`)."""
    present = np.asarray(present, dtype=bool)
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    sh = np.asarray(shifts, dtype=float)
    i, j = edges[:, 0], edges[:, 1]
    ok = np.isfinite(sh[i]) & np.isfinite(sh[j])
    moved = present[i] & present[j] & ok & (relative_jump(sh[i], sh[j]) > tolerance)
    return moved & pinned_edges(present, edges, max_phases, substrate)[:, None]


def composition_distance(composition: np.ndarray, phase_compositions: np.ndarray) -> float:
    """Composition rule: distance of a point's composition from the cone of its phases'.

    Parameters
    ----------
    composition : ndarray (M,)
        The point's element fractions.
    phase_compositions : ndarray (k, M)
        Cation fractions of the point's (system) phases.

    Returns
    -------
    float
        Euclidean distance of the non-negative least-squares fit; 0 when the phases can
        make up the composition exactly.
    """
    return float(nnls(np.asarray(phase_compositions, dtype=float).T, np.asarray(composition, dtype=float))[1])
