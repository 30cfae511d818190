"""What a reader hands over: a library, perhaps its phases, mask, limits and a solution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._errors import InputError
from ._library import Library
from ._phases import PhaseLibrary
from ._solution import Solution


@dataclass(eq=False)
class Dataset:
    """A library with everything that travels with it.

    Parameters
    ----------
    library : Library
        The patterns and compositions.
    phases : PhaseLibrary, optional
        The candidate phases.
    mask : ndarray of shape (N, P), optional
        A user-supplied allowed-phase mask (overrides the element rule).
    max_phases : ndarray of shape (N,), optional
        A user-supplied Gibbs limit per point.
    solution : Solution, optional
        A solution, when the file holds one.
    """

    library: Library
    phases: PhaseLibrary | None = None
    mask: np.ndarray | None = None
    max_phases: np.ndarray | None = None
    solution: Solution | None = None

    def __post_init__(self) -> None:
        n = self.library.n_points
        src = self.library.source
        if self.phases is not None and tuple(self.phases.elements) != tuple(self.library.elements):
            raise InputError(
                f"phase library elements {list(self.phases.elements)} differ from the library's "
                f"{list(self.library.elements)}",
                source=src,
            )
        if self.mask is not None:
            self.mask = np.asarray(self.mask, dtype=bool)
            p = len(self.phases) if self.phases is not None else self.mask.shape[-1]
            if self.mask.shape != (n, p):
                raise InputError(f"mask has shape {self.mask.shape}, expected ({n}, {p})", source=src, where="mask")
        if self.max_phases is not None:
            mp = np.asarray(self.max_phases, dtype=float).ravel()
            if mp.shape != (n,) or not np.all(np.isfinite(mp)) or np.any(mp < 0) or np.any(mp != np.round(mp)):
                raise InputError(f"max_phases must be {n} non-negative integers", source=src, where="max_phases")
            self.max_phases = mp.astype(int)
