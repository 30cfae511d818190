"""The ``drnets`` commands of the synth stage."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add this stage's commands to the ``drnets`` app."""

    @app.command()
    def synth(
        out: Path = typer.Option(
            ..., "--out", "-o", help="Output folder (instance.txt, sticks.csv, library.h5, truth/)."
        ),
        preset: str | None = typer.Option(
            None,
            "--preset",
            help="Difficulty: easy, standard or hard (default: standard; with --system random, drawn from the seed).",
        ),
        points: int | None = typer.Option(
            None, "--points", "-n", help="Number of sample points (default: the preset's)."
        ),
        seed: int = typer.Option(0, "--seed", "-s", help="Random seed (same seed, same bytes)."),
        q_points: int | None = typer.Option(
            None, "--q-points", help="Number of Q grid points (default: the preset's)."
        ),
        system: str | None = typer.Option(
            None,
            "--system",
            help="Override the chemical system: ternary, quaternary, or random (a whole system drawn from the seed).",
        ),
        sampling: str | None = typer.Option(None, "--sampling", help="Composition sampling: grid or random."),
    ) -> None:
        """Generate a synthetic library with its candidate phases and exact ground truth."""
        import time

        from ._generate import write_synthetic

        t0 = time.perf_counter()
        written = write_synthetic(
            out, preset, points=points, q_points=q_points, seed=seed, system=system, sampling=sampling
        )
        dt = time.perf_counter() - t0
        for p in written:
            console.print(f"wrote {p}", markup=False, highlight=False)
        what = f"random-system ({preset or 'drawn'} conditions)" if system == "random" else (preset or "standard")
        console.print(f"synthetic {what} library (seed {seed}) in {dt:.2f} s", markup=False, highlight=False)
