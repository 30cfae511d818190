"""Reports of solutions: an offline HTML page (plotly, inlined) and PNG figures (matplotlib)."""

from ._layout import library_path, phase_colors, plane_coordinates
from ._report import build_report, make_report

__all__ = ["build_report", "library_path", "make_report", "phase_colors", "plane_coordinates"]
