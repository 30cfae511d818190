"""Weight fractions from fitted phase amplitudes: Hill-Howard for structures, RIR for stick tables.

A phase's fitted amplitude ``a`` is the peak height of its max-normalised profile (the
convention of ``fractions.csv``), not a Rietveld scale factor. The conversion, derived in
``docs/weight_fractions.md``:

* The profile was drawn from relative sticks ``r_k`` (strongest 1) as peaks of height
  ``h_k`` and Gaussian sigma ``σ_k`` (nm⁻¹), then divided by its maximum ``c``. Matching the
  phase's total 2θ-integrated intensity gives the integrated intensity of a stick of
  relative intensity 1 in the pattern:
  ``g = sqrt(2π) * Σ_k h_k σ_k / J_k / (c * Σ_k r_k)``, with ``J_k = dQ/d2θ`` at the
  peak (1 without a wavelength) — :func:`unit_stick_area`. For the lab model, whose heights are
  ``r_k J_k / σ_k``, this is exactly ``sqrt(2π) / c``.
* **Structures (CIF).** Rietveld's scale ``S`` multiplies absolute intensities
  ``I_k = r_k * I_max``: ``S = a g / I_max``, and Hill-Howard's ``W ∝ S Z M V`` gives
  ``W ∝ a g Z M V / I_max`` (``Z M`` the cell mass, ``V`` the cell volume).
* **Stick tables with a reference intensity ratio.** ``W ∝ a g / RIR``: the strongest
  line's integrated intensity over its intensity per unit mass relative to corundum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._phases import Phase


def cell_volume(cell: Sequence[float]) -> float:
    """Volume (Å³) of a cell ``(a, b, c, alpha, beta, gamma)`` (lengths in Å, angles in degrees)."""
    a, b, c = (float(v) for v in cell[:3])
    ca, cb, cg = np.cos(np.deg2rad(np.asarray(cell[3:6], dtype=float)))
    return float(a * b * c * np.sqrt(max(1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg, 0.0)))


def mass_per_intensity(phase: Phase) -> float | None:
    """Weight per unit integrated intensity of the phase's strongest stick, up to one constant for all phases.

    ``Z M V / I_max`` from a structure (Hill-Howard); ``1 / RIR`` from a stick table's
    ``rir``; None when the phase carries neither.
    """
    if phase.cell_mass is not None and phase.intensity_scale is not None and phase.cell is not None:
        return phase.cell_mass * cell_volume(phase.cell) / phase.intensity_scale
    return None


def mass_factors(phases: Sequence[Phase]) -> tuple[np.ndarray | None, str]:
    """Per-phase weight per unit stick intensity (P,), or None and the reason there are no weight fractions.

    All phases must carry the same kind of information: structures (Hill-Howard) or RIR
    values; the two scales cannot be mixed in one answer.
    """
    hh = [mass_per_intensity(p) for p in phases]
    if all(v is not None for v in hh):
        return np.array(hh, dtype=float), "Hill-Howard (W ∝ S·Z·M·V) from the phases' structures"
    if all(p.rir is not None for p in phases):
        return np.array([1.0 / float(p.rir) for p in phases]), "reference intensity ratios (W ∝ I / RIR)"  # type: ignore[arg-type]
    missing = [p.label for p, v in zip(phases, hh) if v is None and p.rir is None]
    if missing:
        return None, (
            f"no weight fractions: phase {missing[0]!r}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            + " has neither a structure (CIF) nor an 'rir' column"
        )
    return None, "no weight fractions: some phases come from structures and others from RIR values"


def unit_stick_area(
    heights: np.ndarray,
    sigmas: np.ndarray,
    relative: np.ndarray,
    profile_max: float,
    dq_d2theta: np.ndarray | None = None,
) -> float:
    """Integrated intensity, per unit amplitude, of a stick of relative intensity 1 (``g`` of the module doc).

    Parameters
    ----------
    heights, sigmas : ndarray (R,)
        The drawn peaks' heights and Gaussian sigmas (nm⁻¹), before max-normalisation.
    relative : ndarray (R,)
        The relative intensities (texture and line ratios included) those peaks stand for.
    profile_max : float
        The maximum of the drawn profile (what max-normalisation divided by).
    dq_d2theta : ndarray (R,), optional
        dQ/d2θ at each peak; without it intensities are taken as Q-integrated.
    """
    jac = np.ones_like(np.asarray(sigmas, dtype=float)) if dq_d2theta is None else np.asarray(dq_d2theta, dtype=float)
    total = float(np.sum(relative))
    if total <= 0 or profile_max <= 0:
        return 0.0
    return float(np.sqrt(2.0 * np.pi) * np.sum(np.asarray(heights) * np.asarray(sigmas) / jac) / (profile_max * total))


def weight_fractions(amplitudes: np.ndarray, areas: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Weight fractions (N, P): ``a g f`` normalised per row (0 where no phase is present).

    ``amplitudes`` (N, P) are the fitted heights of max-normalised profiles, ``areas`` (N, P)
    their :func:`unit_stick_area` and ``factors`` (P,) the :func:`mass_factors`.
    """
    mass = np.asarray(amplitudes, dtype=float) * np.asarray(areas, dtype=float) * np.asarray(factors, dtype=float)
    mass = np.where(np.isfinite(mass) & (mass > 0), mass, 0.0)
    tot = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, tot, out=np.zeros_like(mass), where=tot > 0)
