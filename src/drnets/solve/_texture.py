"""Preferred orientation in the final fits: March-Dollase variants of each phase.

The exhaustive subset search draws every phase with its tabulated intensities. Thin films
and pressed powders are textured: along one axis reflections gain or lose several-fold
(:func:`~drnets.core.march_dollase`), and a phase fitted with the wrong intensities leaves
a residual that a look-alike or an extra phase then explains. The final fits of each
point's best sets (:func:`~drnets.solve._search.group_fit`) therefore draw a phase that
has Miller indices and a cell as a non-negative mixture of its untextured profile and its
profiles textured along a few low-index axes (plates and needles each): a cone of
intensity patterns that holds the March-Dollase family in between. Phases without
indices (stick tables) are fitted as before.
"""

from __future__ import annotations

import numpy as np

from ..core import PhaseLibrary, plane_cosines

#: March-Dollase parameters of the variants: plates (below 1) and needles (above 1).
TEXTURE_R = (0.55, 1.8)
#: Axes of the variants, as plane normals: the lab refinement's (core ``TEXTURE_AXES``) and
#: (101), (011); axes that order a phase's reflections alike are merged.
VARIANT_AXES = ((0, 0, 1), (1, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1))


def texture_factors(phases: PhaseLibrary, reachable: list[np.ndarray], k: int) -> list[np.ndarray | None]:
    """Per phase, the intensity factors (T, k) of its texture variants, or None.

    Parameters
    ----------
    phases : PhaseLibrary
    reachable : list of bool arrays
        The sticks kept on the grid, per phase (see :func:`~drnets.solve._decoder.reachable_sticks`);
        the factors follow the padded stick order.
    k : int
        Padded stick count.
    """
    from ..core import march_dollase

    out: list[np.ndarray | None] = []
    for ph, keep in zip(phases, reachable):
        if ph.hkl is None or ph.cell is None or keep.sum() < 2:
            out.append(None)
            continue
        seen: list[np.ndarray] = []
        rows = []
        for axis in VARIANT_AXES:
            cos = plane_cosines(ph.hkl[keep], ph.cell, axis)
            if np.ptp(cos * cos) < 0.05 or any(np.abs(cos - c).max() < 1e-3 for c in seen):
                continue  # no reflection stands out along it, or another axis already does the same
            seen.append(cos)
            for r in TEXTURE_R:
                f = np.ones(k)
                f[: cos.size] = march_dollase(cos, r)
                rows.append(f / f.max())
        out.append(np.array(rows) if rows else None)
    return out
