"""``drnets solve`` over several libraries: one solution folder each, on Ray when asked, and a summary table.

Each input ``A`` is solved into ``OUT/<name of A>`` (its file's stem or its folder's name;
where two inputs share a name, their folders' names go in front). Every input is read once
before anything is solved, so that a bad one stops the batch at once (one line naming it,
exit status 2) instead of after hours; a library whose solve then fails is named on stderr,
its row says why, the others go on, and the batch ends with exit status 2. The summary (a
rich table on the terminal, ``OUT/summary.csv``) is rewritten after each library, so that an
interrupted batch leaves the rows of the finished ones.

With ``--workers`` or ``--ray-address`` the libraries are Ray tasks on one runtime, one
library per worker at a time (each solved by one process, so each answer is the one a plain
run gives); otherwise they are solved one after the other in this process. On a cluster OUT
must be a folder every node can write (a shared file system).
"""

from __future__ import annotations

import csv
import glob
import io
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from .core import InputError

#: The batch's summary file in OUT.
SUMMARY_CSV = "summary.csv"
#: Its columns, in order.
SUMMARY_COLUMNS = (
    "library",
    "input",
    "status",
    "points",
    "phases_used",
    "mean_relative_residual",
    "violations",
    "wall_time_s",
    "folder",
)
#: Characters that make an input a pattern to expand (a glob the shell did not expand, e.g. quoted).
GLOB_CHARS = "*?["


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The inputs with their glob patterns expanded (sorted), each path once, in the order given.

    Raises
    ------
    InputError
        For a pattern that matches nothing.
    """
    out: list[Path] = []
    for item in inputs:
        text = str(item)
        if not os.path.lexists(text) and any(c in text for c in GLOB_CHARS):
            found = sorted(glob.glob(text))
            if not found:
                raise InputError("no file or folder matches this pattern", source=text)
            out += [Path(p) for p in found]
        else:
            out.append(Path(text))
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def folder_names(paths: Sequence[Path]) -> list[str]:
    """Each input's solution folder name: its stem (a file) or name (a folder), made unique by its parents' names.

    Raises
    ------
    InputError
        When two inputs cannot be told apart by name.
    """

    def name(p: Path, up: int) -> str:
        p = p.resolve()
        parts = [p.stem if p.is_file() else p.name]
        for parent in list(p.parents)[:up]:
            parts.insert(0, parent.name)
        return "-".join(x for x in parts if x)

    names = [name(p, 0) for p in paths]
    for up in range(1, 4):
        clash = {n for n in names if names.count(n) > 1}
        if not clash:
            return names
        names = [name(p, up) if n in clash else n for p, n in zip(paths, names)]
    clash = sorted({n for n in names if names.count(n) > 1})
    raise InputError(f"inputs with the same name ({', '.join(clash)}): rename or solve them apart", where="INPUT")


def _row(name: str, path: Path, folder: Path, status: str, sol: Any = None, seconds: float = 0.0) -> dict[str, Any]:
    """One library's summary row (the solution's numbers where there is one)."""
    row: dict[str, Any] = {k: "" for k in SUMMARY_COLUMNS}
    row.update(library=name, input=str(path), status=status, folder=str(folder), wall_time_s=f"{seconds:.1f}")
    if sol is not None:
        frac = np.nan_to_num(sol.fractions, nan=0.0)
        row["points"] = sol.n_points
        row["phases_used"] = int((frac > 0).any(axis=0).sum())
        if sol.residuals is not None and np.size(sol.residuals):
            row["mean_relative_residual"] = f"{float(np.nanmean(sol.residuals)):.4f}"
        row["violations"] = (sol.audit or {}).get("total_violations", "")
    return row


def solve_one(
    path: Path, folder: Path, load_options: dict[str, Any], solve_options: dict[str, Any], name: str
) -> dict[str, Any]:
    """Read and solve one library into ``folder``, quietly; returns its summary row (status ``failed: ...``
    on bad input). ``solve_options`` are :func:`solve_to_dir`'s, ``extra_phases`` as a path."""
    from ._cli_input import as_cli_message, input_warnings, load_input
    from ._solve_command import solve_to_dir
    from .io import removed_on_error

    t0 = time.perf_counter()
    quiet = Console(file=io.StringIO())
    try:
        with removed_on_error(folder):
            ds = load_input(path, **load_options)
            opts = dict(solve_options)
            if opts.get("extra_phases") is not None:  # more structures, read with this library's elements
                from .io import read_phases

                opts["extra_phases"] = read_phases(opts["extra_phases"], ds.library.elements)
            sol, _, _, interrupted = solve_to_dir(
                ds,
                folder,
                console=quiet,
                err_console=quiet,
                quiet=True,
                inputs={"library": str(path)},
                notes=input_warnings(ds),
                **opts,
            )
    except InputError as err:
        return _row(name, path, folder, f"failed: {as_cli_message(err)}", seconds=time.perf_counter() - t0)
    status = "interrupted" if interrupted else "done"
    return _row(name, path, folder, status, sol, time.perf_counter() - t0)


def write_summary(out: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``OUT/summary.csv`` (one row per library, :data:`SUMMARY_COLUMNS`) atomically; returns its path."""
    path = out / SUMMARY_CSV
    tmp = out / f".{SUMMARY_CSV}.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)
    return path


def summary_table(rows: list[dict[str, Any]], title: str):
    """The batch's rich table: one line per library."""
    from rich.table import Table

    t = Table(title=title)
    for col in ("library", "status", "points", "phases used", "mean residual", "violations", "time (s)"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["library"]),
            str(r["status"]),
            str(r["points"]),
            str(r["phases_used"]),
            str(r["mean_relative_residual"]),
            str(r["violations"]),
            str(r["wall_time_s"]),
        )
    return t


def solve_many(
    paths: list[Path],
    out: Path,
    *,
    load_options: dict[str, Any],
    solve_options: dict[str, Any],
    checked: list[Path | None],
    workers: int,
    ray_address: str | None,
    force: bool,
    quiet: bool,
    console: Console,
    err_console: Console,
) -> int:
    """Solve every library of ``paths`` into ``out/<name>``; returns the exit status (0, or 2 when one failed).

    ``checked`` are the other paths the command reads (phases, ...: an output never lands
    inside them). Raises an :class:`InputError` naming the first bad input before anything
    is solved.
    """
    from ._cli_input import load_input
    from .io import check_output

    def say(text: str, err: bool = False) -> None:
        (err_console if err else console).print(text, markup=False, highlight=False, soft_wrap=True)

    names = folder_names(paths)
    out = check_output(out, [*paths, *checked], "solution", force=force or (Path(out) / SUMMARY_CSV).is_file())
    folders = [out / n for n in names]
    for f in folders:
        check_output(f, [*paths, *checked], "solution", force=force)
    for p in paths:  # every input read before anything is solved: a bad one stops the batch now
        ds = load_input(p, **load_options)
        if ds.phases is None:
            raise InputError("no candidate phases: pass --phases (a stick CSV or a folder of CIF files)", source=str(p))
        del ds
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []

    def finished(row: dict[str, Any]) -> None:
        rows.append(row)
        write_summary(out, rows)
        if row["status"].startswith("failed"):
            say(f"error: {row['input']}: {row['status'][len('failed: ') :]}", err=True)
        elif not quiet:
            say(f"{len(rows)}/{len(paths)} {row['library']}: {row['status']} ({row['wall_time_s']} s)")

    jobs = list(zip(paths, folders, names))
    if workers or ray_address is not None:
        from .solve._tiled_search import ray_session

        with ray_session(workers, ray_address) as ray:
            task = ray.remote(num_cpus=1, max_retries=1)(solve_one)
            pending = {task.remote(p, f, load_options, solve_options, n): n for p, f, n in jobs}
            order = {n: k for k, (_, _, n) in enumerate(jobs)}
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                pending.pop(ready[0])
                finished(ray.get(ready[0]))
            rows.sort(key=lambda r: order[r["library"]])
    else:
        for p, f, n in jobs:
            finished(solve_one(p, f, load_options, solve_options, n))
    summary = write_summary(out, rows)
    if not quiet:
        console.print(summary_table(rows, f"drnets solve: {len(paths)} libraries"))
        say(f"wrote {summary}")
    return 2 if any(r["status"].startswith("failed") for r in rows) else 0
