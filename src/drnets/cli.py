"""The ``drnets`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from .core import InputError
from .core.constants import COMPARISON_THRESHOLDS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Automated crystal-structure phase mapping of combinatorial XRD libraries (Deep Reasoning Networks).",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

PathArg = typer.Argument(..., help="Library: instance .txt, DRNets npy folder, pattern folder or native .h5.")
PhasesOpt = typer.Option(None, "--phases", "-p", help="Candidate phases: stick CSV or folder of CIF files.")


@app.callback()
def _root() -> None:
    """Automated crystal-structure phase mapping of combinatorial XRD libraries."""


@app.command()
def info(
    path: Path = PathArg,
    phases: Path | None = PhasesOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Summarise a library (and its phases) at a glance."""
    from ._summary import summarize
    from .io import load

    s = summarize(load(path, phases=phases))
    if as_json:
        console.print_json(json.dumps(s))
        return
    t = Table(title=f"drnets info: {s['source']}", show_header=False)
    t.add_row("points", str(s["points"]))
    t.add_row("elements", " ".join(s["elements"]))
    for e, (lo, hi) in s["composition_range"].items():
        t.add_row(f"  {e} fraction", f"{lo:.3f} – {hi:.3f}")
    t.add_row(
        "Q points",
        f"{s['q_points']} from {s['q_min']:g} to {s['q_max']:g} nm⁻¹, step {s['q_step']:.4g}"
        + ("" if s["q_step_uniform"] else " (non-uniform)"),
    )
    t.add_row("max intensity", f"{s['intensity_max']:.4g}")
    t.add_row("graph", f"{s['graph_edges']} edges, degree {s['graph_degree'][0]}–{s['graph_degree'][1]}")
    t.add_row("points per Gibbs limit", ", ".join(f"{k}: {v}" for k, v in s["points_per_gibbs_limit"].items()))
    if "phases" in s:
        t.add_row("phases", f"{s['phases']} ({s['phases_allowed_somewhere']} allowed somewhere, mask: {s['mask']})")
        if s["substrate_phases"]:
            t.add_row("substrate phases", ", ".join(s["substrate_phases"]))
    if s["metadata"]:
        t.add_row("per-point metadata", ", ".join(s["metadata"]))
    if "solution" in s:
        t.add_row("solution", json.dumps(s["solution"]))
    console.print(t)


@app.command()
def evaluate(
    solution: Path = typer.Argument(
        ..., help="A solution folder (fractions.csv, shifts.csv, summary.json) or a fractions CSV."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", "-t", help="Truth fractions CSV (point, then one column per phase label)."
    ),
    truth_shifts: Path | None = typer.Option(None, "--truth-shifts", help="Truth shifts CSV (same layout)."),
    threshold: list[float] = typer.Option(
        list(COMPARISON_THRESHOLDS), "--threshold", help="Presence threshold(s) for the comparison."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the full evaluation as JSON here."),
) -> None:
    """Judge a solution: its rule audit, and a comparison with a truth when given."""
    from .evaluate._cli import evaluate_solution_dir, print_evaluation

    result = evaluate_solution_dir(solution, truth=truth, truth_shifts=truth_shifts, thresholds=tuple(threshold))
    print_evaluation(result, console)
    if json_out is not None:
        from .io import atomic_text

        with atomic_text(Path(json_out)) as fh:
            json.dump(result, fh, indent=2, default=float)
        console.print(f"wrote {json_out}")


@app.command()
def convert(
    src: Path = PathArg,
    out: Path = typer.Argument(
        ..., help="Output: .h5/.hdf5 (native), .txt (instance text + <stem>_sticks.csv) or a ...drnets folder."
    ),
    phases: Path | None = PhasesOpt,
) -> None:
    """Convert between instance text, stick CSV, DRNets folder, pattern folder and the native .h5."""
    from .io import format_of, load, save

    kind = format_of(out, for_writing=True)  # fail on an unknown output name before reading anything
    ds = load(src, phases=phases)
    written = save(ds, out)
    for p in written:
        console.print(f"wrote {p}", markup=False, highlight=False)
    dropped = []
    if kind != "hdf5" and ds.solution is not None:
        dropped.append("the solution")
    if kind == "instance" and ds.mask is not None:
        dropped.append("the mask")
    if kind == "instance" and ds.max_phases is not None:
        dropped.append("the per-point phase limits")
    if dropped:
        err_console.print(f"note: {kind} output does not keep {', '.join(dropped)}", markup=False, highlight=False)


# A stage's own commands (synth, report) live in its ``_cli`` module; the commands that drive
# several stages (solve: io, solver, evaluate; demo: all of them) live here beside this file.
from ._demo import register as _register_demo  # noqa: E402
from ._solve_command import register as _register_solve  # noqa: E402
from .report._cli import register as _register_report  # noqa: E402
from .synth._cli import register as _register_synth  # noqa: E402

for _register in (_register_synth, _register_solve, _register_demo, _register_report):
    _register(app, console, err_console)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: input errors become one line on stderr and exit status 2."""
    try:
        app(args=argv, prog_name="drnets")
    except InputError as err:
        err_console.print(f"error: {err}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
