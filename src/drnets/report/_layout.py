"""Colours, map coordinates and the path through a library shared by the report's figures."""

from __future__ import annotations

import numpy as np

from ..core.constants import PHASE_THRESHOLD
from ..structure import simplex_basis, simplex_coordinates

# Qualitative palette (tab10 then tab20's light shades, then Set3-like extras).
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#e7ba52",
    "#637939",
    "#ad494a",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
    "#843c39",
    "#8ca252",
    "#bd9e39",
    "#d6616b",
]


def phase_colors(labels: list[str], order: list[int] | np.ndarray | None = None) -> dict[str, str]:
    """A colour per phase label, stable for a given ``order`` (e.g. the active phases first).

    Phases in ``order`` get the palette's first colours in that order; the others follow.
    """
    idx = list(order) if order is not None else []
    idx += [i for i in range(len(labels)) if i not in set(idx)]
    out = {}
    for n, i in enumerate(idx):
        if n < len(_PALETTE):
            out[labels[i]] = _PALETTE[n]
        else:  # golden-angle hues beyond the palette
            import colorsys

            h = (n * 0.618033988749895) % 1.0
            r, g, b = colorsys.hls_to_rgb(h, 0.5, 0.6)
            out[labels[i]] = f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
    return out


def hex_to_rgb(h: str) -> tuple[float, float, float]:
    h = h.lstrip("#")
    return tuple(int(h[k : k + 2], 16) / 255.0 for k in (0, 2, 4))  # type: ignore[return-value]


#: Corners of the ternary map (edge 1): element 0 on top, 1 bottom-left, 2 bottom-right.
_TRIANGLE = np.array([[0.5, np.sqrt(3.0) / 2.0], [0.0, 0.0], [1.0, 0.0]])
#: Ends of the binary map: element 0 at the origin, 1 at x = 1.
_SEGMENT = np.array([[0.0, 0.0], [1.0, 0.0]])


def plane_coordinates(compositions: np.ndarray) -> np.ndarray:
    """2-D map positions of compositions.

    Ternary: the equilateral triangle with element 0 at the top, 1 bottom-left, 2
    bottom-right (the mpltern/plotly layout). Binary: the second element's fraction on x.
    More elements: the first two orthonormal coordinates of the simplex plane.
    """
    c = np.asarray(compositions, dtype=float)
    m = c.shape[1]
    if m == 3:
        return simplex_coordinates(c, _TRIANGLE)
    if m == 2:
        return simplex_coordinates(c, _SEGMENT)
    if m == 1:
        return np.zeros((len(c), 2))
    return simplex_coordinates(c, simplex_basis(m)[:, :2])


def library_path(compositions: np.ndarray) -> np.ndarray:
    """An ordering of the points that walks through the library (greedy nearest neighbour).

    Starts at the point richest in the first element and always steps to the nearest
    unvisited point, so neighbouring rows of a heat map are neighbours in composition.
    """
    c = np.asarray(compositions, dtype=float)
    n = c.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)) if n <= 4000 else None
    start = int(np.lexsort((c[:, -1], -c[:, 0]))[0])
    seen = np.zeros(n, dtype=bool)
    order = [start]
    seen[start] = True
    cur = start
    for _ in range(n - 1):
        row = d[cur] if d is not None else np.sqrt(((c - c[cur]) ** 2).sum(axis=1))
        row = np.where(seen, np.inf, row)
        cur = int(np.argmin(row))
        order.append(cur)
        seen[cur] = True
    return np.array(order, dtype=int)


def dominant_phase(fractions: np.ndarray, threshold: float = PHASE_THRESHOLD) -> np.ndarray:
    """Index of the largest phase per point, -1 where none exceeds ``threshold``."""
    f = np.nan_to_num(np.asarray(fractions, dtype=float))
    dom = np.argmax(f, axis=1) if f.shape[1] else np.zeros(len(f), dtype=int)
    return np.where(f.max(axis=1, initial=0.0) > threshold, dom, -1)


#: Vertices of a regular tetrahedron (edge 1): element 0 on top, 1-3 around the base.
_TETRA = np.array(
    [
        [0.0, 0.0, np.sqrt(2.0 / 3.0)],
        [-0.5, -np.sqrt(3.0) / 6.0, 0.0],
        [0.5, -np.sqrt(3.0) / 6.0, 0.0],
        [0.0, np.sqrt(3.0) / 3.0, 0.0],
    ]
)


def tetra_coordinates(compositions: np.ndarray) -> np.ndarray:
    """3-D positions of 4-element compositions inside a regular tetrahedron (edge 1)."""
    c = np.asarray(compositions, dtype=float)
    s = c.sum(axis=1, keepdims=True)
    return simplex_coordinates(c / np.where(s > 0, s, 1.0), _TETRA)


def tetra_vertices() -> np.ndarray:
    """The tetrahedron's corners (4, 3), in element order."""
    return _TETRA.copy()


def project_view(xyz: np.ndarray, elev: float = 20.0, azim: float = -15.0, *, depth: bool = False) -> np.ndarray:
    """Orthographic 2-D view of 3-D points (elevation and azimuth in degrees).

    With ``depth``, a third column holds the distance from the viewer (larger = farther).
    """
    a, e = np.radians(azim), np.radians(elev)
    p = np.asarray(xyz, dtype=float) - _TETRA.mean(axis=0)
    x = p[:, 0] * np.cos(a) - p[:, 1] * np.sin(a)
    yd = p[:, 0] * np.sin(a) + p[:, 1] * np.cos(a)
    y = p[:, 2] * np.cos(e) - yd * np.sin(e)
    if depth:
        return np.stack([x, y, -(yd * np.cos(e) + p[:, 2] * np.sin(e))], axis=1)
    return np.stack([x, y], axis=1)
