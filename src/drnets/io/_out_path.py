"""Where a command may write: never inside an input, never over files that are not its own.

:func:`check_output` is the one rule every command applies to its output before it reads or
writes anything; :func:`removed_on_error` takes away what a failed command created, so that
an error leaves no partial output behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..core import InputError
from ._solution_dir import is_solution_dir

#: The parts of a ``drnets demo`` folder.
DEMO_PARTS = ("library", "solution", "report")


def _is_report(p: Path) -> bool:
    return (p / "report.html").is_file()


def _is_synth(p: Path) -> bool:
    return (p / "library.h5").is_file() and (p / "truth").is_dir()


def _is_demo(p: Path) -> bool:
    return _is_synth(p / "library") and all(c.name in DEMO_PARTS or c.name.startswith(".") for c in p.iterdir())


def _is_drnets(p: Path) -> bool:
    return (p / "XRD.npy").is_file()


#: Folder outputs, each with what an earlier output of its kind holds: a non-empty folder
#: that does not hold it is the user's, and is written into only with ``force``.
EARLIER_OUTPUT: dict[str, Callable[[Path], bool]] = {
    "solution": is_solution_dir,
    "report": _is_report,
    "demo": _is_demo,
    "synth": _is_synth,
    "drnets": _is_drnets,
}
#: The kind of a single-file output (written atomically; an existing file is replaced).
FILE = "file"


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    kind: str = FILE,
    *,
    force: bool = False,
    option: str = "--out",
) -> Path:
    """Check that a command may write its output at ``out``; returns ``out`` as a Path.

    The rule: an output is never an input, never inside an input folder and never a folder
    that holds an input (whatever ``force`` says); a folder output is not an existing file,
    a file output is not a folder nor a device; a non-empty folder is written into only
    when it is an earlier drnets output of the same kind (:data:`EARLIER_OUTPUT`) or with
    ``force``; and the place must be one where a folder or file can be made.

    Parameters
    ----------
    out : path-like
        The output folder or file.
    inputs : iterable of path-like or None
        Every path the command reads (None entries are skipped).
    kind : str
        ``'file'`` or a folder kind of :data:`EARLIER_OUTPUT`.
    force : bool
        Write into a non-empty folder that is not an earlier output of this kind.
    option : str
        The option that named ``out``, for the message.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Naming ``out``, the option and the problem.
    """
    if kind != FILE and kind not in EARLIER_OUTPUT:
        raise ValueError(f"unknown output kind {kind!r}")
    if not str(out).strip():
        raise InputError("empty path", where=option)
    out = Path(out)

    def refuse(problem: str) -> InputError:
        return InputError(problem, source=str(out), where=option)

    target = out.resolve()
    for inp in inputs:
        if inp is None:
            continue
        src = Path(inp).resolve()
        if target == src:
            raise refuse(f"is the input {inp}: an output never replaces an input")
        if _inside(target, src):
            raise refuse(f"lies inside the input {inp}: outputs are never written inside an input")
        if _inside(src, target):
            raise refuse(f"holds the input {inp}: choose an output apart from the inputs")
    if os.path.lexists(out):
        mode = os.stat(out).st_mode if out.exists() else 0
        if kind == FILE:
            if stat.S_ISDIR(mode):
                raise refuse("is a folder, expected a file")
            if not stat.S_ISREG(mode):
                raise refuse("is not a regular file (a device, pipe or broken link)")
        elif not stat.S_ISDIR(mode):
            raise refuse("is a file, expected a folder")
        elif not force and any(out.iterdir()) and not EARLIER_OUTPUT[kind](out):
            raise refuse(
                f"is a folder with other files in it (not an earlier drnets {kind} output); "
                "choose a new or empty folder, or pass --force to write into it"
            )
    if not os.path.lexists(out):
        base = _existing_ancestor(out)
    else:
        base = out.absolute().parent if kind == FILE else out
    if not base.is_dir():
        raise refuse(f"cannot be made: {base} is a file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise refuse(f"cannot write in {base} (permission denied)")
    return out


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` that exists (the current folder for a bare name)."""
    for p in path.absolute().parents:
        if os.path.lexists(p):
            return p
    return Path(path.absolute().anchor)  # pragma: no cover - the root exists


def _first_created(path: Path) -> Path | None:
    """The highest missing folder on the way to ``path`` (``path`` itself when only it is missing)."""
    if os.path.lexists(path):
        return None
    top = path.absolute()
    for p in top.parents:
        if os.path.lexists(p):
            break
        top = p
    return top


@contextlib.contextmanager
def removed_on_error(*outputs: str | os.PathLike[str]) -> Iterator[None]:
    """Remove what did not exist before (the outputs and the folders made for them) when the body fails.

    Only an error is cleaned up (an :class:`InputError`, an ``OSError`` or a ``MemoryError``):
    an interrupted command keeps what it wrote (each file is complete). What existed before
    is left alone: each file in it is written atomically, so it is either the old or the
    new one.
    """
    fresh = [p for p in (_first_created(Path(o)) for o in outputs) if p is not None]
    try:
        yield
    except (InputError, OSError, MemoryError):
        for p in fresh:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
        raise
