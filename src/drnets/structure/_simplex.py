"""Composition geometry: compositions on the simplex as Cartesian coordinates."""

from __future__ import annotations

import numpy as np


def simplex_basis(m: int) -> np.ndarray:
    """Orthonormal (M, M-1) basis of the plane ``sum(x) = const`` of M-element compositions.

    Row ``i`` is where the pure element ``i`` lands, so the rows are the corners of a regular
    simplex with edges of length sqrt(2), centred on the origin; distances between
    compositions are kept.
    """
    # QR of the centring matrix: its first M-1 columns span the plane orthogonal to (1, ..., 1).
    basis, _ = np.linalg.qr(np.eye(m) - 1.0 / m)
    return basis[:, : m - 1]


def simplex_coordinates(compositions: np.ndarray, vertices: np.ndarray | None = None) -> np.ndarray:
    """Cartesian positions of compositions: each row's weighted sum of the simplex's corners.

    Parameters
    ----------
    compositions : ndarray of shape (N, M)
        Rows on the simplex (element fractions).
    vertices : ndarray of shape (M, D), optional
        Where each pure element sits (e.g. a drawing's triangle); default
        :func:`simplex_basis`, the orthonormal coordinates of the simplex's plane.

    Returns
    -------
    ndarray of shape (N, D)
    """
    c = np.asarray(compositions, dtype=float)
    return c @ (simplex_basis(c.shape[1]) if vertices is None else vertices)
