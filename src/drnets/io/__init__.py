"""Reading and writing libraries, phases and solutions; one module per format.

Use :func:`load` to read any supported input and :func:`save` to write the native file;
:func:`format_of` is the one rule that tells a path's format for both.
:func:`write_solution_dir` and :func:`read_solution_dir` write and read the solver's output folder;
:func:`check_output` is the one rule for where a command may write.
"""

from ._atomic import atomic_path, atomic_text
from ._cif import read_cif_folder
from ._drnets import read_drnets, write_drnets
from ._formats import format_of
from ._hdf5 import read_hdf5, write_hdf5
from ._instance import read_instance, write_instance
from ._load import load, read_phases
from ._out_path import check_output, removed_on_error
from ._phase_table import PhaseTable, read_fractions_csv, read_phase_table, read_shifts_csv, write_phase_table
from ._save import save, sticks_beside
from ._solution_dir import (
    SolutionDir,
    is_solution_dir,
    read_solution_dir,
    read_summary,
    solution_inputs,
    write_solution_dir,
)
from ._sticks_csv import read_sticks_csv, write_sticks_csv
from ._xy import read_xy_folder, write_xy_folder

__all__ = [
    "PhaseTable",
    "SolutionDir",
    "atomic_path",
    "atomic_text",
    "check_output",
    "format_of",
    "is_solution_dir",
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
    "removed_on_error",
    "save",
    "solution_inputs",
    "sticks_beside",
    "write_drnets",
    "write_hdf5",
    "write_instance",
    "write_phase_table",
    "write_solution_dir",
    "write_sticks_csv",
    "write_xy_folder",
]
