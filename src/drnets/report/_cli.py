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
    ) -> None:
        """Write an offline HTML report (plotly inlined) and PNG figures of a solution."""
        import time

        from ..core import InputError
        from ._report import make_report

        if truth is not None and not Path(truth).is_file():
            raise InputError("no such file", source=str(truth))
        t0 = time.perf_counter()
        result = make_report(solution, out, truth=truth, title=title)
        console.print(f"wrote {result['html']}", markup=False, highlight=False, soft_wrap=True)
        for p in result["png"].values():
            console.print(f"wrote {p}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"report done in {time.perf_counter() - t0:.1f} s", markup=False, highlight=False, soft_wrap=True)
