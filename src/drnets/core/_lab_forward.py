"""The forward model of a measured lab pattern: one phase drawn with the physics of a diffractometer.

The generator of lab patterns (:mod:`drnets.synth`) and the solver's refinement
(:mod:`drnets.solve`) both draw with :func:`render_lab_phase`; on top of the library
model of :mod:`._forward` it adds:

* **Lines.** Each reflection once per wavelength line of the :class:`Radiation` (Kα1 and
  Kα2 at ``Q * λ2 / λ1`` with the Kα2/Kα1 ratio; one line for monochromatic data).
* **Positions.** The phase's lattice shift (a multiplicative Q scale), then the pattern's
  zero offset and sample displacement in 2θ (:func:`instrument_shift`).
* **Widths.** The instrument's sigma (linear in Q between the grid ends) times a per-phase
  factor (crystallite size and strain differ between phases).
* **Heights.** Stick intensities are 2θ-integrated intensities (structure factor,
  multiplicity, Lorentz-polarisation): a peak's height on the Q grid is
  ``intensity * texture * line ratio * dQ/d2θ / sigma``, so its area in 2θ is its intensity
  whatever its width.
* **Shape.** Pseudo-Voigt of mixing ``eta`` (:func:`peak_shape`).
* **Texture.** A March-Dollase factor per reflection (:mod:`._texture`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._forward import MIN_SIGMA, peak_shape, sigma_at
from ._radiation import Q_FACTOR, Radiation, instrument_shift

#: Peaks are drawn within this many Gaussian sigmas of their centre (wider than the library
#: model's: a pseudo-Voigt's Lorentzian tail still holds 1 % of its height at 12 sigmas).
LAB_WINDOW_SIGMAS = 12.0


@dataclass(frozen=True)
class LabPeaks:
    """The peaks of one phase on a grid, before they are drawn.

    Attributes
    ----------
    centres, heights, sigmas : ndarray (R,)
        Positions (nm⁻¹), heights and Gaussian sigmas (nm⁻¹) of every line of every reflection.
    """

    centres: np.ndarray
    heights: np.ndarray
    sigmas: np.ndarray


def lab_peaks(
    q_sticks: np.ndarray,
    intensity: np.ndarray,
    q_grid: np.ndarray,
    radiation: Radiation,
    *,
    shift: float = 1.0,
    zero: float = 0.0,
    displacement: float = 0.0,
    widths: tuple[float, float] | np.ndarray = (0.05, 0.05),
    width_factor: float = 1.0,
    texture: np.ndarray | None = None,
) -> LabPeaks:
    """Every line of every reflection of one phase, placed, sized and weighted (see the module doc).

    ``intensity`` holds 2θ-integrated intensities (the sticks); ``widths`` the instrument's
    Gaussian sigma (nm⁻¹) at the two ends of ``q_grid``; ``zero`` and ``displacement`` are in
    degrees 2θ. Lines that leave the sphere or fall far outside the grid are dropped.
    """
    q_grid = np.asarray(q_grid, dtype=float)
    base = np.asarray(q_sticks, dtype=float) * shift
    weight = np.asarray(intensity, dtype=float) * (1.0 if texture is None else np.asarray(texture, dtype=float))
    cen, hgt = [], []
    for factor, ratio in radiation.q_lines:
        c = instrument_shift(radiation, base * factor, zero, displacement)
        cen.append(c)
        hgt.append(weight * ratio)
    centres, heights = np.concatenate(cen), np.concatenate(hgt)
    sig = np.maximum(
        sigma_at(centres, np.asarray(widths, dtype=float), q_grid[0], q_grid[-1]) * width_factor, MIN_SIGMA
    )
    reach = LAB_WINDOW_SIGMAS * sig
    on_sphere = np.isfinite(centres) & (
        centres < Q_FACTOR / radiation.wavelength
    )  # a shift can push a line past 2θ = 180°
    keep = on_sphere & (centres + reach >= q_grid[0]) & (centres - reach <= q_grid[-1]) & (heights > 0)
    centres, heights, sig = centres[keep], heights[keep], sig[keep]
    heights = heights * radiation.dq_d2theta(centres) / sig
    return LabPeaks(centres, heights, sig)


def draw_peaks(q_grid: np.ndarray, peaks: LabPeaks, eta: float = 0.0) -> np.ndarray:
    """The sum (L,) of the peaks on the grid, each within :data:`LAB_WINDOW_SIGMAS` sigmas of its centre."""
    q_grid = np.asarray(q_grid, dtype=float)
    if peaks.centres.size == 0:
        return np.zeros(q_grid.size)
    lo = np.searchsorted(q_grid, peaks.centres - LAB_WINDOW_SIGMAS * peaks.sigmas)
    hi = np.minimum(np.searchsorted(q_grid, peaks.centres + LAB_WINDOW_SIGMAS * peaks.sigmas), q_grid.size)
    length = hi - lo
    order = np.argsort(length, kind="stable")
    out = np.zeros(q_grid.size)
    # peaks of similar window length together: a block pads every peak to its longest window
    for part in np.array_split(order, max(1, order.size // 48)):
        width = int(length[part].max()) + 1
        idx = lo[part, None] + np.arange(width)[None, :]
        valid = idx < hi[part, None]
        idx = np.minimum(idx, q_grid.size - 1)
        z = (q_grid[idx] - peaks.centres[part, None]) / peaks.sigmas[part, None]
        vals = peaks.heights[part, None] * peak_shape(z, eta) * valid
        out += np.bincount(idx.ravel(), weights=vals.ravel(), minlength=q_grid.size)
    return out


def render_lab_phase(
    q_sticks: np.ndarray,
    intensity: np.ndarray,
    q_grid: np.ndarray,
    radiation: Radiation,
    *,
    eta: float = 0.0,
    **placement: float | np.ndarray | tuple[float, float] | None,
) -> np.ndarray:
    """One phase's profile (L,) on ``q_grid``, not normalised; ``placement`` as for :func:`lab_peaks`."""
    return draw_peaks(q_grid, lab_peaks(q_sticks, intensity, q_grid, radiation, **placement), eta)  # type: ignore[arg-type]
