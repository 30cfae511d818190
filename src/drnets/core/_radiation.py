"""The radiation of a measured pattern: its wavelength lines, 2θ ↔ Q, and a lab instrument's peak shifts.

A lab tube emits the Kα1/Kα2 doublet: every reflection appears twice, the second line at the
Kα2 wavelength with about half the intensity. On a Q axis computed with the Kα1 wavelength
(how a 2θ pattern is converted), a reflection at true ``Q`` seen with Kα2 lands at
``Q * λ2 / λ1`` (``sin θ2 = λ2 / (2d)``, read back with ``λ1``): the doublet is a fixed
multiplicative offset in Q. Monochromatic or synchrotron data have one line.

A lab diffractometer also moves peaks in 2θ, not in Q: a zero offset (constant in 2θ) and
a sample displacement (``-2 s cos θ / R``, proportional to ``cos θ``); :func:`instrument_shift`
applies both to positions given in Q.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import InputError
from ._wavelength import parse_wavelength

#: Q (nm⁻¹) = Q_FACTOR * sin θ / λ (Å): 4π, times 10 for Å⁻¹ → nm⁻¹.
Q_FACTOR = 40.0 * np.pi


@dataclass(frozen=True)
class Radiation:
    """The wavelength lines of a pattern.

    Parameters
    ----------
    wavelength : float
        The (first) wavelength in Å: the one that converts 2θ to Q.
    wavelength2 : float or None
        The Kα2 wavelength in Å; None for a single line.
    ratio : float
        Intensity of the second line relative to the first.
    name : str
        How the user named it (an anode symbol, or the number).
    """

    wavelength: float
    wavelength2: float | None = None
    ratio: float = 0.5
    name: str = ""

    def __post_init__(self) -> None:
        for what, v in (("wavelength", self.wavelength), ("Kα2 wavelength", self.wavelength2)):
            if v is not None and not (np.isfinite(v) and 0 < v < 100):
                raise InputError(f"{what} must be a positive number of Å, got {v!r}", where="wavelength")
        if not (np.isfinite(self.ratio) and 0 <= self.ratio <= 1):
            raise InputError(f"Kα2/Kα1 ratio must lie in [0, 1], got {self.ratio!r}", where="wavelength")

    @classmethod
    def parse(cls, value: str | float) -> Radiation:
        """An anode symbol (``Cu``, ``Co``, ``Mo``, ``Cr``, ``Fe``, ``Ag``: its Kα doublet) or a number in Å.

        Read by :func:`~drnets.core._wavelength.parse_wavelength` (the anode table's one home).
        """
        return cls.from_wavelength(parse_wavelength(value))

    @classmethod
    def from_wavelength(cls, w: Any) -> Radiation:
        """From any object with ``kalpha1``, ``kalpha2`` and ``ratio`` attributes (e.g. a reader's
        statement of the wavelength): the bridge to the readers' anode table."""
        k2 = getattr(w, "kalpha2", None)
        ratio = float(getattr(w, "ratio", 0.5) or 0.0) if k2 is not None else 0.5
        name = str(getattr(w, "anode", None) or w.kalpha1)
        return cls(float(w.kalpha1), None if k2 is None else float(k2), ratio, name)

    @property
    def q_lines(self) -> list[tuple[float, float]]:
        """(Q factor relative to the first line, intensity) of each line."""
        out = [(1.0, 1.0)]
        if self.wavelength2 is not None and self.ratio > 0:
            out.append((self.wavelength2 / self.wavelength, self.ratio))
        return out

    def two_theta(self, q: np.ndarray) -> np.ndarray:
        """2θ in degrees of Q (nm⁻¹) with the first wavelength; NaN beyond the sphere (sin θ > 1)."""
        s = np.asarray(q, dtype=float) * self.wavelength / Q_FACTOR
        with np.errstate(invalid="ignore"):
            return np.rad2deg(2.0 * np.arcsin(np.where(np.abs(s) <= 1, s, np.nan)))

    def q(self, two_theta: np.ndarray) -> np.ndarray:
        """Q (nm⁻¹) of 2θ in degrees, with the first wavelength."""
        return Q_FACTOR * np.sin(np.deg2rad(np.asarray(two_theta, dtype=float)) / 2.0) / self.wavelength

    def dq_d2theta(self, q: np.ndarray) -> np.ndarray:
        """dQ / d(2θ) in nm⁻¹ per degree at Q: how a 2θ-integrated intensity becomes a Q one."""
        theta = np.deg2rad(self.two_theta(q)) / 2.0
        return Q_FACTOR / self.wavelength * 0.5 * np.cos(theta) * np.pi / 180.0


def instrument_shift(radiation: Radiation, q: np.ndarray, zero: float, displacement: float) -> np.ndarray:
    """Positions Q (nm⁻¹) moved by a zero offset and a sample displacement, both in degrees 2θ.

    ``Δ2θ = zero + displacement * cos θ``: the zero offset is the same at every angle, the
    displacement's shift falls off as ``cos θ`` (it is ``-2 s cos θ / R`` for a sample ``s``
    off the focusing circle of radius ``R``). Positions beyond the sphere come back NaN.
    """
    if zero == 0 and displacement == 0:
        return np.asarray(q, dtype=float)
    tt = radiation.two_theta(q)
    tt = tt + zero + displacement * np.cos(np.deg2rad(tt) / 2.0)
    return radiation.q(np.where((tt > 0) & (tt < 180), tt, np.nan))
