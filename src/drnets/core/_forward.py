"""The forward model: a phase's diffraction profile from its sticks, shift and peak width.

The synthetic generator, the solver and the report all draw patterns with this one
statement of the physics:

* **Width.** A peak's Gaussian sigma is linear in Q between its values at the two ends of
  the grid, taken at the peak's centre (:func:`sigma_at`).
* **Shape.** A Gaussian of the standardised offset ``z = (q - centre) / sigma``, or a
  pseudo-Voigt that mixes in a Lorentzian of the same FWHM (:func:`peak_shape`).
* **Sticks.** Reflection k sits at ``q_k * shift`` with height ``intensity_k * texture_k``.
* **Scale.** A phase's profile is divided by its maximum on the grid (:func:`max_normalized`),
  so a phase's amplitude is its peak height in the pattern and its fraction is its
  amplitude's share (the peak-height convention of the Al-Li-Fe truth).

:func:`render_peaks` draws every peak on the whole grid (the synthetic truth);
:func:`render_profile` draws each Gaussian only within :data:`WINDOW_SIGMAS` sigmas of its
centre (the solver's model: its PyTorch decoder uses the same windows and :func:`gaussian`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._phases import Phase, PhaseLibrary
from ._solution import Solution

#: Peaks are evaluated within this many sigmas of their centre (windowed rendering).
WINDOW_SIGMAS = 5.0
#: A pseudo-Voigt's Lorentzian tail is drawn out to where it falls below this share of the peak.
LORENTZ_TAIL = 0.005
#: FWHM of a Gaussian in units of its sigma.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Smallest sigma (nm⁻¹) a peak is drawn with in float64; keeps a zero width from dividing by 0.
MIN_SIGMA = 1e-6
#: Largest number of float64 cells one dense rendering block may hold.
_BLOCK_CELLS = 4_000_000


def sigma_at(q: Any, widths: Any, q_lo: float, q_hi: float) -> np.ndarray:
    """Gaussian sigma at ``q``, linear between ``widths[0]`` at ``q_lo`` and ``widths[1]`` at ``q_hi``.

    Parameters
    ----------
    q : array-like
        Where to evaluate (peak centres, nm⁻¹).
    widths : array-like of shape (2, ...)
        Sigma at ``q_lo`` and at ``q_hi``; ``widths[0]`` and ``widths[1]`` broadcast
        against ``q`` (e.g. shape (2, B, 1) for one width row per row of ``q``).
    q_lo, q_hi : float
        The ends of the grid.

    Returns
    -------
    ndarray
        ``q``'s shape (broadcast with the widths).
    """
    t = (np.asarray(q, dtype=float) - q_lo) / max(q_hi - q_lo, 1e-12)
    return widths[0] + (widths[1] - widths[0]) * t


def _exp(x: Any) -> Any:
    # PyTorch tensors carry their own exp (device, autograd); everything else goes through NumPy.
    return x.exp() if hasattr(x, "exp") else np.exp(x)


def gaussian(z: Any) -> Any:
    """Unit-height Gaussian of the standardised offset ``z = (q - centre) / sigma``.

    Works on NumPy arrays and on PyTorch tensors (the solver's decoder).
    """
    return _exp(-0.5 * z * z)


def peak_shape(z: Any, eta: float = 0.0) -> Any:
    """Unit-height pseudo-Voigt ``(1 - eta) * Gaussian + eta * Lorentzian`` of equal FWHM.

    Parameters
    ----------
    z : ndarray or tensor
        Standardised offset ``(q - centre) / sigma`` (sigma of the Gaussian).
    eta : float
        Lorentzian share; 0 gives exactly :func:`gaussian`.
    """
    shape = gaussian(z)
    if eta > 0:
        hw = 0.5 * FWHM_PER_SIGMA  # the half width at half maximum, in sigmas
        shape = (1.0 - eta) * shape + eta / (1.0 + (z / hw) ** 2)
    return shape


def window_sigmas(eta: float = 0.0) -> float:
    """Half width of a peak's window in Gaussian sigmas: :data:`WINDOW_SIGMAS` for a Gaussian,
    wider for a pseudo-Voigt, out to where its Lorentzian part falls to :data:`LORENTZ_TAIL`."""
    if eta <= 0:
        return WINDOW_SIGMAS
    hw = 0.5 * FWHM_PER_SIGMA
    return max(WINDOW_SIGMAS, hw * math.sqrt(eta / LORENTZ_TAIL))


def max_normalized(profiles: np.ndarray) -> np.ndarray:
    """Each profile (along the last axis) divided by its maximum; profiles without a positive maximum become 0."""
    m = profiles.max(axis=-1, keepdims=True)
    return np.divide(profiles, m, out=np.zeros_like(profiles), where=m > 0)


def render_peaks(
    q: np.ndarray,
    centres: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray | tuple[float, float],
    eta: float = 0.0,
    *,
    normalize: bool = True,
) -> np.ndarray:
    """Pseudo-Voigt profiles of B patterns of K sticks each, every peak on the whole grid.

    Parameters
    ----------
    q : ndarray of shape (L,)
        The grid (nm⁻¹), ascending.
    centres, heights : ndarray of shape (B, K)
        Peak positions (nm⁻¹) and heights.
    widths : array-like of shape (2,)
        Gaussian sigma at the grid ends (linear in Q, evaluated at each centre).
    eta : float
        Lorentzian share; the Lorentzian has the Gaussian's FWHM.
    normalize : bool
        Divide each profile by its maximum on the grid.

    Returns
    -------
    ndarray of shape (B, L)
    """
    q = np.asarray(q, dtype=float)
    centres = np.atleast_2d(centres)
    heights = np.broadcast_to(np.atleast_2d(heights), centres.shape)
    b, k = centres.shape
    out = np.empty((b, q.size))
    sig = np.maximum(sigma_at(centres, np.asarray(widths, dtype=float), q[0], q[-1]), MIN_SIGMA)
    step = max(1, _BLOCK_CELLS // max(k * q.size, 1))
    for lo in range(0, b, step):
        hi = min(b, lo + step)
        z = (q[None, None, :] - centres[lo:hi, :, None]) / sig[lo:hi, :, None]  # (b, K, L)
        out[lo:hi] = np.einsum("bk,bkl->bl", heights[lo:hi], peak_shape(z, eta))
    return max_normalized(out) if normalize else out


def render_profile(
    phase: Phase,
    q: np.ndarray,
    *,
    shift: float = 1.0,
    widths: np.ndarray | tuple[float, float] = (0.25, 0.25),
    texture: np.ndarray | None = None,
    normalize: bool = True,
    eta: float = 0.0,
) -> np.ndarray:
    """Draw one phase on the grid ``q``: peaks within :func:`window_sigmas` sigmas of their centres.

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
    eta : float
        Lorentzian share of the pseudo-Voigt peaks (0: Gaussian).

    Returns
    -------
    ndarray of shape (L,)
    """
    q = np.asarray(q, dtype=float)
    widths = np.asarray(widths, dtype=float)
    centres = phase.q * shift
    heights = phase.intensity * (1.0 if texture is None else np.asarray(texture, dtype=float))
    sig = np.maximum(sigma_at(centres, widths, q[0], q[-1]), MIN_SIGMA)
    out = np.zeros_like(q)
    half = window_sigmas(eta)
    lo = np.searchsorted(q, centres - half * sig)
    hi = np.searchsorted(q, centres + half * sig)
    for c, h, s, a, b in zip(centres, heights, sig, lo, hi):
        if b > a and h > 0:
            out[a:b] += h * peak_shape((q[a:b] - c) / s, eta)
    return max_normalized(out) if normalize else out


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
            phases[int(p)],
            q,
            shift=1.0 if not np.isfinite(s) else float(s),
            widths=solution.widths[p] * ws,
            eta=solution.eta,
        )
    return out


def render_solution(solution: Solution, phases: PhaseLibrary, q: np.ndarray) -> np.ndarray:
    """The full reconstruction (N, L) of a solution."""
    return np.stack([render_contributions(solution, phases, q, i).sum(axis=0) for i in range(solution.n_points)])
