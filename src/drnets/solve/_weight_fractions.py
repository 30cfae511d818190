"""Weight fractions of a library solution: its peak-height amplitudes converted per phase.

The library solver draws each phase with the model of :mod:`drnets.core._forward` (sticks as
Gaussian peak heights, sigma linear in Q times the point's width scale, max-normalised); its
amplitudes are peak heights. :func:`attach_weight_fractions` converts them with
:func:`~drnets.core._weights.unit_stick_area` and the phases' mass factors (Hill-Howard from
structures, or RIR), where every candidate phase carries one; otherwise it records why
there are none. A library has no wavelength: the sticks are taken as Q-integrated
intensities, and no standard errors are given (the lab route, :func:`solve_pattern`, has them).
"""

from __future__ import annotations

import numpy as np

from ..core import PhaseLibrary, Solution, sigma_at
from ..core._forward import MIN_SIGMA, render_profile
from ..core._weights import mass_factors, unit_stick_area, weight_fractions


def attach_weight_fractions(solution: Solution, phases: PhaseLibrary, q: np.ndarray) -> Solution:
    """Set ``solution.weight_fractions`` (or, without them, ``metadata["weight_fractions"]`` saying why)."""
    factors, note = mass_factors(list(phases))
    solution.metadata = {**(solution.metadata or {}), "weight_fractions": note}
    if factors is None:
        return solution
    q = np.asarray(q, dtype=float)
    areas = np.zeros_like(solution.amplitudes)
    # shifts and width scales come from the search's grids: most (phase, shift, width) repeat
    seen: dict[tuple[int, float, float], float] = {}
    for i, p in zip(*np.nonzero(solution.amplitudes > 0)):
        s = float(solution.shifts[i, p]) if np.isfinite(solution.shifts[i, p]) else 1.0
        ws = 1.0 if solution.width_scale is None else float(solution.width_scale[i, p])
        key = (int(p), round(s, 9), round(ws, 9))
        if key not in seen:
            ph = phases[int(p)]
            widths = np.asarray(solution.widths[p], dtype=float) * ws
            centres = ph.q * s
            sig = np.maximum(sigma_at(centres, widths, q[0], q[-1]), MIN_SIGMA)
            inside = (centres >= q[0]) & (centres <= q[-1])
            peak = float(render_profile(ph, q, shift=s, widths=widths, normalize=False).max())
            seen[key] = unit_stick_area(ph.intensity[inside], sig[inside], ph.intensity[inside], peak)
        areas[i, p] = seen[key]
    solution.weight_fractions = weight_fractions(solution.amplitudes, areas, factors)
    return solution
