"""The solver: phases, fractions and shifts at every point, with the physics built in."""

from ._render import WINDOW_SIGMAS, render_contributions, render_profile, render_solution, sigma_at

__all__ = ["WINDOW_SIGMAS", "render_contributions", "render_profile", "render_solution", "sigma_at"]

from ._solver import PhaseMapper, estimate_sigma, estimate_widths, pick_device

__all__ += ["PhaseMapper", "estimate_sigma", "estimate_widths", "pick_device"]
