"""Reading a command's library: the input options that solve, info and convert share.

The pattern options (``--wavelength``, ``--x-unit``, ``--compositions``), the phase
options (``--substrate``, ``--resample``) and ``--max-phases`` become keywords of :func:`drnets.io.load`,
passed only when given; a reader's message that names a keyword is shown with the option's
name (:func:`as_cli_message`); what the reader noticed (``Dataset.warnings``) is shown as
one-line notes (:func:`print_notes`).
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .core import InputError

#: The keywords of :func:`drnets.io.load` that options set, and those options.
LOAD_OPTIONS = {
    "wavelength": "--wavelength",
    "x_unit": "--x-unit",
    "compositions": "--compositions",
    "substrates": "--substrate",
    "resample": "--resample",
    "max_phases": "--max-phases",
}
#: ``--x-unit`` spellings and the pattern reader's names for them.
X_UNITS = {"q_nm": "q_nm", "q_a": "q_A", "two_theta": "twotheta", "twotheta": "twotheta", "auto": "auto"}

WavelengthOpt = typer.Option(
    None,
    "--wavelength",
    metavar="Å|ANODE",
    help="Pattern files: the X-ray wavelength in Å, or the tube's anode (Cu, Co, Mo, Cr, Fe, Ag) for its Kα1/Kα2 "
    "doublet; needed for 2θ files that do not state theirs (never assumed).",
)
XUnitOpt = typer.Option(
    None,
    "--x-unit",
    metavar="UNIT",
    help="Pattern folders: the x column: q_nm (Q in nm⁻¹), q_A (Q in Å⁻¹), two_theta (2θ in degrees) "
    "or auto (told by the files' headers; the default).",
)
CompositionsOpt = typer.Option(
    None,
    "--compositions",
    help="Pattern folders: compositions CSV (sample,<El1>,<El2>,...); default: compositions.csv in the folder; "
    "without one the patterns are independent samples.",
)
MaxPhasesOpt = typer.Option(
    None,
    "--max-phases",
    min=1,
    help="The most phases at any point; for independent samples (patterns without compositions) the default is 3.",
)
SubstrateOpt = typer.Option(
    None,
    "--substrate",
    metavar="LABEL",
    help="A phase label declared a substrate (allowed at every point); repeat for several.",
)
ResampleOpt = typer.Option(
    False,
    "--resample",
    help="Pattern folders on different Q grids: interpolate them onto the range they share (said in the notes) "
    "instead of refusing.",
)


def _load_takes(keyword: str) -> bool:
    from .io import load

    return keyword in inspect.signature(load).parameters


def load_input(
    path: str | os.PathLike[str],
    *,
    phases: str | os.PathLike[str] | None = None,
    mask: str | os.PathLike[str] | None = None,
    wavelength: float | str | None = None,
    x_unit: str | None = None,
    compositions: str | os.PathLike[str] | None = None,
    substrates: Sequence[str] | None = None,
    resample: bool = False,
    max_phases: int | None = None,
):
    """Read a command's input library with the options given (a solution folder reads as its ``solution.h5``).

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        As :func:`drnets.io.load`; also when a pattern-folder option is given for another
        input, or an option this version's reader does not take.
    """
    from .io import format_of, is_solution_dir, load

    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=str(path))
    if path.is_dir() and is_solution_dir(path) and (path / "solution.h5").is_file():
        path = path / "solution.h5"
    kwargs: dict[str, Any] = {}
    if wavelength is not None:
        from .core import parse_wavelength

        kwargs["wavelength"] = parse_wavelength(wavelength, where="--wavelength")
    if x_unit is not None:
        unit = X_UNITS.get(x_unit.strip().lower())
        if unit is None:
            raise InputError(f"unknown x unit {x_unit!r} (use q_nm, q_A, two_theta or auto)", where="--x-unit")
        kwargs["x_unit"] = unit
    if compositions is not None:
        kwargs["compositions"] = compositions
    if kwargs and format_of(path) not in ("xy", "pattern"):
        given = ", ".join(LOAD_OPTIONS[k] for k in kwargs)
        raise InputError(f"{given}: only for pattern files (a folder of them, or one)", source=str(path))
    for keyword, value in (("substrates", list(substrates or ())), ("resample", resample), ("max_phases", max_phases)):
        if value:
            if not _load_takes(keyword):
                raise InputError("this version's reader does not take it", where=LOAD_OPTIONS[keyword])
            kwargs[keyword] = value
    return load(path, phases=phases, mask=mask, **kwargs)


def input_warnings(dataset) -> list[str]:
    """What the reader noticed about the input (``Dataset.warnings``, where the reader keeps them)."""
    return [str(w) for w in (getattr(dataset, "warnings", None) or [])]


def print_notes(dataset, err_console: Console) -> list[str]:
    """Print each of the input's warnings as a one-line note on stderr; returns them."""
    notes = input_warnings(dataset)
    for w in notes:
        err_console.print(f"note: {' '.join(w.split())}", markup=False, highlight=False, soft_wrap=True)
    return notes


def as_cli_message(err: InputError) -> str:
    """The error's one line, with the ``load`` keywords it names given as the options that set them."""
    problem = err.problem
    for keyword, option in LOAD_OPTIONS.items():
        if option not in problem:
            problem = re.sub(rf"\bpass (an? )?{keyword}\b=?", f"pass {option}", problem)
    where = LOAD_OPTIONS.get(err.where or "", err.where)
    return ": ".join(p for p in (err.source, where, problem) if p)
