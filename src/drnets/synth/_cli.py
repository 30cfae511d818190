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
        force: bool = typer.Option(
            False, "--force", help="Write into a non-empty folder that is not an earlier synthetic library."
        ),
    ) -> None:
        """Generate a synthetic library with its candidate phases and exact ground truth."""
        import time

        from .._cli_checks import as_synth_option, check_seed, check_synth_size
        from ..core import InputError
        from ..io import check_output, removed_on_error
        from ._generate import PRESETS, write_synthetic

        seed = check_seed(seed)
        pre = PRESETS.get(preset)  # an unknown preset is the generator's to refuse
        points, q_points = check_synth_size(points, q_points, (pre.points, pre.q_points) if pre else (1, 2))
        out = check_output(out, [], "synth", force=force)
        t0 = time.perf_counter()
        try:
            with removed_on_error(out):
                written = write_synthetic(
                    out, preset, points=points, q_points=q_points, seed=seed, system=system, sampling=sampling
                )
        except InputError as err:
            raise as_synth_option(err) from None
        dt = time.perf_counter() - t0
        for p in written:
            console.print(f"wrote {p}", markup=False, highlight=False, soft_wrap=True)
        what = f"random-system ({preset or 'drawn'} conditions)" if system == "random" else (preset or "standard")
        console.print(f"synthetic {what} library (seed {seed}) in {dt:.2f} s", markup=False, highlight=False)
