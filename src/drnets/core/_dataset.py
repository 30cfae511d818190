"""What a reader hands over: a library, perhaps its phases, mask, limits and a solution."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._errors import InputError
from ._formula import placeholder_elements
from ._library import Library
from ._phases import PhaseLibrary
from ._solution import Solution
from .constants import MAX_SHIFT


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
    warnings : list of str, optional
        One line per thing a scientist should know about the input; those the contents
        themselves show (undeclared substrates, phases outside the Q range, resampled
        patterns, unnamed elements) are added on construction.
    independent : bool
        The points are separate samples of unknown composition (patterns read without
        compositions): no point is another's neighbour, and the composition rules do not
        apply; their compositions are a placeholder (every element present alike).
    """

    library: Library
    phases: PhaseLibrary | None = None
    mask: np.ndarray | None = None
    max_phases: np.ndarray | None = None
    solution: Solution | None = None
    warnings: list[str] = field(default_factory=list)
    independent: bool = False

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
            if not self.mask.any():
                raise InputError("the mask allows no phase at any point (all zero)", source=src, where="mask")
        if self.max_phases is not None:
            mp = np.asarray(self.max_phases, dtype=float).ravel()
            if mp.shape != (n,) or not np.all(np.isfinite(mp)) or np.any(mp < 0) or np.any(mp != np.round(mp)):
                raise InputError(f"max_phases must be {n} non-negative integers", source=src, where="max_phases")
            if mp.max() > _MAX_PHASES_LIMIT:
                raise InputError(f"max_phases {mp.max():g} is not a number of phases", source=src, where="max_phases")
            self.max_phases = mp.astype(int)
        found = _library_warnings(self.library, self.independent)
        if self.max_phases is not None and self.phases is not None and self.max_phases.max() > len(self.phases):
            # a limit above the number of phases limits nothing: clamp it so that no one sizes arrays by it
            p = len(self.phases)
            found.append(
                f"max_phases above the number of phases ({p}) at {int(np.sum(self.max_phases > p))} of {n} points "
                f"(up to {self.max_phases.max()}): taken as {p}"
            )
            self.max_phases = np.minimum(self.max_phases, len(self.phases))
        if self.phases is not None:
            found += self.phases.warnings + _unseen_phases(self.library, self.phases)
        self.warnings = list(self.warnings) + [w for w in found if w not in self.warnings]


# Beyond any phase library: a larger limit is a corrupted value, not a choice.
_MAX_PHASES_LIMIT = 1e6


def _library_warnings(library: Library, independent: bool = False) -> list[str]:
    out = []
    m = library.n_elements
    if independent:
        out.append(
            f"no compositions: the {library.n_points} pattern(s) are independent samples, each solved on its own "
            "(no neighbours, no composition rule)"
        )
    elif list(library.elements) == placeholder_elements(m):
        out.append(
            f"element names unknown (called {', '.join(library.elements)}): no phase composition can be "
            "matched to them, so every phase counts as a substrate"
        )
    guessed = library.metadata.get("x_unit_guessed")
    if guessed is not None and np.any(guessed != ""):
        units = sorted({str(u) for u in guessed if u})
        out.append(
            f"{int(np.sum(guessed != ''))} of {library.n_points} pattern files state no x unit: read as "
            f"{' and '.join(units)} by their range (pass --x-unit, or --wavelength for 2θ, to say otherwise)"
        )
    resampled = library.metadata.get("resampled")
    if resampled is not None and np.any(resampled):
        q = library.q
        out.append(
            f"{int(np.sum(resampled))} of {library.n_points} patterns were resampled onto the common Q grid "
            f"{q[0]:g}-{q[-1]:g} nm⁻¹ ({q.size} points)"
        )
    return out


def _unseen_phases(library: Library, phases: PhaseLibrary) -> list[str]:
    """Phases whose sticks all lie outside the Q range even at the largest shift."""
    lo, hi = float(library.q[0]), float(library.q[-1])
    out = []
    for p in phases:
        if not np.any((p.q >= lo / (1 + MAX_SHIFT)) & (p.q <= hi / (1 - MAX_SHIFT))):  # divided: no overflow
            out.append(
                f"phase {p.label!r}: all {p.q.size} sticks ({p.q[0]:g}-{p.q[-1]:g} nm⁻¹) lie outside the Q range "
                f"{lo:g}-{hi:g} nm⁻¹ even at the largest shift (±{MAX_SHIFT:.0%}): it can never be seen"
            )
    return out
