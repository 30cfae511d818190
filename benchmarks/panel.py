"""The panel: the solver on generated libraries it was not developed on.

    python benchmarks/panel.py [--half tune|report] [--quick] [--tag latest] [--device auto]
                               [--timeout S] [--out docs/panel.json] [--md docs/benchmarks.md]
                               [--render-only] [--params JSON]

Each half of the panel is 16 random chemical systems (``drnets synth --system random``,
conditions drawn from the seed too) plus the easy, standard and hard presets at three
seeds each. The seeds are fixed here and written down in benchmarks/README.md:

- **tune**: random systems seeds 100-115, presets seeds 0-2 (look at these while tuning);
- **report**: random systems seeds 200-215, presets seeds 3-5 (run only to report; never
  looked at while tuning).

Only the half asked for is run, printed and rendered (``--half tune`` is the default).
``--quick`` runs 8 small libraries of the chosen half (6 random systems at 100 points and
400 Q points, standard and hard at 60 points) for day-to-day work; it writes to
``/tmp/drnets_panel_quick.json`` and renders nothing unless ``--out``/``--md`` say so.

Every library runs in its own subprocess with a time limit (``benchmarks/run.py``'s worker).
Recorded per library: exact phase-set match at 0.1 % and 2 %, the gross-error share
(points where a phase is above 10 % on one side, truth or answer, and under 1 % on the
other), fraction L1, shift MAE, the audit's rule flags of the answer and of the truth
itself, time. Sessions are appended to the JSON file; the markdown section between
``<!-- panel-HALF-TAG:start -->`` and ``<!-- panel-HALF-TAG:end -->`` is replaced.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402
from benchmarks.render import _fmt, _machine_line, splice  # noqa: E402

HALVES = {
    "tune": {"random": tuple(range(100, 116)), "presets": (0, 1, 2)},
    "report": {"random": tuple(range(200, 216)), "presets": (3, 4, 5)},
}
PRESETS = ("easy", "standard", "hard")
QUICK_RANDOM, QUICK_POINTS, QUICK_PRESET_POINTS, QUICK_Q = 6, 100, 60, 400
QUICK_OUT = Path("/tmp/drnets_panel_quick.json")
RULES = ("gibbs", "alloying", "connectivity", "composition")


def panel_specs(half: str, quick: bool, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The (library, solver) runs of one half, as specs ``benchmarks/run.py``'s worker takes;
    ``params`` are solver parameters that differ from the defaults."""
    seeds = HALVES[half]

    def spec(case: str, kind: str, preset: str | None, seed: int, points: int) -> dict[str, Any]:
        return {
            "group": "panel",
            "case": case,
            "method": "solver",
            "kind": kind,
            "preset": preset,
            "seed": seed,
            "quick": quick,
            "points": points if quick else None,
            "q_points": QUICK_Q if quick else None,
            "params": dict(params or {}),
        }

    specs = [
        spec(f"random seed {s}", "random", None, s, QUICK_POINTS)
        for s in (seeds["random"][:QUICK_RANDOM] if quick else seeds["random"])
    ]
    for preset in ("standard", "hard") if quick else PRESETS:
        for s in seeds["presets"][:1] if quick else seeds["presets"]:
            specs.append(spec(f"{preset} seed {s}", "preset", preset, s, QUICK_PRESET_POINTS))
    return specs


# --------------------------------------------------------------------------- summary


def _exact(r: dict[str, Any], thr: str) -> float:
    return float(r.get("by_threshold", {}).get(thr, {}).get("exact_match", np.nan))


def _flags(audit: dict[str, Any] | None) -> list[int]:
    return [int((audit or {}).get(f"{k}_violations", 0)) for k in RULES]


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Panel figures over a list of library records (failed runs counted, not averaged)."""
    ok = [r for r in results if r.get("status") == "ok"]
    out: dict[str, Any] = {"libraries": len(results), "failed": len(results) - len(ok)}
    if not ok:
        return out
    e2 = np.array([_exact(r, "0.02") for r in ok])
    worst = int(np.nanargmin(e2))
    points = np.array([r["points"] for r in ok], dtype=float)
    gross = np.array([r.get("gross_error_share", np.nan) for r in ok])
    shift = np.array([np.nan if r.get("shift_mae") is None else r["shift_mae"] for r in ok])
    out.update(
        {
            "mean_exact_2pct": float(np.nanmean(e2)),
            "worst_exact_2pct": float(e2[worst]),
            "worst_case": ok[worst]["case"],
            "mean_exact_01pct": float(np.nanmean([_exact(r, "0.001") for r in ok])),
            "gross_error_share": float(np.nansum(gross * points) / points[np.isfinite(gross)].sum()),
            "mean_fraction_l1": float(np.mean([r["fraction_l1"] for r in ok])),
            "mean_shift_mae": float(np.nanmean(shift)) if np.isfinite(shift).any() else None,
            "flags": [int(v) for v in np.sum([_flags(r.get("audit")) for r in ok], axis=0)],
            "truth_flags": [int(v) for v in np.sum([_flags(r.get("truth_audit")) for r in ok], axis=0)],
            "time_s": float(np.sum([r["wall_s"] for r in ok])),
        }
    )
    return out


def _groups(results: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    rnd = [r for r in results if r["config"].get("kind") == "random"]
    out = [("random systems", rnd)] if rnd else []
    for p in PRESETS:
        rows = [r for r in results if r["config"].get("kind") == "preset" and r["config"].get("preset") == p]
        if rows:
            out.append((f"preset {p}", rows))
    out.append(("all", results))
    return out


# --------------------------------------------------------------------------- markdown


def render_half(session: dict[str, Any]) -> str:
    """Markdown of one panel session: per-library rows and the summary by group."""
    half, res = session["half"], session["results"]
    seeds = HALVES[half]
    lines = [
        f"### Panel, {half} half{' (quick)' if session.get('quick') else ''}"
        f"{', ' + session['tag'] if session.get('tag') not in (None, 'latest') else ''}",
        "",
        f"Seeds: random systems {seeds['random'][0]}-{seeds['random'][-1]}, presets "
        f"{seeds['presets'][0]}-{seeds['presets'][-1]}. Run: {_machine_line(session)}; "
        f"panel total {_fmt(session.get('total_s'), 0)} s wall.",
        "",
        "| group | libraries (failed) | mean exact 2% | worst exact 2% | mean exact 0.1% | gross errors "
        "| mean frac. L1 | mean shift MAE | flags G/A/C/comp | truth's flags G/A/C/comp | fit time (s) |",
        "|" + " --- |" * 11,
    ]
    for name, rows in _groups(res):
        s = summarize(rows)
        if "mean_exact_2pct" not in s:
            lines.append(f"| {name} | {s['libraries']} ({s['failed']}) |" + " |" * 9)
            continue
        lines.append(
            f"| {name} | {s['libraries']} ({s['failed']}) | {_fmt(s['mean_exact_2pct'])} | "
            f"{_fmt(s['worst_exact_2pct'])} ({s['worst_case']}) | {_fmt(s['mean_exact_01pct'])} | "
            f"{100 * s['gross_error_share']:.1f} % | {_fmt(s['mean_fraction_l1'])} | "
            f"{_fmt(s['mean_shift_mae'], 4)} | {'/'.join(map(str, s['flags']))} | "
            f"{'/'.join(map(str, s['truth_flags']))} | {_fmt(s['time_s'], 0)} |"
        )
    lines += [
        "",
        "| library | system | N | P | L | SNR | time (s) | exact 0.1% | exact 2% | gross errors | frac. L1 "
        "| shift MAE | flags G/A/C/comp | truth's flags |",
        "|" + " --- |" * 14,
    ]
    for r in res:
        if r.get("status") != "ok":
            lines.append(
                f"| {r['case']} | **{r.get('status')}** after {_fmt(r.get('subprocess_s'), 0)} s |" + " |" * 12
            )
            continue
        snr = r.get("snr")
        lines.append(
            f"| {r['case']} | {r.get('system', '')} | {r['points']} | {r['phases']} | {r['q_points']} | "
            f"{'–' if snr is None else f'{snr:.0f}'} | {_fmt(r['wall_s'], 1)} | {_fmt(_exact(r, '0.001'))} | "
            f"{_fmt(_exact(r, '0.02'))} | {100 * r.get('gross_error_share', np.nan):.1f} % | "
            f"{_fmt(r['fraction_l1'])} | {_fmt(r.get('shift_mae'), 4)} | "
            f"{'/'.join(map(str, _flags(r.get('audit'))))} | {'/'.join(map(str, _flags(r.get('truth_audit'))))} |"
        )
    return "\n".join(lines) + "\n"


def markers(half: str, tag: str) -> tuple[str, str]:
    return f"<!-- panel-{half}-{tag}:start -->", f"<!-- panel-{half}-{tag}:end -->"


def latest_session(doc: dict[str, Any], half: str, tag: str) -> dict[str, Any] | None:
    found = [s for s in doc.get("sessions", []) if s.get("half") == half and s.get("tag", "latest") == tag]
    return found[-1] if found else None


def write_markdown(md: Path, session: dict[str, Any]) -> None:
    text = md.read_text(encoding="utf-8") if md.exists() else ""
    start, end = markers(session["half"], session.get("tag", "latest"))
    bench._write_text(md, splice(text, render_half(session), start, end))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=tuple(HALVES), default="tune", help="which half of the panel (default tune)")
    ap.add_argument("--quick", action="store_true", help="8 small libraries of the half")
    ap.add_argument("--tag", default="latest", help="name of the markdown block (e.g. baseline); default latest")
    ap.add_argument("--device", default="auto", help="solver device: auto, cpu or cuda")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per library (default 900, quick 300)")
    ap.add_argument("--out", default=None, help="JSON file (default docs/panel.json; quick: /tmp)")
    ap.add_argument("--md", default=None, help="markdown file (default docs/benchmarks.md; quick: none)")
    ap.add_argument("--render-only", action="store_true", help="re-render the half's latest session, run nothing")
    ap.add_argument(
        "--params", default="{}", help="solver parameters other than the defaults, as JSON (e.g. '{\"rounds\": 4}')"
    )
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else (QUICK_OUT if args.quick else ROOT / "docs" / "panel.json")
    md = Path(args.md) if args.md else (None if args.quick else ROOT / "docs" / "benchmarks.md")
    doc = bench._load_doc(out, fmt="drnets-panel/1")
    if args.render_only:
        session = latest_session(doc, args.half, args.tag)
        if session is None:
            print(f"no {args.half} session tagged {args.tag!r} in {out}")
            return 1
    else:
        timeout = args.timeout or (300.0 if args.quick else 900.0)
        session = {
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": "python benchmarks/panel.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "half": args.half,
            "tag": args.tag,
            "quick": bool(args.quick),
            "timeout_s": timeout,
            "machine": bench.machine_info(args.device),
            "results": [],
        }
        doc["sessions"].append(session)
        session["params"] = json.loads(args.params)
        bench.run_specs(panel_specs(args.half, args.quick, session["params"]), session, doc, out, timeout, args.device)
    print()
    print(render_half(session))
    if md is not None:
        write_markdown(md, session)
        print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
