"""Spatial tiles of a library: contiguous regions of the composition graph, and their halos.

A large library is searched tile by tile on several workers (:mod:`drnets.solve._tiled_search`).
A tile is a region of composition space, cut by recursive coordinate bisection (each cut at
the median of the coordinate along which the part spreads most), so that its points are
mostly each other's neighbours and its halo (the neighbours outside it) stays small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._simplex import simplex_coordinates


def spatial_tiles(compositions: np.ndarray, n_tiles: int, max_points: int | None = None) -> list[np.ndarray]:
    """Split the points into at least ``n_tiles`` regions of composition space, none above ``max_points``.

    The largest part is cut in two until there are ``n_tiles`` parts and every part holds at
    most ``max_points`` points (so a tile that would not fit a worker's memory is split
    further). The cut is deterministic: ties in the coordinate keep the points' order.

    Parameters
    ----------
    compositions : ndarray (N, M)
        The points' compositions (any coordinates: the simplex's are used where M > 1).
    n_tiles : int
        The fewest tiles wanted (at most N).
    max_points : int or None
        The most points a tile may hold; None: no limit.

    Returns
    -------
    list of ndarray of int
        Each tile's point indices, ascending; the tiles in the order of their first point.
    """
    comp = np.asarray(compositions, dtype=float)
    n = comp.shape[0]
    if n == 0:
        return []
    x = simplex_coordinates(comp) if comp.ndim == 2 and comp.shape[1] > 1 else np.zeros((n, 1))
    cap = n if max_points is None else max(1, int(max_points))
    parts = [np.arange(n)]
    while True:
        big = max(range(len(parts)), key=lambda k: parts[k].size)
        if parts[big].size <= 1 or (len(parts) >= n_tiles and parts[big].size <= cap):
            break
        pts = parts.pop(big)
        axis = int(np.argmax(np.ptp(x[pts], axis=0)))
        order = pts[np.argsort(x[pts, axis], kind="stable")]
        half = order.size // 2
        parts += [np.sort(order[:half]), np.sort(order[half:])]
    return sorted(parts, key=lambda p: int(p[0]))


def tile_halo(points: np.ndarray, neighbours: Sequence[np.ndarray]) -> np.ndarray:
    """The neighbours of ``points`` outside them (ascending): what a tile reads of the others' answers."""
    inside = set(np.asarray(points).tolist())
    out = {int(j) for i in points for j in neighbours[int(i)]} - inside
    return np.array(sorted(out), dtype=np.int64)
