"""The solver: phases, fractions and shifts at every point, with the physics built in.

The forward model it fits (peak widths, shapes, rendering) is :mod:`drnets.core`'s.
"""

from ._calibration import Calibration, calibrated_probabilities, default_calibration
from ._lab import PatternFit, solve_pattern, solve_samples
from ._mapper import PhaseMapper
from ._params import Params, parameter_table
from ._posterior import SetCosts
from ._prepare import estimate_sigma, estimate_widths, pick_device
from ._unexplained import rank_structures, rank_unknown_phases

__all__ = [
    "Calibration",
    "Params",
    "PatternFit",
    "PhaseMapper",
    "SetCosts",
    "calibrated_probabilities",
    "default_calibration",
    "estimate_sigma",
    "estimate_widths",
    "parameter_table",
    "pick_device",
    "solve_pattern",
    "solve_samples",
    "rank_structures",
    "rank_unknown_phases",
]
