"""The data model (libraries, phases, solutions, the input error) and the forward model of a pattern."""

from ._confidence import Alternatives, Unexplained
from ._dataset import Dataset
from ._errors import InputError
from ._formula import ELEMENTS, cation_fractions, check_elements, parse_formula, placeholder_elements
from ._forward import (
    FWHM_PER_SIGMA,
    WINDOW_SIGMAS,
    gaussian,
    max_normalized,
    peak_shape,
    render_contributions,
    render_peaks,
    render_profile,
    render_solution,
    sigma_at,
    window_sigmas,
)
from ._lab_forward import render_lab_phase
from ._library import Library
from ._phases import Phase, PhaseLibrary
from ._radiation import Radiation
from ._solution import Solution
from ._texture import family_texture, march_dollase, plane_cosines, reciprocal_rows
from ._wavelength import ANODES, Wavelength, anode_doublet, parse_wavelength
from ._weights import cell_volume, mass_factors, weight_fractions
from .constants import WEAK_EVIDENCE

__all__ = [
    "ANODES",
    "march_dollase",
    "plane_cosines",
    "reciprocal_rows",
    "Alternatives",
    "Dataset",
    "ELEMENTS",
    "FWHM_PER_SIGMA",
    "InputError",
    "Library",
    "Phase",
    "PhaseLibrary",
    "Radiation",
    "Solution",
    "Wavelength",
    "Unexplained",
    "WEAK_EVIDENCE",
    "WINDOW_SIGMAS",
    "window_sigmas",
    "anode_doublet",
    "cation_fractions",
    "cell_volume",
    "family_texture",
    "mass_factors",
    "render_lab_phase",
    "weight_fractions",
    "gaussian",
    "max_normalized",
    "parse_formula",
    "parse_wavelength",
    "peak_shape",
    "render_contributions",
    "render_peaks",
    "render_profile",
    "render_solution",
    "sigma_at",
    "check_elements",
    "placeholder_elements",
]
