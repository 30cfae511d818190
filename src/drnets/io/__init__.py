"""Reading and writing libraries, phases and solutions; one module per format.

Use :func:`load` to read any supported input and :func:`save` to write the native file.
"""

from ._atomic import atomic_path, atomic_text
from ._cif import read_cif_folder
from ._drnets import read_drnets, write_drnets
from ._hdf5 import read_hdf5, write_hdf5
from ._instance import read_instance, write_instance
from ._load import load, read_phases
from ._save import save
from ._sticks_csv import read_sticks_csv, write_sticks_csv
from ._xy import read_xy_folder, write_xy_folder

__all__ = [
    "atomic_path",
    "atomic_text",
    "load",
    "read_cif_folder",
    "read_drnets",
    "read_hdf5",
    "read_instance",
    "read_phases",
    "read_sticks_csv",
    "read_xy_folder",
    "save",
    "write_drnets",
    "write_hdf5",
    "write_instance",
    "write_sticks_csv",
    "write_xy_folder",
]
