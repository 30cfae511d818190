"""Reference renderer: a phase's profile from its sticks, shift and peak width (NumPy).

The solver's PyTorch decoder draws the same model; this module is the plain statement of
it, used to re-render solutions for reports and to check the decoder.

Model: each reflection k at ``q_k * shift`` is a Gaussian of standard deviation
``sigma(q) = widths[0] + (widths[1] - widths[0]) * (q - q_lo) / (q_hi - q_lo)`` (linear in
Q between the grid ends) and height ``intensity_k * texture_k``. The profile is divided by
its maximum on the grid, so a phase's amplitude is its peak height in the pattern and its
fraction is its amplitude's share (the peak-height convention of the Al-Li-Fe truth).
"""

from __future__ import annotations

import numpy as np

from ..core import Phase, PhaseLibrary, Solution

#: Peaks are evaluated within this many sigmas of their centre.
WINDOW_SIGMAS = 5.0


def sigma_at(q: np.ndarray, widths: np.ndarray, q_lo: float, q_hi: float) -> np.ndarray:
    """Peak sigma at ``q`` for a (2,) ``widths`` row (sigma at ``q_lo`` and at ``q_hi``)."""
    t = (np.asarray(q, dtype=float) - q_lo) / max(q_hi - q_lo, 1e-12)
    return widths[0] + (widths[1] - widths[0]) * t


def render_profile(
    phase: Phase,
    q: np.ndarray,
    *,
    shift: float = 1.0,
    widths: np.ndarray | tuple[float, float] = (0.25, 0.25),
    texture: np.ndarray | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Draw one phase on the grid ``q``.

    Parameters
    ----------
    phase : Phase
        The phase's sticks.
    q : ndarray of shape (L,)
        The grid (nm⁻¹), ascending.
    shift : float
        Multiplicative Q scale of the sticks.
    widths : array-like of shape (2,)
        Gaussian sigma (nm⁻¹) at the low and high ends of ``q``.
    texture : ndarray of shape (K,), optional
        Per-reflection intensity factors.
    normalize : bool
        Divide by the profile's maximum on the grid (0 stays 0).

    Returns
    -------
    ndarray of shape (L,)
    """
    q = np.asarray(q, dtype=float)
    widths = np.asarray(widths, dtype=float)
    centres = phase.q * shift
    heights = phase.intensity * (1.0 if texture is None else np.asarray(texture, dtype=float))
    sig = sigma_at(centres, widths, q[0], q[-1])
    sig = np.maximum(sig, 1e-6)
    out = np.zeros_like(q)
    lo = np.searchsorted(q, centres - WINDOW_SIGMAS * sig)
    hi = np.searchsorted(q, centres + WINDOW_SIGMAS * sig)
    for c, h, s, a, b in zip(centres, heights, sig, lo, hi):
        if b > a and h > 0:
            out[a:b] += h * np.exp(-0.5 * ((q[a:b] - c) / s) ** 2)
    if normalize:
        m = out.max()
        if m > 0:
            out /= m
    return out


def render_contributions(solution: Solution, phases: PhaseLibrary, q: np.ndarray, point: int) -> np.ndarray:
    """Each phase's contribution to one point's reconstruction.

    Returns
    -------
    ndarray of shape (P, L)
        ``amplitude * profile`` per phase; rows of absent phases are zero.
    """
    out = np.zeros((len(phases), np.asarray(q).size))
    for p in np.flatnonzero(solution.amplitudes[point] > 0):
        s = solution.shifts[point, p]
        ws = 1.0 if solution.width_scale is None else float(solution.width_scale[point, p])
        out[p] = solution.amplitudes[point, p] * render_profile(
            phases[int(p)], q, shift=1.0 if not np.isfinite(s) else float(s), widths=solution.widths[p] * ws
        )
    return out


def render_solution(solution: Solution, phases: PhaseLibrary, q: np.ndarray) -> np.ndarray:
    """The full reconstruction (N, L) of a solution."""
    return np.stack([render_contributions(solution, phases, q, i).sum(axis=0) for i in range(solution.n_points)])
