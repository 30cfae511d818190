"""The ``drnets`` command line."""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ._cli_input import (
    CompositionsOpt,
    MaxPhasesOpt,
    ResampleOpt,
    SubstrateOpt,
    WavelengthOpt,
    XUnitOpt,
    as_cli_message,
    load_input,
    print_notes,
)
from .core import InputError
from .core.constants import COMPARISON_THRESHOLDS

# rich_markup_mode=None: click's plain help, where a flag reads ``-q, --quiet`` (rich help shows it as ``<bool>``).
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Automated crystal-structure phase mapping of combinatorial XRD libraries (Deep Reasoning Networks).",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console()
err_console = Console(stderr=True)

PathArg = typer.Argument(
    ..., help="Library: instance .txt, DRNets npy folder, pattern folder, native .h5 or a solution folder."
)
PhasesOpt = typer.Option(None, "--phases", "-p", help="Candidate phases: stick CSV or folder of CIF files.")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        console.print(f"drnets {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Automated crystal-structure phase mapping of combinatorial XRD libraries."""


@app.command()
def info(
    path: Path = PathArg,
    phases: Path | None = PhasesOpt,
    wavelength: str | None = WavelengthOpt,
    x_unit: str | None = XUnitOpt,
    compositions: Path | None = CompositionsOpt,
    substrate: list[str] | None = SubstrateOpt,
    resample: bool = ResampleOpt,
    max_phases: int | None = MaxPhasesOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Summarise a library (and its phases), or a solution folder, at a glance."""
    from ._summary import summarize
    from .io import is_solution_dir, read_summary

    ds = load_input(
        path,
        phases=phases,
        wavelength=wavelength,
        x_unit=x_unit,
        compositions=compositions,
        substrates=substrate,
        resample=resample,
        max_phases=max_phases,
    )
    s = summarize(ds)
    run = read_summary(path) if Path(path).is_dir() and is_solution_dir(path) else None
    if run is not None:
        s["solution_folder"] = _run_facts(run)
    notes = print_notes(ds, err_console)
    if as_json:
        console.print_json(json.dumps({**s, "warnings": notes}))
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
    if "wavelength" in s:
        t.add_row("wavelength", s["wavelength"])
    t.add_row("max intensity", f"{s['intensity_max']:.4g}")
    if s.get("independent_samples"):
        t.add_row("graph", "none: independent samples (no compositions)")
    else:
        t.add_row("graph", f"{s['graph_edges']} edges, degree {s['graph_degree'][0]}–{s['graph_degree'][1]}")
    t.add_row("points per Gibbs limit", ", ".join(f"{k}: {v}" for k, v in s["points_per_gibbs_limit"].items()))
    if "phases" in s:
        t.add_row("phases", f"{s['phases']} ({s['phases_allowed_somewhere']} allowed somewhere, mask: {s['mask']})")
        if s["substrate_phases"]:
            t.add_row("substrate phases", ", ".join(s["substrate_phases"]))
    if s["metadata"]:
        t.add_row("per-point metadata", ", ".join(s["metadata"]))
    if run is not None:
        for key, value in s["solution_folder"].items():
            t.add_row(key, value)
    elif "solution" in s:
        t.add_row("solution", json.dumps(s["solution"]))
    console.print(t)


def _run_facts(run: dict) -> dict[str, str]:
    """The rows ``drnets info`` shows for a solution folder's summary.json (entries of another shape are skipped)."""
    from .evaluate._cli import PARTIAL_ANSWER, audit_rows

    def part(key: str, kind: type) -> Any:
        return run[key] if isinstance(run.get(key), kind) else kind()

    number = (int, float)
    facts = {}
    if run.get("interrupted"):
        facts["status"] = PARTIAL_ANSWER
    used = part("phases_used", list)
    facts["phases used"] = f"{len(used)} of {run.get('phases', '?')}: {', '.join(map(str, used))}"
    audit = part("audit", dict)
    if audit:
        facts["rule violations"] = str(audit.get("total_violations", "?"))
        facts.update({f"  {rule}": text for rule, text in audit_rows(audit)})
    rec = part("reconstruction", dict)
    if isinstance(rec.get("rel_l2_mean"), number):
        facts["mean relative residual"] = f"{float(rec['rel_l2_mean']):.4f}"
    comparison = part("comparison", dict)
    for b in comparison.get("by_threshold", []) if isinstance(comparison.get("by_threshold"), list) else []:
        if isinstance(b, dict) and isinstance(b.get("threshold"), number) and isinstance(b.get("exact_match"), number):
            facts[f"exact match (> {b['threshold']:g})"] = f"{100 * b['exact_match']:.1f} % against {run.get('truth')}"
    if isinstance(run.get("wall_time_s"), number):
        facts["time"] = f"{float(run['wall_time_s']):.1f} s"
    for key in ("device", "seed", "version"):
        if run.get(key) is not None:
            facts[key] = str(run[key])
    if part("warnings", list):
        facts["input notes"] = "; ".join(map(str, run["warnings"]))
    return facts


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
    from ._cli_checks import check_thresholds
    from .evaluate._cli import evaluate_solution_dir, print_evaluation
    from .io import check_output, removed_on_error, solution_inputs

    thresholds = check_thresholds(threshold)
    if json_out is not None:
        check_output(json_out, [*solution_inputs(solution), truth, truth_shifts], option="--json")
    result = evaluate_solution_dir(solution, truth=truth, truth_shifts=truth_shifts, thresholds=thresholds)
    print_evaluation(result, console)
    if json_out is not None:
        from .io import atomic_text

        with removed_on_error(json_out), atomic_text(Path(json_out)) as fh:
            json.dump(result, fh, indent=2, default=float)
        console.print(f"wrote {json_out}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def convert(
    src: Path = PathArg,
    out: Path = typer.Argument(
        ..., help="Output: .h5/.hdf5 (native), .txt (instance text + <stem>_sticks.csv) or a ...drnets folder."
    ),
    phases: Path | None = PhasesOpt,
    wavelength: str | None = WavelengthOpt,
    x_unit: str | None = XUnitOpt,
    compositions: Path | None = CompositionsOpt,
    substrate: list[str] | None = SubstrateOpt,
    resample: bool = ResampleOpt,
    max_phases: int | None = MaxPhasesOpt,
    force: bool = typer.Option(
        False, "--force", help="Write a DRNets folder into a non-empty folder that is not an earlier one."
    ),
) -> None:
    """Convert between instance text, stick CSV, DRNets folder, pattern folder and the native .h5."""
    from .io import check_output, format_of, removed_on_error, save, sticks_beside

    kind = format_of(out, for_writing=True)  # fail on an unknown output name before reading anything
    inputs = [src, phases, compositions]
    outputs = [out, sticks_beside(out)] if kind == "instance" else [out]
    for o in outputs:
        check_output(o, inputs, "drnets" if kind == "drnets" else "file", force=force, option="OUT")
    ds = load_input(
        src,
        phases=phases,
        wavelength=wavelength,
        x_unit=x_unit,
        compositions=compositions,
        substrates=substrate,
        resample=resample,
        max_phases=max_phases,
    )
    print_notes(ds, err_console)
    with removed_on_error(*outputs):
        written = save(ds, out)
    for p in written:
        console.print(f"wrote {p}", markup=False, highlight=False, soft_wrap=True)
    dropped = []
    if kind != "hdf5" and ds.solution is not None:
        dropped.append("the solution")
    if kind != "hdf5" and ds.independent:
        dropped.append("that the samples are independent (their placeholder compositions are written as if known)")
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


#: Exit status of a command stopped by bad input (one line on stderr).
EXIT_INPUT = 2
#: Exit status of an interrupted command (128 + SIGINT).
EXIT_INTERRUPTED = 130


def _error(text: str) -> int:
    err_console.print(f"error: {' '.join(text.split())}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_INPUT


@contextlib.contextmanager
def _library_warnings() -> Iterator[list[str]]:
    """Collect the warnings of numpy, torch and the like instead of printing them (one note at the end).

    A user who asked for warnings (``python -W``, ``PYTHONWARNINGS``) sees them as usual.
    """
    caught: list[str] = []
    if sys.warnoptions:
        yield caught
        return
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # once per place

        def keep(message, category, filename, lineno, file=None, line=None) -> None:
            caught.append(f"{category.__name__}: {message} ({Path(filename).name}:{lineno})")

        warnings.showwarning = keep
        yield caught


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 2 bad input, 130 interrupted).

    Bad input of any kind (an :class:`InputError`, a usage error, a file that cannot be
    written) is one line on stderr starting with ``error:``; warnings of the numerical
    libraries become one note (on success only).
    """
    from ._solve_command import interruption_told

    interruption_told(reset=True)
    usage_error: type[Exception]
    try:
        from typer import TyperException as usage_error  # typer that carries its own click
    except ImportError:  # pragma: no cover - older typer
        from click import ClickException as usage_error
    with _library_warnings() as caught:
        try:
            code = app(args=argv, prog_name="drnets", standalone_mode=False)
        except InputError as err:
            return _error(as_cli_message(err))
        except usage_error as err:
            ctx = getattr(err, "ctx", None)
            message = err.format_message()
            if type(err).__name__ == "NoArgsIsHelpError" or (not message and ctx is not None):  # no arguments: help
                console.print(ctx.get_help(), markup=False, highlight=False)
                return int(getattr(err, "exit_code", EXIT_INPUT))
            where = f"{ctx.command_path}: " if ctx is not None else ""
            return _error(f"{where}{message}")
        except OSError as err:
            path = err.filename2 if err.filename2 is not None else err.filename
            text = err.strerror or str(err)
            return _error(f"{path}: {text}" if path is not None else text)
        except MemoryError:
            command = " ".join((argv if argv is not None else sys.argv[1:])[:2])
            return _error(f"drnets {command}: not enough memory for this input (fewer points, or more memory)")
        except (KeyboardInterrupt, typer.Abort):
            code = EXIT_INTERRUPTED
    code = int(code or 0)
    if code == EXIT_INTERRUPTED and not interruption_told():
        err_console.print("interrupted", markup=False, highlight=False)
    if caught and code != EXIT_INPUT:
        err_console.print(
            f"note: {len(caught)} warning(s) of the numerical libraries were silenced (first: {caught[0]}); "
            "PYTHONWARNINGS=default shows them",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    return code


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the command line and exits with its status (see :func:`run`)."""
    sys.exit(run(argv))


if __name__ == "__main__":  # pragma: no cover
    main()
