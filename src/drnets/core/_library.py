"""The composition library: sample points, their compositions and their patterns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._errors import InputError
from ._wavelength import Wavelength
from .constants import COMPOSITION_SUM_TOLERANCE, MAX_INTENSITY


@dataclass(eq=False)
class Library:
    """N sample points of a combinatorial library, each with a composition and a pattern.

    Parameters
    ----------
    elements : tuple of str
        The M system elements.
    compositions : ndarray of shape (N, M)
        Element fractions per point; rows sum to 1 (within 2 %, then renormalised).
    q : ndarray of shape (L,)
        The common scattering-vector grid in nm⁻¹, strictly ascending.
    patterns : ndarray of shape (N, L)
        Diffraction intensities, non-negative and finite.
    metadata : dict of str to ndarray, optional
        Per-point extras of length N, e.g. ``x``, ``y``, ``sample_no``, ``file``.
    source : str, optional
        Where the library was read from (used in messages and reports).
    wavelength : Wavelength, optional
        The radiation the patterns were measured with, where known (read from raw
        diffractometer files or given by the user); Q was converted from 2θ with its Kα1.
    """

    elements: tuple[str, ...]
    compositions: np.ndarray
    q: np.ndarray
    patterns: np.ndarray
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    source: str | None = None
    wavelength: Wavelength | None = None

    def __post_init__(self) -> None:
        src = self.source or "library"
        self.elements = tuple(str(e) for e in self.elements)
        if len(self.elements) == 0:
            raise InputError("no elements", source=src, where="Elements")
        if len(set(self.elements)) != len(self.elements):
            raise InputError(f"duplicate element in {list(self.elements)}", source=src, where="Elements")
        comp = _real(self.compositions, src, "compositions")
        q = _real(self.q, src, "Q").ravel()
        pat = _real(self.patterns, src, "patterns")
        if comp.ndim != 2 or comp.shape[1] != len(self.elements):
            raise InputError(
                f"compositions have shape {comp.shape}, expected (N, {len(self.elements)})",
                source=src,
                where="compositions",
            )
        n = comp.shape[0]
        if n == 0:
            raise InputError("the library is empty (no points)", source=src, where="N")
        if pat.ndim != 2 or pat.shape != (n, q.size):
            raise InputError(
                f"patterns have shape {pat.shape}, expected ({n}, {q.size}) from N and the Q grid",
                source=src,
                where="patterns",
            )
        if q.size < 2:
            raise InputError("the Q grid needs at least 2 points", source=src, where="Q")
        _finite(q, src, "Q")
        if q[0] < 0:
            raise InputError(f"negative Q {q[0]:g} (Q is a magnitude in nm⁻¹)", source=src, where="Q")
        if np.any(np.diff(q) <= 0):
            i = int(np.argmax(np.diff(q) <= 0))
            raise InputError(
                f"Q grid is not strictly ascending at index {i + 1} ({q[i]:g} then {q[i + 1]:g})",
                source=src,
                where="Q",
            )
        _finite(comp, src, "compositions")
        if np.any(comp < -1e-9):
            i = int(np.argwhere(comp < -1e-9)[0, 0])
            raise InputError(f"negative composition at point {i}", source=src, where="compositions")
        with np.errstate(over="ignore"):  # an overflowing sum is reported as not 1 below
            sums = comp.sum(axis=1)
        bad = np.abs(sums - 1.0) > COMPOSITION_SUM_TOLERANCE
        if np.any(bad):
            i = int(np.argmax(bad))
            raise InputError(f"composition of point {i} sums to {sums[i]:.4g}, not 1", source=src, where="compositions")
        _finite(pat, src, "patterns")
        if np.any(pat < 0):
            i, j = (int(v) for v in np.argwhere(pat < 0)[0])
            raise InputError(
                f"negative intensity {pat[i, j]:g} at point {i}, Q index {j}", source=src, where="patterns"
            )
        if np.any(pat > MAX_INTENSITY):
            i, j = (int(v) for v in np.argwhere(pat > MAX_INTENSITY)[0])
            raise InputError(
                f"intensity {pat[i, j]:g} at point {i}, Q index {j} is over {MAX_INTENSITY:g}, too large to compute "
                "with: rescale the patterns",
                source=src,
                where="patterns",
            )
        for key, val in list(self.metadata.items()):
            val = np.asarray(val)
            if val.shape[:1] != (n,):
                raise InputError(f"metadata has {val.shape[:1]} values, expected {n}", source=src, where=key)
            self.metadata[key] = val
        self.compositions = np.clip(comp, 0.0, None) / np.clip(comp, 0.0, None).sum(axis=1, keepdims=True)
        self.q = q
        self.patterns = pat

    @property
    def n_points(self) -> int:
        """Number of sample points N."""
        return self.compositions.shape[0]

    @property
    def n_elements(self) -> int:
        """Number of system elements M."""
        return len(self.elements)

    def subset(self, points: np.ndarray | list[int]) -> Library:
        """A library of the given points only (in the given order)."""
        idx = np.asarray(points, dtype=int)
        return Library(
            elements=self.elements,
            compositions=self.compositions[idx],
            q=self.q,
            patterns=self.patterns[idx],
            metadata={k: v[idx] for k, v in self.metadata.items()},
            source=self.source,
            wavelength=self.wavelength,
        )


def _finite(a: np.ndarray, src: str, where: str) -> None:
    if not np.all(np.isfinite(a)):
        idx = np.argwhere(~np.isfinite(a))[0]
        raise InputError(f"non-finite value at index {tuple(int(i) for i in idx)}", source=src, where=where)


def _real(a: object, src: str, where: str) -> np.ndarray:
    """A float copy of an array of real numbers (not text, complex numbers or objects)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"expected real numbers, got {arr.dtype} values", source=src, where=where)
    return np.array(arr, dtype=float)
