"""Per-point limits from thermodynamics: the Gibbs phase rule and the element rule."""

from __future__ import annotations

import numpy as np

from ..core import Library, PhaseLibrary
from ..core.constants import ELEMENT_THRESHOLD


def gibbs_limits(compositions: np.ndarray, *, threshold: float = ELEMENT_THRESHOLD) -> np.ndarray:
    """Maximum number of coexisting phases per point.

    At fixed temperature and pressure the Gibbs phase rule allows at most as many phases
    as there are components; the components here are the elements present above
    ``threshold`` (oxygen from the atmosphere is not counted).

    Returns
    -------
    ndarray of shape (N,), int
    """
    comp = np.asarray(compositions, dtype=float)
    return np.maximum((comp > threshold).sum(axis=1), 1).astype(int)


def allowed_mask(
    library: Library,
    phases: PhaseLibrary,
    *,
    threshold: float = ELEMENT_THRESHOLD,
    allow_substrate: bool = True,
    override: np.ndarray | None = None,
) -> np.ndarray:
    """Which phase may appear at which point.

    A phase may appear only where all its elements are present above ``threshold``.
    Phases with none of the system's elements (substrates) are allowed everywhere when
    ``allow_substrate`` is true and nowhere otherwise. A user-supplied ``override`` mask
    is returned as it is.

    Returns
    -------
    ndarray of shape (N, P), bool
    """
    if override is not None:
        return np.asarray(override, dtype=bool)
    present = library.compositions > threshold  # (N, M)
    needs = phases.compositions > 0  # (P, M)
    # allowed[n, p] = all elements p needs are present at n
    missing = needs[None, :, :] & ~present[:, None, :]
    mask = ~missing.any(axis=2)
    sub = phases.is_substrate
    mask[:, sub] = allow_substrate
    return mask
