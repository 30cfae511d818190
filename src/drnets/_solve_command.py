"""The ``drnets solve`` command: read a library, solve it with a progress bar, audit, compare, write the folder.

It lives in the command-line wiring, not in the solve stage, because it drives several stages
(io, solve, evaluate); ``drnets demo`` reuses :func:`solve_to_dir` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console

from ._cli_checks import check_device, check_engine, check_seed
from ._cli_input import (
    CompositionsOpt,
    MaxPhasesOpt,
    ResampleOpt,
    SubstrateOpt,
    WavelengthOpt,
    XUnitOpt,
    load_input,
    print_notes,
)
from ._solve_many import expand_inputs, solve_many
from .io._solution_dir import CHECKPOINT

#: Exit status after an interrupted solve whose best answer so far was written (128 + SIGINT).
EXIT_INTERRUPTED = 130

#: What the progress bar calls each stage of the solver's ``callback(stage, done, total, info)``.
STAGES = {
    "prepare": "preparing",
    "screen": "screening the candidates",
    "search": "searching every point",
    "train": "training the network",
    "repair": "enforcing the rules",
}

_told = [False]


def interruption_told(*, reset: bool = False) -> bool:
    """Whether a command has said why it stopped (so that ``main`` does not say it again); ``reset`` clears it."""
    if reset:
        _told[0] = False
    return _told[0]


def stop_interrupted(err_console: Console, text: str) -> typer.Exit:
    """Say ``text`` on stderr and give the exception that ends the command with :data:`EXIT_INTERRUPTED`."""
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)
    _told[0] = True
    return typer.Exit(EXIT_INTERRUPTED)


def _previous_run(out: Path) -> dict[str, Any] | None:
    """What an earlier run left in ``out`` (its summary.json), or None when there is none."""
    from .core import InputError
    from .io import read_summary

    if not (out / "solution.h5").exists():
        return None
    try:
        return read_summary(out)
    except InputError:
        return {}


def _interrupted(solution) -> bool:
    meta = solution.metadata or {}
    if meta.get("interrupted"):
        return True
    hist = meta.get("history") or []
    return any(isinstance(h, dict) and h.get("interrupted") for h in hist)


def _violations(info: dict[str, Any]) -> str | None:
    """A short violation text from a progress ``info`` dict, if it holds any counts."""
    if "violations" in info and isinstance(info["violations"], (int, float)):
        return f"{int(info['violations'])} violations"
    if "total_violations" in info:
        return f"{int(info['total_violations'])} violations"
    parts = [
        f"{k[: -len('_violations')]} {int(v)}"
        for k, v in info.items()
        if k.endswith("_violations") and isinstance(v, (int, float))
    ]
    if isinstance(info.get("violations"), dict):
        parts += [f"{k} {int(v)}" for k, v in info["violations"].items() if isinstance(v, (int, float))]
    return "violations: " + ", ".join(parts) if parts else None


def _progress_text(info: dict[str, Any]) -> str:
    parts = []
    loss = info.get("mean_rel_l2", info.get("loss"))
    if isinstance(loss, (int, float)) and np.isfinite(loss):
        parts.append(f"loss {loss:.4f}")
    v = _violations(info)
    if v:
        parts.append(v)
    return " · ".join(parts)


def run_solver(
    library,
    phases,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    edges: np.ndarray | None = None,
    device: str = "auto",
    seed: int = 0,
    console: Console | None = None,
    quiet: bool = False,
    resume: bool = False,
    **params: Any,
):
    """Fit a :class:`PhaseMapper` with a rich progress bar; returns the fitted mapper.

    ``edges`` (neighbour pairs) replaces the composition graph; an empty array makes the
    points independent samples. The progress bar is fed by the solver's ``callback(stage, done, total, info)``; a
    solver that does not take a callback is run under a plain spinner. A KeyboardInterrupt
    inside the fit is the solver's to handle (it returns its best answer so far).
    """
    from .solve import PhaseMapper

    if quiet or console is None:
        return _make_mapper(PhaseMapper, None, device=device, seed=seed, **params).fit(
            library, phases, mask=mask, max_phases=max_phases, resume=resume, **_edges(edges)
        )

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(STAGES["prepare"], total=None, info="", visible=False)  # shown once the total is known
        seen: dict[str, int | None] = {"total": None}

        def callback(stage: str, done: int, total: int, info: dict | None = None) -> None:
            kw: dict[str, Any] = {"description": STAGES.get(stage, str(stage))}
            if total:
                kw["total"] = seen["total"] = int(total)
                kw["visible"] = True
                kw["completed"] = int(done)
            text = _progress_text(info or {})
            if text:
                kw["info"] = text
            progress.update(task, **kw)

        mapper = _make_mapper(PhaseMapper, callback, device=device, seed=seed, **params)
        mapper.fit(library, phases, mask=mask, max_phases=max_phases, resume=resume, **_edges(edges))
        if _interrupted(mapper.solution_):
            progress.update(task, description="interrupted", visible=True)
        else:  # finished: the bar is full whatever the last stage reported
            full = {"completed": seen["total"]} if seen["total"] else {}
            progress.update(task, description="done", visible=True, **full)
        return mapper


def _edges(edges: np.ndarray | None) -> dict[str, Any]:
    """The ``edges`` keyword of ``fit`` where the neighbours are not the composition graph (independent samples)."""
    return {} if edges is None else {"edges": edges}


def _make_mapper(cls, callback: Callable | None, **kwargs: Any):
    """A PhaseMapper with the callback when it accepts one, without it otherwise."""
    if callback is not None:
        try:
            return cls(callback=callback, **kwargs)
        except TypeError as err:
            if "callback" not in str(err):
                raise
    return cls(**kwargs)


def texture_text(solution, most: int = 4) -> str:
    """The phases the solver drew textured (axis and median March-Dollase r, the range of
    their reflections' free factors, or a substrate's own intensities), from the run's last
    estimate."""
    hist = (solution.metadata or {}).get("history") or []
    last = [h for h in hist if isinstance(h, dict) and h.get("stage") == "phase texture"]
    if not last or not last[-1].get("phases"):
        return ""
    items = []
    for key, v in last[-1]["phases"].items():
        label = solution.labels[int(key)] if int(key) < len(solution.labels) else key
        if v.get("substrate"):  # an oriented substrate's own intensities (substrate_intensities)
            items.append(f"{label} substrate, own intensities")
            continue
        if "factor_range" in v:  # reflections' factors (reflection_factors), no axis
            lo, hi = v["factor_range"]
            items.append(f"{label} {int(v.get('reflections', 0))} reflections x{float(lo):.2f}-{float(hi):.2f}")
            continue
        axis = "".join(str(int(a)) for a in v.get("axis", []))
        items.append(f"{label} ({axis}) r {float(v.get('r_median', 1.0)):.2f}")
    more = f"; {len(items) - most} more (summary.json history)" if len(items) > most else ""
    return "; ".join(items[:most]) + more


def summary_table(solution, out: Path, title: str):
    """The rich table printed after a solve: points, phases used, residual, violations, evidence, run facts."""
    from rich.table import Table

    meta = solution.metadata or {}
    frac = np.nan_to_num(solution.fractions, nan=0.0)
    used = int((frac > 0).any(axis=0).sum())
    t = Table(title=title, show_header=False)
    if _interrupted(solution):
        from .evaluate._cli import PARTIAL_ANSWER

        t.add_row("status", PARTIAL_ANSWER)
    t.add_row("points", str(solution.n_points))
    t.add_row("phases used", f"{used} of {len(solution.labels)}")
    if solution.residuals is not None and np.size(solution.residuals):
        t.add_row("mean relative residual", f"{float(np.nanmean(solution.residuals)):.4f}")
    a = solution.audit or {}
    if a:
        from .evaluate._cli import audit_note, audit_rows

        t.add_row("rule violations", f"{a.get('total_violations', '?')} in all")
        for rule, text in audit_rows(a):
            t.add_row(f"  {rule}", text)
        note = audit_note(a)
        if note:
            t.add_row("  note", note)
    weak = solution.weakly_supported()
    if weak is not None:
        from .core.constants import WEAK_EVIDENCE

        t.add_row(
            "weakly supported",
            f"{int(weak.sum())} phase entries at {int(weak.any(axis=1).sum())} points "
            f"(evidence < {WEAK_EVIDENCE:g}; see evidence.csv)",
        )
    for name, text in confidence_rows(solution):
        t.add_row(name, text)
    textured = texture_text(solution)
    if textured:
        t.add_row("texture", textured)
    if meta.get("wall_time_s") is not None:
        t.add_row("time", f"{float(meta['wall_time_s']):.1f} s")
    t.add_row("device", str(meta.get("device", "?")))
    t.add_row("seed", "none (deterministic)" if meta.get("seed", 0) is None else str(meta.get("seed", "?")))
    t.add_row("output", str(out))
    return t


def confidence_rows(solution) -> list[tuple[str, str]]:
    """The table's rows on how sure the answer is: uncertain points, flagged points, unknown phases."""
    from .core.constants import CONFIDENT

    rows = []
    if solution.alternatives is not None:
        low = int((~(np.asarray(solution.alternatives.chosen) >= CONFIDENT)).sum())
        rows.append(
            ("confidence", f"{low} points below {CONFIDENT:g} (probability of the chosen set; see alternatives.csv)")
        )
    u = solution.unexplained
    if u is not None:
        rows.append(
            (
                "unexplained signal",
                f"{int(u.flag.sum())} points flagged, {len(u.candidates)} unknown-phase candidates "
                "(see unexplained.csv)",
            )
        )
        for k, c in enumerate(u.candidates[:3]):
            best = c.get("matches") or []
            match = f"; best match {best[0]['label']} ({best[0]['score']:.2f})" if best else ""
            rows.append(
                (
                    f"  unknown {k + 1}",
                    f"{len(c['points'])} points, peaks at "
                    + ", ".join(f"{v:.2f}" for v in c["peaks"][:6])
                    + (" ..." if len(c["peaks"]) > 6 else "")
                    + match,
                )
            )
    return rows


def truth_tables(truth: Path | None, truth_shifts: Path | None):
    """Read (and so check) the truth before the long solve; a sibling shifts.csv is used too."""
    from .core import InputError
    from .io import read_fractions_csv, read_shifts_csv

    if truth is None:
        if truth_shifts is not None:
            raise InputError("--truth-shifts needs --truth", where="--truth-shifts")
        return None, None
    truth = Path(truth)
    for path, option in ((truth, "--truth"), (truth_shifts, "--truth-shifts")):
        if path is not None and not Path(path).is_file():
            problem = "is a folder, expected a CSV file" if Path(path).is_dir() else "no such file"
            raise InputError(problem, source=str(path), where=option)
    t = read_fractions_csv(truth)
    if truth_shifts is None and truth.name == "fractions.csv" and (truth.parent / "shifts.csv").is_file():
        truth_shifts = truth.parent / "shifts.csv"
    ts = read_shifts_csv(truth_shifts) if truth_shifts is not None else None
    return t, ts


def solve_to_dir(
    dataset,
    out: Path,
    *,
    device: str,
    seed: int,
    console: Console,
    err_console: Console,
    quiet: bool = False,
    truth=None,
    truth_shifts=None,
    truth_name: str = "truth",
    inputs: dict[str, Any] | None = None,
    resume: bool = False,
    notes: list[str] | None = None,
    engine: str = "search",
    extra_phases=None,
    workers: int = 0,
    ray_address: str | None = None,
) -> tuple[Any, list[Path], dict[str, Any] | None, bool]:
    """Solve a dataset, write its solution folder; returns (solution, files, comparison, interrupted).

    ``notes`` (what the reader noticed about the input) go into summary.json as ``warnings``;
    ``engine`` is the solver's (``"search"`` or ``"network"``).
    ``extra_phases`` (a PhaseLibrary) are ranked against the unknown-phase candidates.
    ``workers`` or ``ray_address``: the search's rounds run on Ray (the same answer).
    """
    from .core import InputError
    from .core.constants import PHASE_THRESHOLD
    from .evaluate import audit_solution, reconstruction_summary
    from .io import write_solution_dir

    if dataset.phases is None:
        raise InputError(
            "no candidate phases: pass --phases (a stick CSV or a folder of CIF files)",
            source=str(dataset.library.source or ""),
        )
    independent = bool(getattr(dataset, "independent", False))
    # Samples of unknown composition: no neighbours, the composition rules have no composition to act on,
    # and a phase seen in one sample alone is no stray of a region (the library-wide pruning asks for 3).
    alone: dict[str, Any] = (
        {
            "edges": np.zeros((0, 2), dtype=int),
            "composition_weight": 0.0,
            "composition_tolerance": None,
            "min_region_points": 1,
        }
        if independent
        else {}
    )
    checkpoint = Path(out) / CHECKPOINT
    if workers or ray_address is not None:
        alone.update(workers=workers, ray_address=ray_address)
    try:
        if independent and dataset.library.wavelength is not None:
            # lab samples at a known wavelength: the lab route (Kα2, instrument shifts, widths,
            # texture refined per sample; weight fractions), docs/lab_patterns.md
            from .solve import solve_samples

            sol = solve_samples(dataset.library, dataset.phases, mask=dataset.mask, max_phases=dataset.max_phases)
        else:
            sol = run_solver(
                dataset.library,
                dataset.phases,
                mask=dataset.mask,
                max_phases=dataset.max_phases,
                **alone,
                device=device,
                seed=seed,
                console=console,
                quiet=quiet,
                resume=resume,
                checkpoint=checkpoint,
                engine=engine,
            ).solution_
    except KeyboardInterrupt:
        # The solver keeps its best answer only once it has one; before that there is nothing to write.
        raise stop_interrupted(
            err_console, f"interrupted: the solver returned no answer yet, nothing written to {out}"
        ) from None
    if not sol.audit:  # the audit at the solver's presence threshold, so every answer is audited alike
        sol.audit = audit_solution(
            sol, dataset.library, None if independent else dataset.phases, threshold=PHASE_THRESHOLD
        )
    if extra_phases is not None:
        from .solve import rank_unknown_phases

        sol.unexplained = rank_unknown_phases(sol, dataset.library, extra_phases)
    interrupted = _interrupted(sol)
    if interrupted:
        sol.metadata = dict(sol.metadata or {}, interrupted=True)
    extra: dict[str, Any] = {"warnings": list(notes or [])}
    if inputs:
        extra["inputs"] = inputs
    rec = reconstruction_summary(dataset.library.patterns, sol.reconstruction)
    if rec is not None:
        extra["reconstruction"] = rec
    comparison = None
    if truth is not None:
        from .evaluate import compare

        comparison = compare(sol, truth, shifts=sol if truth_shifts is not None else None, truth_shifts=truth_shifts)
        extra["comparison"] = comparison
        extra["truth"] = truth_name
    try:
        files = write_solution_dir(
            out,
            dataset.library,
            dataset.phases,
            sol,
            mask=dataset.mask,
            max_phases=dataset.max_phases,
            extra_summary=extra,
            independent=independent,
        )
    except KeyboardInterrupt:
        raise stop_interrupted(
            err_console, f"interrupted while writing {out}: each file there is complete (new or from before)"
        ) from None
    if not interrupted and checkpoint.exists():
        checkpoint.unlink()  # finished: the answer is in the folder
    return sol, files, comparison, interrupted


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``drnets solve`` to the app."""

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    @app.command()
    def solve(
        inputs: list[Path] = typer.Argument(
            ...,
            help="Library: instance .txt, DRNets npy folder, pattern folder, native .h5 or a solution folder; "
            "several (or a quoted glob): one solution folder each under --out, with a summary.csv.",
        ),
        phases: Path | None = typer.Option(
            None, "--phases", "-p", help="Candidate phases: stick CSV or folder of CIF files."
        ),
        mask: Path | None = typer.Option(
            None, "--mask", help="Allowed-phase mask CSV (point, then one 0/1 column per phase)."
        ),
        wavelength: str | None = WavelengthOpt,
        x_unit: str | None = XUnitOpt,
        compositions: Path | None = CompositionsOpt,
        substrate: list[str] | None = SubstrateOpt,
        resample: bool = ResampleOpt,
        max_phases: int | None = MaxPhasesOpt,
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        engine: str = typer.Option(
            "search",
            "--engine",
            help="search (default: exact per-point search) or network (DRNets' encoder network, trained per library).",
        ),
        seed: int = typer.Option(0, "--seed", "-s", help="Random seed (network weights and batches; recorded)."),
        truth: Path | None = typer.Option(
            None,
            "--truth",
            "-t",
            help="Truth fractions CSV to compare with (a shifts.csv beside a fractions.csv is used too).",
        ),
        truth_shifts: Path | None = typer.Option(None, "--truth-shifts", help="Truth shifts CSV (same layout)."),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Output folder: fractions.csv, shifts.csv, evidence.csv, probabilities.csv, alternatives.csv, "
            "unexplained.csv, solution.h5, summary.json.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Write into a non-empty folder that is not an earlier solution folder."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no tables."),
        resume: bool = typer.Option(False, "--resume", help=f"Continue an interrupted run from OUT/{CHECKPOINT}."),
        extra_phases: Path | None = typer.Option(
            None,
            "--extra-phases",
            help="More structures (stick CSV or CIF folder), not candidates: ranked against the unknown phases.",
        ),
        workers: int = typer.Option(
            0,
            "--workers",
            min=0,
            help="Start a local Ray runtime with this many workers: one library's tiles, or several libraries, "
            "in parallel (the same answers; needs pip install 'drnets[ray]').",
        ),
        ray_address: str | None = typer.Option(
            None, "--ray-address", metavar="ADDR", help="Run on a running Ray cluster (e.g. auto, or HOST:PORT)."
        ),
    ) -> None:
        """Map the phases of a library: fractions and shifts at every point, with a rule audit.

        Ctrl-C stops the search: the best answer so far is written (exit status 130), and
        `--resume` continues from the last finished round.
        """
        from .evaluate._cli import check_truth, print_comparison
        from .io import check_output, removed_on_error

        device = check_device(device)
        seed = check_seed(seed)
        engine = check_engine(engine)
        paths = expand_inputs(inputs)
        reading = dict(
            wavelength=wavelength,
            x_unit=x_unit,
            compositions=compositions,
            substrates=substrate,
            resample=resample,
            max_phases=max_phases,
        )
        if len(paths) > 1:
            raise typer.Exit(
                _solve_batch(
                    paths,
                    phases,
                    mask,
                    truth,
                    truth_shifts,
                    out,
                    force,
                    quiet,
                    resume,
                    extra_phases,
                    workers,
                    ray_address,
                    device,
                    seed,
                    engine,
                    reading,
                )
            )
        input = paths[0]
        out = check_output(
            out, [input, phases, mask, truth, truth_shifts, compositions, extra_phases], "solution", force=force
        )
        t_true, t_shift = truth_tables(truth, truth_shifts)
        ds = load_input(input, phases=phases, mask=mask, **reading)
        if t_true is not None and ds.phases is not None:
            check_truth(t_true, ds.library.n_points, ds.phases.labels, truth)
        extra = None
        if extra_phases is not None:
            from .io import read_phases

            extra = read_phases(extra_phases, ds.library.elements)
        notes = print_notes(ds, err_console)
        prev = _previous_run(out)
        if prev is not None:
            if prev.get("interrupted") and not resume:
                err_console.print(
                    f"note: {out} holds an interrupted run; --resume continues it, this run starts over",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            elif not quiet:
                err_console.print(
                    f"note: replacing the solution in {out}", markup=False, highlight=False, soft_wrap=True
                )
        inputs = {
            "library": str(input),
            "phases": None if phases is None else str(phases),
            "mask": None if mask is None else str(mask),
            "truth": None if truth is None else str(truth),
            "compositions": None if compositions is None else str(compositions),
        }
        with removed_on_error(out):
            sol, files, comparison, interrupted = solve_to_dir(
                ds,
                out,
                device=device,
                seed=seed,
                console=console,
                err_console=err_console,
                quiet=quiet,
                truth=t_true,
                truth_shifts=t_shift,
                truth_name=str(truth),
                inputs=inputs,
                resume=resume,
                notes=notes,
                engine=engine,
                extra_phases=extra,
                workers=workers,
                ray_address=ray_address,
            )
        if not quiet:
            console.print(summary_table(sol, out, f"drnets solve: {input}"))
            if comparison is not None:
                print_comparison(comparison, console, str(truth))
            for p in files:
                say(f"wrote {p}")
        if interrupted:
            raise stop_interrupted(err_console, f"interrupted: wrote the best answer so far to {out}")


def _solve_batch(
    paths: list[Path],
    phases: Path | None,
    mask: Path | None,
    truth: Path | None,
    truth_shifts: Path | None,
    out: Path,
    force: bool,
    quiet: bool,
    resume: bool,
    extra_phases: Path | None,
    workers: int,
    ray_address: str | None,
    device: str,
    seed: int,
    engine: str,
    load_options: dict[str, Any],
) -> int:
    """``drnets solve`` with several inputs (:mod:`._solve_many`); returns the exit status."""
    from .core import InputError

    for option, value in (("--mask", mask), ("--truth", truth), ("--truth-shifts", truth_shifts)):
        if value is not None:
            raise InputError("is for one library; several inputs were given", where=option)
    console, err_console = Console(), Console(stderr=True)
    return solve_many(
        paths,
        out,
        load_options={"phases": phases, **{k: v for k, v in load_options.items() if v}},
        solve_options={
            "device": device,
            "seed": seed,
            "engine": engine,
            "resume": resume,
            "extra_phases": extra_phases,
        },
        checked=[phases, extra_phases],
        workers=workers,
        ray_address=ray_address,
        force=force,
        quiet=quiet,
        console=console,
        err_console=err_console,
    )
