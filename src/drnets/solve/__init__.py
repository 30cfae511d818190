"""The solver: phases, fractions and shifts at every point, with the physics built in.

The forward model it fits (peak widths, shapes, rendering) is :mod:`drnets.core`'s.
"""

from ._lab import PatternFit, solve_pattern, solve_samples
from ._mapper import PhaseMapper
from ._params import Params, parameter_table
from ._prepare import estimate_sigma, estimate_widths, pick_device

__all__ = [
    "Params",
    "PatternFit",
    "PhaseMapper",
    "estimate_sigma",
    "estimate_widths",
    "parameter_table",
    "pick_device",
    "solve_pattern",
    "solve_samples",
]
