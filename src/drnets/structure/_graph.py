"""The composition graph: which sample points are neighbours in composition space."""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay, QhullError

from ._simplex import simplex_coordinates


def composition_graph(compositions: np.ndarray, *, tol: float = 1e-9) -> np.ndarray:
    """Neighbour pairs of a library's points.

    Delaunay triangulation of the compositions on the simplex (a triangle for ternaries,
    a tetrahedron for quaternaries). Points that span fewer dimensions (a line, a plane)
    are triangulated in the space they span; coincident points are joined to each other
    and share the neighbours of their representative.

    Parameters
    ----------
    compositions : ndarray of shape (N, M)
    tol : float
        Distance under which two points count as coincident.

    Returns
    -------
    ndarray of shape (E, 2), int
        Sorted unique pairs (i, j) with i < j.
    """
    comp = np.asarray(compositions, dtype=float)
    n = comp.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=int)
    x = simplex_coordinates(comp) if comp.shape[1] > 1 else np.zeros((n, 1))
    # Merge coincident points onto one representative.
    keys = np.round(x / max(tol, 1e-12)).astype(np.int64)
    _, rep_index, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    reps = x[rep_index]
    edges: set[tuple[int, int]] = set()
    rep_edges = _triangulate(reps)
    for a, b in rep_edges:
        edges.add((int(a), int(b)))
    # Expand representative edges to all members; join members of one group.
    members = [np.flatnonzero(inverse == r) for r in range(len(rep_index))]
    out: set[tuple[int, int]] = set()
    for a, b in edges:
        for i in members[a]:
            for j in members[b]:
                out.add((min(i, j), max(i, j)))
    for group in members:
        for k in range(len(group) - 1):
            out.add((int(group[k]), int(group[k + 1])))
    if not out:
        return np.zeros((0, 2), dtype=int)
    return np.array(sorted(out), dtype=int)


def _triangulate(x: np.ndarray) -> list[tuple[int, int]]:
    n = x.shape[0]
    if n < 2:
        return []
    centred = x - x.mean(axis=0)
    # Dimension actually spanned, from the singular values.
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    rank = int(np.sum(s > 1e-9 * max(1.0, s.max()))) if s.size else 0
    if rank == 0:
        return []
    y = centred @ vt[:rank].T
    if rank == 1 or n <= rank + 1:
        if rank == 1:
            order = np.argsort(y[:, 0], kind="stable")
            return [(int(order[k]), int(order[k + 1])) for k in range(n - 1)]
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    try:
        tri = Delaunay(y)
    except QhullError:
        tri = Delaunay(y, qhull_options="QJ")
    pairs = set()
    for simplex in tri.simplices:
        for a in range(len(simplex)):
            for b in range(a + 1, len(simplex)):
                i, j = int(simplex[a]), int(simplex[b])
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def adjacency_lists(edges: np.ndarray, n_points: int) -> list[np.ndarray]:
    """Neighbours of each point from an edge list."""
    nbrs: list[list[int]] = [[] for _ in range(n_points)]
    for i, j in np.asarray(edges, dtype=int):
        nbrs[i].append(j)
        nbrs[j].append(i)
    return [np.array(sorted(v), dtype=int) for v in nbrs]


def edges_from_adjacency(adjacency: np.ndarray) -> np.ndarray:
    """Edge list (i < j) from a symmetric N x N adjacency matrix."""
    a = np.asarray(adjacency) != 0
    a = a | a.T
    i, j = np.nonzero(np.triu(a, k=1))
    return np.stack([i, j], axis=1).astype(int)
