"""Build a solution report: one offline HTML page plus PNG figures."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError, Library, PhaseLibrary, Solution, render_contributions
from ..core.constants import PHASE_THRESHOLD, WEAK_EVIDENCE
from ..io import read_solution_dir
from . import _html as H
from . import _static as S
from ._confidence import confidence_section, point_lines
from ._layout import library_path, phase_colors

#: Sticks weaker than this (relative) are left out of the heat map.
STICK_MIN = 0.05
#: Most curve values the per-point viewer embeds (beyond it, every n-th Q point is kept).
VIEWER_VALUES = 3_000_000


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("drnets")
    except Exception:  # noqa: BLE001  (not installed as a distribution)
        return "unknown"


def _aligned_phases(phases: PhaseLibrary, labels: list[str]) -> PhaseLibrary:
    if list(phases.labels) == list(labels):
        return phases
    missing = [lbl for lbl in labels if lbl not in set(phases.labels)]
    if missing:
        raise InputError(f"the phase library lacks solution phase(s) {missing[:3]}")
    return phases.subset([phases.index(lbl) for lbl in labels])


def _evidence_note(solution: Solution, i: int, k: int) -> str:
    """ ", evidence 12.3" for a hover line; flagged where the data alone do not support the phase."""
    if solution.evidence is None:
        return ""
    ev = float(solution.evidence[i, k])
    return f", evidence {ev:.3g}" + (" (weak)" if ev < WEAK_EVIDENCE else "")


def _weight_note(solution: Solution, i: int, k: int) -> str:
    """ ", 23.4 ± 1.2 wt %" for a hover line where the solution has weight fractions."""
    if solution.weight_fractions is None:
        return ""
    w = 100 * float(solution.weight_fractions[i, k])
    err = solution.weight_fraction_errors
    return f", {w:.1f}" + (f" ± {100 * float(err[i, k]):.1f}" if err is not None else "") + " wt %"


def _truth_values(truth: Any | None, solution: Solution) -> np.ndarray | None:
    """True fractions (N, P) aligned with the solution's labels, or None."""
    if truth is None:
        return None
    from ..evaluate import as_phase_table

    return as_phase_table(truth).aligned(np.arange(solution.n_points), solution.labels)


def _round(a: np.ndarray, top: float) -> list[float]:
    d = int(max(0, 3 - np.floor(np.log10(max(top, 1e-12)))))
    return np.round(np.asarray(a, dtype=float), min(d, 12)).tolist()


def _sticks(phase, shift: float, q: np.ndarray, min_rel: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    s = shift if np.isfinite(shift) else 1.0
    pos = phase.q * s
    keep = (pos >= q[0]) & (pos <= q[-1]) & (phase.intensity >= min_rel)
    return pos[keep], phase.intensity[keep]


def build_report(
    library: Library,
    phases: PhaseLibrary,
    solution: Solution,
    out_dir: str | Path,
    *,
    title: str | None = None,
    truth: Any | None = None,
    metrics: dict[str, Any] | None = None,
    threshold: float = PHASE_THRESHOLD,
) -> dict[str, Any]:
    """Write ``report.html`` and the PNG figures for a solution into ``out_dir``.

    Parameters
    ----------
    library, phases, solution
        The library solved, its candidate phases (any order; matched to the solution's
        labels) and the solution.
    out_dir : path
        Created if needed.
    title : str, optional
    truth : fractions-like, optional
        A truth to compare with (anything :func:`drnets.evaluate.as_phase_table` reads).
    metrics : dict, optional
        A ready :func:`drnets.evaluate.compare` result (used when ``truth`` is None).
    threshold : float
        Fraction above which a phase is drawn as present.

    Returns
    -------
    dict
        ``html`` (path), ``png`` (dict of name to path), ``audit``, ``reconstruction`` and
        ``comparison`` (when a truth or metrics were given).
    """
    from ..evaluate import audit_solution, compare, reconstruction_errors

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if solution.n_points != library.n_points:
        raise InputError(f"the solution has {solution.n_points} points, the library {library.n_points}")
    ph = _aligned_phases(phases, solution.labels)
    labels = solution.labels
    q = library.q
    comp = library.compositions
    elements = library.elements
    frac = np.nan_to_num(solution.fractions)
    present = frac > threshold
    active = [int(k) for k in np.argsort(-frac.sum(axis=0), kind="stable") if present[:, k].any()]
    colors = phase_colors(labels, active)
    title = title or f"drnets report: {library.source or 'library'}"
    partial = bool((solution.metadata or {}).get("interrupted"))
    if partial:  # said first: the page shows an interrupted run's best answer so far
        title = f"PARTIAL ANSWER (interrupted run) - {title}"

    # Reconstruction and contributions per point.
    # (only the non-zero rows are kept: a solution over a whole candidate library has P in the hundreds)
    contribs: list[dict[int, np.ndarray]] = []
    recon_rows = []
    for i in range(solution.n_points):
        full = render_contributions(solution, ph, q, i)
        contribs.append({int(k): full[k] for k in np.flatnonzero(full.any(axis=1))})
        recon_rows.append(full.sum(axis=0))
    recon = solution.reconstruction if solution.reconstruction is not None else np.stack(recon_rows)
    rec = reconstruction_errors(library.patterns, recon)
    aud = solution.audit or audit_solution(solution, library, ph)
    comparison = compare(solution, truth) if truth is not None else metrics

    # PNGs.
    png: dict[str, Path] = {}
    png["phase_map"] = S.phase_map(
        out / "phase_map.png", elements, comp, frac, labels, colors, threshold=threshold, title="phase map"
    )
    png["fraction_maps"] = S.value_maps(
        out / "fraction_maps.png",
        elements,
        comp,
        frac,
        labels,
        active,
        present=present,
        what="phase fractions",
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        colors=colors,
    )
    png["shift_maps"] = S.value_maps(
        out / "shift_maps.png",
        elements,
        comp,
        solution.shifts,
        labels,
        active,
        present=present & np.isfinite(solution.shifts),
        what="lattice shifts (Q scale; 1 = library position)",
        cmap="RdYlBu_r",
        colors=colors,
        centre=1.0,
    )
    order = library_path(comp)
    path_sticks = []
    for row, i in enumerate(order):
        for k in np.flatnonzero(present[i]):
            pos, h = _sticks(ph[int(k)], solution.shifts[i, k], q, STICK_MIN)
            path_sticks.append((row, int(k), pos, h))
    png["heatmap"] = S.path_heatmap(out / "heatmap.png", q, library.patterns, order, path_sticks, labels, colors)
    worst = int(rec["worst_points"][0]) if rec["worst_points"] else 0

    def point_parts(i: int):
        ks = [int(k) for k in np.flatnonzero(present[i])]
        c = {k: contribs[i][k] for k in ks if k in contribs[i]}
        st = {k: _sticks(ph[k], solution.shifts[i, k], q) for k in ks}
        return c, st

    c_w, s_w = point_parts(worst)
    png["worst_point"] = S.point_figure(
        out / "worst_point.png",
        q,
        library.patterns[worst],
        recon[worst],
        c_w,
        s_w,
        labels,
        colors,
        f"point {worst} (largest relative L2 residual {rec['rel_l2'][worst]:.3g})",
    )

    # Viewer data.
    def name(i: int) -> str:
        return " ".join(f"{e}{comp[i, m]:.3f}" for m, e in enumerate(elements))

    # The viewer's curves are thinned to keep the page small on large libraries.
    n_curves = sum(2 + len(point_parts(i)[0]) for i in range(solution.n_points))
    stride = max(1, int(np.ceil(n_curves * q.size / VIEWER_VALUES)))
    hover, points = [], []
    for i in range(solution.n_points):
        c, st = point_parts(i)
        top = float(max(library.patterns[i].max(initial=0), recon[i].max(initial=0), 1e-12))
        fr = {k: float(frac[i, k]) for k in np.flatnonzero(present[i])}
        lines = [
            f"{labels[k]}: {100 * v:.1f} %"
            + (f", shift {solution.shifts[i, k]:.4f}" if np.isfinite(solution.shifts[i, k]) else "")
            + _evidence_note(solution, i, k)
            + _weight_note(solution, i, k)
            for k, v in sorted(fr.items(), key=lambda kv: -kv[1])
        ]
        hover.append(f"point {i}<br>{name(i)}<br>" + "<br>".join(html.escape(s) for s in lines))
        mp = solution.max_phases[i] if solution.max_phases is not None else None
        info = (
            f"point {i}   {name(i)}   phases {len(fr)}"
            + (f" (limit {int(mp)})" if mp is not None else "")
            + f"   rel. L1 {rec['rel_l1'][i]:.4f}   rel. L2 {rec['rel_l2'][i]:.4f}\n"
            + "\n".join(lines + point_lines(solution, i))
        )
        points.append(
            {
                "name": name(i),
                "x": _round(library.patterns[i][::stride], top),
                "r": _round(recon[i][::stride], top),
                "c": {str(k): _round(v[::stride], top) for k, v in c.items()},
                "f": {str(k): round(v, 5) for k, v in fr.items()},
                "s": {
                    str(k): (round(float(solution.shifts[i, k]), 6) if np.isfinite(solution.shifts[i, k]) else None)
                    for k in fr
                },
                "k": {str(k): [np.round(p, 4).tolist(), np.round(h, 3).tolist()] for k, (p, h) in st.items()},
                "info": info,
            }
        )
    data = {
        "q": np.round(q[::stride], 5).tolist(),
        "stride": stride,
        "labels": labels,
        "colors": [colors[lbl] for lbl in labels],
        "points": points,
        "order": [int(i) for i in order],
        "map": np.round(H.map_coordinates(elements, comp), 5).tolist(),
        "mapkind": H.map_kind(elements),
        "ternary": len(elements) == 3,
        "worst": worst,
        "start": worst,
    }

    # Plotly figures.
    map_fig = H.map_figure(elements, comp, frac, labels, colors, threshold, hover)
    heat_fig = H.heatmap_figure(q, library.patterns, order, path_sticks, labels, colors)
    map_html = map_fig.to_html(full_html=False, include_plotlyjs=False, div_id="phase-map")
    heat_html = heat_fig.to_html(full_html=False, include_plotlyjs=False, div_id="heatmap")

    # Tables.
    phase_rows = []
    weak_all = solution.weakly_supported()
    for k in active:
        on = present[:, k]
        sh = solution.shifts[on, k]
        sh = sh[np.isfinite(sh)]
        sw = f'<span class=swatch style="background:{colors[labels[k]]}"></span>{html.escape(labels[k])}'
        weak = "–" if weak_all is None else int((on & weak_all[:, k]).sum())
        phase_rows.append(
            [
                sw,
                ph[k].formula,
                int(on.sum()),
                weak,
                float(frac[on, k].max()),
                float(frac[on, k].mean()),
                f"{sh.min():.4f} – {sh.max():.4f}" if sh.size else "–",
                f"{solution.widths[k, 0]:.3g} – {solution.widths[k, 1]:.3g}",
                *([float(solution.weight_fractions[on, k].mean())] if solution.weight_fractions is not None else []),
            ]
        )
    phase_table = H.table(
        phase_rows,
        [
            "phase",
            "formula",
            "points",
            f"weakly supported (evidence < {WEAK_EVIDENCE:g})",
            "max fraction",
            "mean fraction (present)",
            "shift range",
            "peak σ (nm⁻¹, low–high Q)",
            *(["mean weight fraction (present)"] if solution.weight_fractions is not None else []),
        ],
        raw_cols=(0,),
    )
    counts = np.bincount(present.sum(axis=1), minlength=1)
    overview = H.table(
        [
            *([["status", "interrupted: a partial answer (the search stopped early)"]] if partial else []),
            ["library", library.source or "–"],
            ["elements", " ".join(elements)],
            ["points", solution.n_points],
            ["Q grid", f"{q.size} points, {q[0]:g} – {q[-1]:g} nm⁻¹"],
            ["candidate phases", len(labels)],
            ["phases used", len(active)],
            ["points per phase count", ", ".join(f"{n}: {int(c)}" for n, c in enumerate(counts))],
            *(
                [["weight fractions", str(solution.metadata["weight_fractions"])]]
                if "weight_fractions" in (solution.metadata or {})
                else []
            ),
            ["reconstruction rel. L1 (library)", rec["rel_l1_total"]],
            ["reconstruction rel. L2 (library)", rec["rel_l2_total"]],
            ["mean symmetric KL", rec["sym_kl_mean"]],
            ["worst points (rel. L2)", ", ".join(str(i) for i in rec["worst_points"])],
        ]
    )
    rules = ("gibbs", "alloying", "connectivity", "composition")
    audit_rows = []
    for r in rules:
        if f"{r}_violations" in aud:
            chk = aud.get("checked", {}).get(r, True)
            detail = {
                "gibbs": "gibbs_points",
                "alloying": "alloying_edges",
                "connectivity": "connectivity_regions",
                "composition": "composition_points",
            }[r]
            lst = aud.get(detail, [])
            if r == "connectivity":
                lst = [{"phases": d.get("phases"), "components": d.get("components")} for d in lst]
            audit_rows.append([r, aud[f"{r}_violations"] if chk else "not checked", H._fmt(lst[:20]) if lst else ""])
    if "total_violations" in aud:
        audit_rows.append(["total", aud["total_violations"], ""])
    settings = {k: aud[k] for k in ("threshold", "shift_tol", "composition_tol") if k in aud}
    audit_html = H.table(audit_rows, ["rule", "violations", "where (first 20)"]) if audit_rows else "<p>no audit</p>"
    audit_html += f"<p class=muted>settings: {html.escape(json.dumps(settings))}</p>" if settings else ""
    meta_html = H.table(H.flatten(solution.metadata)) if solution.metadata else "<p class=muted>no run metadata</p>"
    meta_html += H.table(
        [
            ["report written by", f"drnets {_version()}"],
            ["report written at", time.strftime("%Y-%m-%d %H:%M:%S %Z")],
            ["report threshold (presence)", threshold],
        ]
    )
    sections = [
        ("overview", "Overview", overview),
        ("map", "Phase map", map_html),
        (
            "point-viewer",
            "Point viewer",
            H.VIEWER_HTML
            + (f"<p class=muted>curves show every {stride}th Q point (large library)</p>" if stride > 1 else ""),
        ),
        ("heatmap-section", "Patterns along the library", heat_html),
        (
            "phase-map-static",
            "Phase map with phase fractions (PNG)",
            f"<div style='max-width:820px'>{H.png_tag(png['phase_map'], 'phase map', 'phase-map-png')}</div>",
        ),
        ("fractions", "Fraction maps", H.png_tag(png["fraction_maps"], "fraction maps", "fraction-maps-png")),
        ("shifts", "Shift maps", H.png_tag(png["shift_maps"], "shift maps", "shift-maps-png")),
        ("phases", "Phases", phase_table),
        ("audit", "Rule audit", audit_html),
    ]
    if comparison:
        rows = [
            [
                f"{b['threshold']:g}",
                f"{100 * b['exact_match']:.1f} %",
                b["mean_jaccard"],
                len(b["mismatched_points"]),
                H._fmt(b.get("confusion", {})),
            ]
            for b in comparison.get("by_threshold", [])
        ]
        body = H.table(
            rows,
            ["threshold", "exact phase-set match", "mean Jaccard", "mismatched points", "missed → predicted instead"],
        )
        body += (
            f"<p>fraction L1 (sum over phases, mean over points): {comparison.get('fraction_l1', float('nan')):.4f}</p>"
        )
        if comparison.get("shift"):
            body += f"<p>shift error: {html.escape(json.dumps(comparison['shift']))}</p>"
        sections.append(("metrics", "Comparison with the truth", body))
    sure = confidence_section(out, solution, elements, comp, _truth_values(truth, solution))
    if sure is not None:
        sections.append(("confidence", "Confidence and unexplained signal", sure[0]))
        png.update(sure[1])
    sections.append(("metadata", "Run metadata", meta_html))
    page = H.page(title, sections, data)
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return {"html": html_path, "png": png, "audit": aud, "reconstruction": rec, "comparison": comparison}


def make_report(
    solution_dir: str | Path,
    out_dir: str | Path,
    *,
    library: Library | None = None,
    phases: PhaseLibrary | None = None,
    truth: Any | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Report a solver output folder (``solution.h5``, ``fractions.csv``, ``shifts.csv``, ``summary.json``).

    The native ``solution.h5`` supplies the library, phases and solution. Without it, pass
    ``library`` and ``phases``: the solution is then rebuilt from the CSVs
    (:meth:`drnets.io.SolutionDir.solution_from_tables`).
    """
    if not Path(solution_dir).is_dir():
        raise InputError("not a solution folder", source=str(solution_dir))
    folder = read_solution_dir(solution_dir)
    summary = folder.summary
    solution = None
    if folder.h5 is not None and (library is None or phases is None):
        ds = folder.dataset
        library = library or ds.library
        phases = phases or ds.phases
        solution = ds.solution
    if library is None or phases is None:
        if folder.h5 is not None:
            raise InputError("solution.h5 holds no phase library: pass the phases", source=str(folder.h5))
        raise InputError("the folder holds no solution.h5: pass the library and phases", source=str(folder.source))
    if solution is None:
        solution = folder.solution_from_tables(library)
    if not solution.metadata and isinstance(summary.get("metadata"), dict):
        solution.metadata = dict(summary["metadata"])
    if not solution.audit and isinstance(summary.get("audit"), dict):
        solution.audit = dict(summary["audit"])
    if solution.weight_fractions is None and folder.weight_fractions is not None:
        # solution.h5 does not hold them: weight_fractions.csv (and its errors) do
        pts = np.arange(solution.n_points)
        solution.weight_fractions = np.nan_to_num(folder.weight_fractions.aligned(pts, solution.labels))
        if folder.weight_fraction_errors is not None:
            solution.weight_fraction_errors = np.nan_to_num(folder.weight_fraction_errors.aligned(pts, solution.labels))
        if "weight_fractions" in summary:
            solution.metadata = {**(solution.metadata or {}), "weight_fractions": summary["weight_fractions"]}
    metrics = summary.get("comparison") or summary.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        metrics = None
    if metrics is not None and "by_threshold" not in metrics:
        metrics = None
    return build_report(library, phases, solution, out_dir, title=title, truth=truth, metrics=metrics)
