"""The panel's pure parts: the two halves, the summary and its markdown."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.panel import HALVES, markers, panel_specs, render_half, summarize  # noqa: E402
from benchmarks.render import splice  # noqa: E402


def test_halves_are_disjoint_and_sized():
    tune, report = panel_specs("tune", False), panel_specs("report", False)
    assert len(tune) == len(report) == 16 + 9
    key = {(s["kind"], s.get("preset"), s["seed"]) for s in tune}
    assert not key & {(s["kind"], s.get("preset"), s["seed"]) for s in report}
    assert set(HALVES["tune"]["random"]).isdisjoint(HALVES["report"]["random"])
    quick = panel_specs("tune", True)
    assert len(quick) == 8 and all(s["points"] <= 100 for s in quick)
    assert {s["seed"] for s in quick if s["kind"] == "random"} <= set(HALVES["tune"]["random"])


def _rec(case, kind, preset, exact2, gross, points=100):
    return {
        "case": case,
        "config": {"kind": kind, "preset": preset},
        "status": "ok",
        "points": points,
        "phases": 8,
        "q_points": 400,
        "wall_s": 1.0,
        "by_threshold": {"0.001": {"exact_match": exact2}, "0.02": {"exact_match": exact2}},
        "gross_error_share": gross,
        "fraction_l1": 0.1,
        "shift_mae": 0.001,
        "audit": {"gibbs_violations": 0, "composition_violations": 2},
        "truth_audit": {"composition_violations": 1},
    }


def test_summary_and_markdown():
    res = [
        _rec("random seed 100", "random", None, 0.9, 0.0, 300),
        _rec("random seed 101", "random", None, 0.5, 0.2, 100),
        _rec("hard seed 0", "preset", "hard", 0.7, 0.1),
        {"case": "random seed 102", "config": {"kind": "random"}, "status": "timeout", "subprocess_s": 900},
    ]
    s = summarize(res[:2] + res[3:])
    assert s["libraries"] == 3 and s["failed"] == 1
    assert s["mean_exact_2pct"] == 0.7 and s["worst_exact_2pct"] == 0.5 and s["worst_case"] == "random seed 101"
    assert abs(s["gross_error_share"] - 0.05) < 1e-12  # pooled over points: 20 of 400
    assert s["flags"] == [0, 0, 0, 4] and s["truth_flags"] == [0, 0, 0, 2]
    session = {"half": "tune", "tag": "baseline", "results": res, "machine": {}, "total_s": 10.0}
    md = render_half(session)
    assert "| random systems | 3 (1) | 0.700 | 0.500 (random seed 101) |" in md
    assert "| preset hard | 1 (0) |" in md and "**timeout**" in md
    start, end = markers("tune", "baseline")
    doc = splice("intro\n" + f"{start}\nold\n{end}\n" + "outro\n", md, start, end)
    assert "old" not in doc and doc.startswith("intro") and doc.endswith("outro\n")
