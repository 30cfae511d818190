"""Reading and writing libraries, phases and solutions; one module per format.

Use :func:`load` to read any supported input and :func:`save` to write the native file;
:func:`format_of` is the one rule that tells a path's format for both.
:func:`write_solution_dir` and :func:`read_solution_dir` write and read the solver's output folder.
"""

from ._atomic import atomic_path, atomic_text
from ._cif import read_cif_folder
from ._drnets import read_drnets, write_drnets
from ._formats import format_of
from ._hdf5 import read_hdf5, write_hdf5
from ._instance import read_instance, write_instance
from ._load import load, read_phases
from ._phase_table import PhaseTable, read_fractions_csv, read_phase_table, read_shifts_csv, write_phase_table
from ._save import save
from ._solution_dir import SolutionDir, read_solution_dir, read_summary, write_solution_dir
from ._sticks_csv import read_sticks_csv, write_sticks_csv
from ._xy import read_xy_folder, write_xy_folder

__all__ = [
    "PhaseTable",
    "SolutionDir",
    "atomic_path",
    "atomic_text",
    "format_of",
    "load",
    "read_cif_folder",
    "read_drnets",
    "read_fractions_csv",
    "read_hdf5",
    "read_instance",
    "read_phase_table",
    "read_phases",
    "read_shifts_csv",
    "read_solution_dir",
    "read_sticks_csv",
    "read_summary",
    "read_xy_folder",
    "save",
    "write_drnets",
    "write_hdf5",
    "write_instance",
    "write_phase_table",
    "write_solution_dir",
    "write_sticks_csv",
    "write_xy_folder",
]
