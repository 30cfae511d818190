"""The data model: libraries, phases, solutions, and the input error."""

from ._dataset import Dataset
from ._errors import InputError
from ._formula import cation_fractions, parse_formula
from ._library import Library
from ._phases import Phase, PhaseLibrary
from ._solution import Solution
from .constants import WEAK_EVIDENCE

__all__ = [
    "Dataset",
    "InputError",
    "Library",
    "Phase",
    "PhaseLibrary",
    "Solution",
    "WEAK_EVIDENCE",
    "cation_fractions",
    "parse_formula",
]
