"""The ``drnets`` commands of the report stage."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add this stage's commands to the ``drnets`` app."""

    @app.command()
    def report(
        solution: Path = typer.Argument(
            ..., help="A solution folder (solution.h5, fractions.csv, shifts.csv, summary.json)."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for report.html and the PNG figures (created)."),
        truth: Path | None = typer.Option(None, "--truth", "-t", help="Truth fractions CSV to compare with."),
        title: str | None = typer.Option(None, "--title", help="Page title."),
        force: bool = typer.Option(
            False, "--force", help="Write into a non-empty folder that is not an earlier report folder."
        ),
    ) -> None:
        """Write an offline HTML report (plotly inlined) and PNG figures of a solution."""
        import time

        from ..core import InputError
        from ..evaluate._cli import check_folder_truth
        from ..io import check_output, read_solution_dir, removed_on_error, solution_inputs
        from ._report import make_report

        out = check_output(out, [*solution_inputs(solution), truth], "report", force=force)
        if truth is not None:
            if not Path(truth).is_file():
                raise InputError("no such file", source=str(truth), where="--truth")
            if Path(solution).is_dir():
                check_folder_truth(read_solution_dir(solution), truth)
        t0 = time.perf_counter()
        with removed_on_error(out):
            result = make_report(solution, out, truth=truth, title=title)
        console.print(f"wrote {result['html']}", markup=False, highlight=False, soft_wrap=True)
        for p in result["png"].values():
            console.print(f"wrote {p}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"report done in {time.perf_counter() - t0:.1f} s", markup=False, highlight=False, soft_wrap=True)
