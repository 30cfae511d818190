"""Synthetic combinatorial XRD libraries with exact ground truth.

:func:`generate` builds a library from a phase diagram at fixed temperature (tie-simplices,
lever rule, Vegard's law) and a measurement model (pseudo-Voigt peaks, texture, background,
substrate, impurity, noise); :func:`write_synthetic` writes it with its truth. The
difficulties are in :data:`PRESETS`; ``system="random"`` draws a whole chemical system
(elements, phases from structure prototypes, look-alikes) and its conditions from the seed.
:func:`make_lab_pattern` draws one lab 2θ pattern of known weight fractions (Kα doublet,
texture, per-phase widths, zero offset and displacement).
"""

from ._generate import Truth, builtin_phase, generate, write_synthetic
from ._lab_pattern import LabPattern, make_lab_pattern
from ._presets import PRESETS, Preset

__all__ = [
    "LabPattern",
    "PRESETS",
    "Preset",
    "Truth",
    "builtin_phase",
    "generate",
    "make_lab_pattern",
    "write_synthetic",
]
