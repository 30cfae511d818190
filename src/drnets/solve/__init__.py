"""The solver: phases, fractions and shifts at every point, with the physics built in."""

# The forward model lives in drnets.core; these names stay here for existing callers.
from ..core import WINDOW_SIGMAS, render_contributions, render_profile, render_solution, sigma_at

__all__ = ["WINDOW_SIGMAS", "render_contributions", "render_profile", "render_solution", "sigma_at"]

from ._mapper import PhaseMapper
from ._params import Params, parameter_table
from ._prepare import estimate_sigma, estimate_widths, pick_device

__all__ += ["Params", "PhaseMapper", "estimate_sigma", "estimate_widths", "parameter_table", "pick_device"]

from ._output import write_solution_dir

__all__ += ["write_solution_dir"]
