"""The X-ray wavelength of a measurement: one line, or an anode's Kα1/Kα2 doublet.

The anode table is the one home of the characteristic wavelengths the package knows; a
pattern's 2θ axis is converted to Q with Kα1 (:attr:`Wavelength.kalpha1`), and the
doublet itself (the Kα2 line at ``ratio`` of Kα1's intensity) is the decoder's to render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._errors import InputError

#: Kα1 and Kα2 wavelengths in Å of the usual X-ray tube anodes (Bearden's values, as tabulated in
#: International Tables for Crystallography vol. C, table 4.2.2.1; later measurements differ by < 1e-4 Å).
ANODES: dict[str, tuple[float, float]] = {
    "Cr": (2.289700, 2.293606),
    "Fe": (1.936042, 1.939980),
    "Co": (1.788965, 1.792850),
    "Cu": (1.540562, 1.544390),
    "Mo": (0.709300, 0.713590),
    "Ag": (0.559407, 0.563798),
}

#: Intensity of Kα2 relative to Kα1 (two electrons in 2p3/2 for one in 2p1/2; measured 0.48-0.52).
KALPHA2_RATIO = 0.5

#: Wavelengths (Å) that X-rays or neutrons for diffraction have: beyond them a value is a slip
#: (a 2θ axis read with 1e20 Å puts every pattern near Q = 0).
WAVELENGTH_RANGE = (0.01, 100.0)


@dataclass(frozen=True)
class Wavelength:
    """The radiation a pattern was measured with.

    Parameters
    ----------
    kalpha1 : float
        The main line in Å (Kα1 for a tube, the only line for monochromatic or synchrotron
        radiation): 2θ is converted to Q with it.
    kalpha2 : float, optional
        The Kα2 line in Å, where the beam holds the doublet; None for a single line.
    ratio : float
        Intensity of ``kalpha2`` relative to ``kalpha1`` (0 for a single line).
    anode : str, optional
        The tube's anode element, where known.
    """

    kalpha1: float
    kalpha2: float | None = None
    ratio: float = 0.0
    anode: str | None = None

    def __post_init__(self) -> None:
        lo, hi = WAVELENGTH_RANGE
        for name, value in (("Kα1", self.kalpha1), ("Kα2", self.kalpha2)):
            if value is not None and not lo <= value <= hi:  # NaN fails too
                raise InputError(f"{name} wavelength {value:g} Å is not between {lo:g} and {hi:g} Å")
        if self.kalpha2 is None and self.ratio != 0:
            raise InputError("a Kα2/Kα1 ratio needs a Kα2 wavelength")
        if not (math.isfinite(self.ratio) and 0 <= self.ratio <= 1):
            raise InputError(f"Kα2/Kα1 intensity ratio {self.ratio:g} is not between 0 and 1")

    @property
    def is_doublet(self) -> bool:
        """Whether the beam holds a second (Kα2) line."""
        return self.kalpha2 is not None and self.ratio > 0

    @property
    def lines(self) -> tuple[tuple[float, float], ...]:
        """``((λ, relative intensity), ...)``: Kα1 at 1, then Kα2 at ``ratio`` where there is one."""
        if self.is_doublet:
            return ((self.kalpha1, 1.0), (float(self.kalpha2), self.ratio))  # type: ignore[arg-type]
        return ((self.kalpha1, 1.0),)

    @property
    def q_lines(self) -> tuple[tuple[float, float], ...]:
        """``((Q factor, relative intensity), ...)`` of the lines on a Q axis converted with Kα1.

        A reflection at Q (its true 4π sin θ / λ) shows at Q under Kα1 and, read with Kα1,
        at Q × Kα2/Kα1 under Kα2 (same d-spacing, longer wavelength, larger 2θ): a decoder
        renders each peak at these multiples of its position, at these intensities.
        """
        return tuple((lam / self.kalpha1, w) for lam, w in self.lines)

    def describe(self) -> str:
        """One line for messages and summaries, e.g. ``Cu Kα1 1.540593 Å + Kα2 1.544414 Å (0.5)``."""
        head = f"{self.anode} " if self.anode else ""
        if self.is_doublet:
            return f"{head}Kα1 {self.kalpha1:g} Å + Kα2 {self.kalpha2:g} Å ({self.ratio:g})"
        return f"{head}{self.kalpha1:g} Å" if not self.anode else f"{head}Kα1 {self.kalpha1:g} Å"

    def same_as(self, other: Wavelength, *, rel: float = 1e-3) -> bool:
        """Whether two statements of the wavelength agree on Kα1 (to ``rel``: tables differ by 1e-5, anodes by 10 %)."""
        return abs(self.kalpha1 - other.kalpha1) <= rel * self.kalpha1

    def to_dict(self) -> dict[str, float | str | None]:
        """JSON-ready fields (for files and summaries)."""
        return {"kalpha1": self.kalpha1, "kalpha2": self.kalpha2, "ratio": self.ratio, "anode": self.anode}


def anode_doublet(name: str) -> Wavelength:
    """The Kα1/Kα2 doublet of an anode named by its element symbol (any case).

    Raises
    ------
    InputError
        For a name that is no anode of :data:`ANODES`.
    """
    key = name.strip().capitalize()
    if key not in ANODES:
        raise InputError(f"unknown anode {name!r} (known: {', '.join(ANODES)})")
    k1, k2 = ANODES[key]
    return Wavelength(k1, k2, KALPHA2_RATIO, key)


def parse_wavelength(value: float | str | Wavelength, *, where: str | None = "wavelength") -> Wavelength:
    """A wavelength from what a user writes: a number in Å (one line) or an anode name (its doublet).

    Parameters
    ----------
    value : float, str or Wavelength
        ``1.5406``, ``"1.5406"``, ``"Cu"``, ``"co"``, ...; a :class:`Wavelength` is returned as it is.
    where : str, optional
        The option or key named in a message.

    Raises
    ------
    InputError
        For text that is neither a number nor an anode, or a number outside
        :data:`WAVELENGTH_RANGE`.
    """
    if isinstance(value, Wavelength):
        return value
    try:
        if isinstance(value, str):
            text = value.strip()
            try:
                number = float(text)
            except ValueError:
                if not text.isalpha():
                    raise InputError(
                        f"{value!r} is neither a wavelength in Å nor an anode ({', '.join(ANODES)})"
                    ) from None
                return anode_doublet(text)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            raise InputError(f"expected a wavelength in Å or an anode name, got {type(value).__name__}")
        lo, hi = WAVELENGTH_RANGE
        if not lo <= number <= hi:
            raise InputError(f"a diffraction wavelength lies between {lo:g} and {hi:g} Å, got {number:g}")
        return Wavelength(number)
    except InputError as err:
        raise InputError(err.problem, where=where) from None
