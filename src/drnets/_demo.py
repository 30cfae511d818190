"""The ``drnets demo`` command: generate a synthetic library, solve it, score it and report it."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from ._cli_checks import as_synth_option, check_device, check_seed, check_synth_size
from ._cli_input import print_notes
from ._solve_command import solve_to_dir, stop_interrupted, summary_table, truth_tables
from .core import InputError


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``drnets demo`` to the app."""

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    @app.command()
    def demo(
        out: Path = typer.Option(
            Path("drnets-demo"), "--out", "-o", help="Output folder (library/, solution/, report/)."
        ),
        points: int | None = typer.Option(
            None, "--points", "-n", help="Number of sample points (default: the preset's)."
        ),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed of the library and the solver."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        preset: str = typer.Option("standard", "--preset", help="Library difficulty: easy, standard or hard."),
        q_points: int | None = typer.Option(None, "--q-points", help="Q grid points (default: the preset's)."),
        force: bool = typer.Option(
            False, "--force", help="Write into a non-empty folder that is not an earlier demo folder."
        ),
    ) -> None:
        """Generate a built-in synthetic library, solve it, score it against its truth and report it."""
        from .evaluate._cli import print_comparison
        from .io import check_output, read_hdf5, removed_on_error
        from .report import make_report
        from .synth import write_synthetic
        from .synth._generate import PRESETS

        device = check_device(device)
        seed = check_seed(seed)
        pre = PRESETS.get(preset)  # an unknown preset is the generator's to refuse
        points, q_points = check_synth_size(points, q_points, (pre.points, pre.q_points) if pre else (1, 2))
        out = check_output(out, [], "demo", force=force)
        t0 = time.perf_counter()
        with removed_on_error(out):
            lib_dir, sol_dir, rep_dir = out / "library", out / "solution", out / "report"
            try:
                write_synthetic(lib_dir, preset, points=points, q_points=q_points, seed=seed)
            except InputError as err:
                raise as_synth_option(err) from None
            t_lib = time.perf_counter() - t0
            say(f"library: {preset} synthetic library in {lib_dir} ({t_lib:.1f} s)")
            ds = read_hdf5(lib_dir / "library.h5")
            notes = print_notes(ds, err_console)
            t_true, t_shift = truth_tables(lib_dir / "truth" / "fractions.csv", lib_dir / "truth" / "shifts.csv")
            inputs = {
                "library": str(lib_dir / "library.h5"),
                "phases": str(lib_dir / "library.h5"),
                "truth": str(lib_dir / "truth" / "fractions.csv"),
            }
            sol, files, comparison, interrupted = solve_to_dir(
                ds,
                sol_dir,
                device=device,
                seed=seed,
                console=console,
                err_console=err_console,
                truth=t_true,
                truth_shifts=t_shift,
                truth_name=str(lib_dir / "truth" / "fractions.csv"),
                inputs=inputs,
                notes=notes,
            )
            console.print(summary_table(sol, sol_dir, f"drnets demo: {preset} library, {ds.library.n_points} points"))
            if comparison is not None:
                print_comparison(comparison, console, "the true phases")
            result = make_report(
                sol_dir,
                rep_dir,
                truth=lib_dir / "truth" / "fractions.csv",
                title=f"drnets demo: {preset} synthetic library",
            )
        say(f"library   {lib_dir}  (instance.txt, sticks.csv, library.h5, truth/)")
        say(f"solution  {sol_dir}  ({', '.join(p.name for p in files)})")
        say(f"report    {result['html']}")
        say(f"demo done in {time.perf_counter() - t0:.1f} s")
        if interrupted:
            raise stop_interrupted(err_console, f"interrupted: wrote the best answer so far to {sol_dir}")
