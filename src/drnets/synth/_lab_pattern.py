"""Single lab patterns in 2θ with known weight fractions: Kα doublet, texture, per-phase widths, noise.

The pattern is the Rietveld model written out: phase ``i`` of weight fraction ``W_i`` has
the scale ``S_i = W_i / (Z M V)_i`` and contributes ``S_i`` times its absolute reflection
intensities (its sticks times ``I_max``), each line a peak of that 2θ area
(:func:`~drnets.core._lab_forward.render_lab_phase`), with its own lattice shift, width factor
and March-Dollase texture, and the pattern's zero offset and sample displacement. This is
the forward direction of Hill-Howard, independent of the solver's conversion from fitted
peak heights back to weight fractions (:mod:`drnets.core._weights`), so the two check each other.

Noise is Poisson with the strongest peak (background excluded) at ``snr²`` counts: its
signal-to-noise ratio is ``snr``, the convention of the library generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core import InputError, Phase
from ..core._lab_forward import render_lab_phase
from ..core._radiation import Radiation
from ..core._texture import MARCH_BOUNDS, TEXTURE_AXES, family_texture
from ..core._weights import cell_volume


@dataclass(frozen=True)
class LabPattern:
    """A generated lab pattern and its truth.

    Attributes
    ----------
    two_theta, q, y : ndarray (L,)
        The 2θ grid (degrees), its Q (nm⁻¹, first wavelength) and the counts.
    labels : list of str
        The phases in the mixture.
    weight_fractions : ndarray (k,)
        The true weight fractions.
    shifts, width_factors, march : ndarray (k,)
        Each phase's lattice shift, width factor and March-Dollase parameter.
    axes : list of tuple
        Each phase's texture axis.
    zero, displacement : float
        Degrees 2θ.
    """

    two_theta: np.ndarray
    q: np.ndarray
    y: np.ndarray
    labels: list[str]
    weight_fractions: np.ndarray
    shifts: np.ndarray
    width_factors: np.ndarray
    march: np.ndarray
    axes: list[tuple[int, int, int]]
    zero: float
    displacement: float


def make_lab_pattern(
    phases: Sequence[Phase],
    weight_fractions: Sequence[float],
    radiation: Radiation,
    rng: np.random.Generator,
    *,
    two_theta: tuple[float, float, float] = (10.0, 100.0, 0.02),
    snr: float = 30.0,
    sigma: tuple[float, float] = (0.03, 0.06),
    eta: float = 0.5,
    width_spread: float = 3.0,
    max_shift: float = 0.005,
    texture: float = 0.3,
    zero: float = 0.05,
    displacement: float = 0.08,
    background: float = 0.3,
) -> LabPattern:
    """Draw one textured mixture of known weight fractions (see the module doc).

    Parameters
    ----------
    phases : sequence of Phase
        Phases with a structure's cell, cell mass and intensity scale (from CIFs).
    weight_fractions : sequence of float
        Their weight fractions (normalised here).
    radiation : Radiation
        The lines drawn (Kα1 and Kα2 for an anode).
    rng : numpy Generator
    two_theta : (start, stop, step)
        The 2θ grid in degrees.
    snr : float
        Signal-to-noise ratio of the strongest peak (Poisson counts; 0 for no noise).
    sigma : (float, float)
        The instrument's Gaussian sigma (nm⁻¹) at the low and high ends of the grid.
    eta : float
        Lorentzian share of the peaks.
    width_spread : float
        Per-phase width factors are drawn log-uniformly in [1, width_spread].
    max_shift : float
        Lattice shifts drawn uniformly in ±max_shift.
    texture : float
        Largest |log r| of the March-Dollase parameters (axes drawn from the candidates).
    zero, displacement : float
        Largest zero offset and sample displacement (degrees 2θ), drawn uniformly.
    background : float
        Background level relative to the strongest peak (a decay plus a constant).
    """
    phases = list(phases)
    w = np.asarray(weight_fractions, dtype=float)
    if w.shape != (len(phases),) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("weight fractions must be non-negative, one per phase, not all zero")
    w = w / w.sum()
    for p in phases:
        if p.cell is None or p.cell_mass is None or p.intensity_scale is None:
            raise InputError(f"phase {p.label!r} has no structure (cell, cell mass, intensity scale)")
    tt = np.arange(two_theta[0], two_theta[1] + 0.5 * two_theta[2], two_theta[2])
    q = radiation.q(tt)
    k = len(phases)
    shifts = 1.0 + rng.uniform(-max_shift, max_shift, k)
    widths = np.exp(rng.uniform(0.0, np.log(max(width_spread, 1.0)), k))
    march = np.exp(rng.uniform(-texture, texture, k)) if texture > 0 else np.ones(k)
    march = np.clip(march, *MARCH_BOUNDS)
    axes = [TEXTURE_AXES[int(rng.integers(len(TEXTURE_AXES)))] for _ in range(k)]
    z0 = float(rng.uniform(-zero, zero)) if zero > 0 else 0.0
    d0 = float(rng.uniform(-displacement, displacement)) if displacement > 0 else 0.0
    clean = np.zeros(q.size)
    for i, p in enumerate(phases):
        tex = family_texture(p.hkl, p.cell, axes[i], float(march[i])) if p.hkl is not None else None  # type: ignore[arg-type]
        scale = w[i] / (p.cell_mass * cell_volume(p.cell))  # type: ignore[arg-type,operator]
        clean += (scale * p.intensity_scale) * render_lab_phase(  # type: ignore[operator]
            p.q,
            p.intensity,
            q,
            radiation,
            eta=eta,
            shift=float(shifts[i]),
            zero=z0,
            displacement=d0,
            widths=sigma,
            width_factor=float(widths[i]),
            texture=tex,
        )
    unit = float(snr) ** 2 if snr else 1.0
    clean *= unit / max(float(clean.max()), 1e-300)
    u = (q - q[0]) / (q[-1] - q[0])
    clean += unit * background * (0.6 * np.exp(-u / 0.3) + 0.4)
    y = rng.poisson(clean).astype(float) if snr else clean
    return LabPattern(tt, q, y, [p.label for p in phases], w, shifts, widths, march, axes, z0, d0)
