"""The solver: phases, fractions and shifts at every point, with the physics built in."""

from ._render import WINDOW_SIGMAS, render_contributions, render_profile, render_solution, sigma_at

__all__ = ["WINDOW_SIGMAS", "render_contributions", "render_profile", "render_solution", "sigma_at"]
