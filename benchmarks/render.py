"""Render benchmark results (docs/benchmarks.json) as markdown tables and scaling plots.

    python benchmarks/render.py [--json docs/benchmarks.json] [--md docs/benchmarks.md]
                                [--png docs/scaling.png]

For each group one table holds the latest result of every (case, method), with the date,
machine, versions and command of the run(s) it came from. Only the text between ``<!-- bench:start -->`` and
``<!-- bench:end -->`` in the markdown file is replaced (the markers are appended when the
file has none); everything else in the file is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TITLES = {
    "alfe": "Al-Li-Fe (synthetic, ground truth)",
    "bicuv": "Bi-Cu-V (real data; against DRNets' published fractions, not a truth)",
    "presets": "Generator presets (drnets.synth, ground truth)",
    "scaling": "Scaling (generated 'standard' libraries, one knob at a time)",
}
NOTES = {
    "alfe": "The DRNets route uses DRNets' `sample_indicator.npy` mask, which also allows the 6 "
    "true phases at every point (as DRNets did); the instance route uses the element rule.",
    "bicuv": "Agreement with DRNets is not accuracy: Bi-Cu-V has no ground truth.",
    "scaling": "Middle setting N, P, L as in the row marked `middle`; P is padded with perturbed copies "
    "of the system's phases (distractors).",
}


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def latest_results(doc: dict[str, Any]) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Group -> [(session, result)]: the latest result of every (case, method) in the group."""
    out: dict[str, dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]] = {}
    for s in doc.get("sessions", []):
        for r in s.get("results", []):
            out.setdefault(r["group"], {})[(r["case"], r["method"])] = (s, r)
    return {g: list(v.values()) for g, v in out.items()}


def _machine_line(s: dict[str, Any]) -> str:
    m = s.get("machine", {})
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return (
        f"{s.get('date', '?')}; {m.get('cpu', '?')} ({m.get('cpu_count', '?')} cores){gpu}, "
        f"device `{m.get('device', '?')}`; Python {m.get('python', '?')}, NumPy {m.get('numpy', '?')}, "
        f"SciPy {m.get('scipy', '?')}, PyTorch {m.get('torch', '?')}; commit {m.get('git') or '?'}"
        f"{'; **quick sizes**' if s.get('quick') else ''}; command `{s.get('command', '?')}`"
    )


def table(group: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    sessions: list[dict[str, Any]] = []
    for s, _ in pairs:
        if not any(s is t for t in sessions):
            sessions.append(s)
    tag = {id(s): i + 1 for i, s in enumerate(sessions)}
    head = [
        "case",
        "method",
        "run",
        "N",
        "P",
        "L",
        "time (s)",
        "peak RSS (MB)",
        "exact 0.1%",
        "Jacc. 0.1%",
        "exact 2%",
        "Jacc. 2%",
        "frac. L1",
        "viol. G/A/C/comp",
        "recon. rel L2",
    ]
    if group == "scaling":
        head.insert(2, "sweep")
    lines = [f"### {TITLES.get(group, group)}", ""]
    lines += [f"Run {tag[id(s)]}: {_machine_line(s)}." for s in sessions]
    lines.append("")
    if group in NOTES:
        lines += [NOTES[group], ""]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for s, r in pairs:
        cells = [r["case"], r["method"]] + ([r["config"].get("sweep", "")] if group == "scaling" else [])
        cells.append(str(tag[id(s)]))
        if r.get("status") != "ok":
            cells += [f"**{r.get('status')}** after {_fmt(r.get('subprocess_s'), 0)} s"] + [""] * (
                len(head) - len(cells) - 1
            )
            lines.append("| " + " | ".join(cells) + " |")
            continue
        bt = r.get("by_threshold", {})
        lo, hi = bt.get("0.001", {}), bt.get("0.02", {})
        a = r.get("audit", {})
        viol = "/".join(_fmt(a.get(f"{k}_violations")) for k in ("gibbs", "alloying", "connectivity", "composition"))
        rec = r.get("reconstruction", {}) or {}
        mem = _fmt(r.get("peak_rss_mb"), 0)
        if r.get("cuda_max_memory_mb") is not None:
            mem += f" (GPU {_fmt(r['cuda_max_memory_mb'], 0)})"
        cells += [
            str(r.get("points")),
            str(r.get("phases")),
            str(r.get("q_points")),
            _fmt(r.get("wall_s"), 1),
            mem,
            _fmt(lo.get("exact_match")),
            _fmt(lo.get("mean_jaccard")),
            _fmt(hi.get("exact_match")),
            _fmt(hi.get("mean_jaccard")),
            _fmt(r.get("fraction_l1")),
            viol,
            _fmt(rec.get("rel_l2_mean")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    latest = latest_results(doc)
    parts = [
        "## Phase-mapping benchmarks",
        "",
        "Generated by `python benchmarks/render.py` from `docs/benchmarks.json` (written by "
        "`python benchmarks/run.py`); edit neither by hand. Exact match: share of points whose "
        "phase set (fraction above the threshold) equals the truth's; Jacc.: mean Jaccard index of "
        "the phase sets; frac. L1: sum over phases of |fraction error|, mean over points; "
        "viol.: Gibbs/alloying/connectivity/composition rule violations of the answer "
        "(`drnets.evaluate.audit`); recon. rel L2: mean relative L2 reconstruction error. "
        "Time is the fit alone (loading excluded); peak RSS is the run's own subprocess "
        "(Python, PyTorch and the data included). `baseline` is `benchmarks/baseline.py`: "
        "per-point NNLS over every allowed phase at every shift (±8 %, step 0.2 %, sigma 0.25 nm⁻¹ "
        "on Al-Li-Fe, estimated elsewhere), each phase's columns summed into one contribution, "
        "the largest contributions within the Gibbs limit kept, fractions = peak-height shares. "
        "Timings on a shared 2-core machine are indicative.",
        "",
    ]
    for g in ("alfe", "bicuv", "presets", "scaling"):
        if g in latest:
            parts.append(table(g, latest[g]))
    if "scaling" in latest:
        parts.append("![Fit time against N, P and L](scaling.png)\n")
    return "\n".join(parts)


def splice(text: str, block: str, start: str = START, end: str = END) -> str:
    """Replace the block between the ``start`` and ``end`` markers of ``text`` (or append one)."""
    new = f"{start}\n{block.rstrip()}\n{end}"
    if start in text and end in text and text.index(start) < text.index(end):
        a, b = text.index(start), text.index(end) + len(end)
        return text[:a] + new + text[b:]
    return text.rstrip("\n") + "\n\n" + new + "\n"


def plot_scaling(doc: dict[str, Any], path: Path) -> bool:
    pairs = latest_results(doc).get("scaling")
    if not pairs:
        return False
    latest = pairs[-1][0]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for _, r in pairs if r.get("status") == "ok"]
    if not rows:
        return False
    mid = {k: None for k in ("points", "phases", "q_points")}
    for r in rows:
        if r["config"].get("sweep") == "middle":
            mid = {k: r["config"][k] for k in mid}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
    names = {"points": "points N", "phases": "candidate phases P", "q_points": "Q points L"}
    for ax, knob in zip(axes, ("points", "phases", "q_points")):
        for method in sorted({r["method"] for r in rows}):
            pts = sorted(
                (r["config"][knob], r["wall_s"])
                for r in rows
                if r["method"] == method and r["config"].get("sweep") in (knob, "middle")
            )
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=method)
                for x_, y_ in pts:
                    ax.annotate(f"{y_:.0f} s", (x_, y_), textcoords="offset points", xytext=(4, -10), fontsize=8)
        others = ", ".join(f"{names[k].split()[-1]}={v}" for k, v in mid.items() if k != knob and v is not None)
        ax.set(xscale="log", yscale="log", xlabel=names[knob], ylabel="fit time (s)", title=others)
        # Label the measured sizes only: log-axis minor labels collide.
        xs = sorted({r["config"][knob] for r in rows if r["config"].get("sweep") in (knob, "middle")})
        ax.set_xticks(xs, [f"{v:g}" for v in xs])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.yaxis.set_minor_formatter(plt.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    m = latest.get("machine", {})
    fig.suptitle(
        f"drnets scaling, {latest.get('date', '')[:10]}, {m.get('device', '')}, {m.get('cpu', '')}"
        f"{' (quick sizes)' if latest.get('quick') else ''}",
        fontsize=9,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "docs" / "benchmarks.json"))
    ap.add_argument("--md", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--png", default=str(ROOT / "docs" / "scaling.png"))
    args = ap.parse_args(argv)
    doc = json.loads(Path(args.json).read_text(encoding="utf-8"))
    md = Path(args.md)
    text = md.read_text(encoding="utf-8") if md.exists() else ""
    new = splice(text, render_markdown(doc))
    fd, tmp = tempfile.mkstemp(dir=md.parent, suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(tmp, md)
    wrote_png = plot_scaling(doc, Path(args.png))
    print(f"wrote {md}" + (f" and {args.png}" if wrote_png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
