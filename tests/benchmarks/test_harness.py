"""The benchmark harness's pure parts: case lists, distractor padding, markdown splicing."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.render import END, START, render_markdown, splice  # noqa: E402
from benchmarks.run import case_specs, pad_phases  # noqa: E402


def test_case_specs_groups_and_sweep():
    specs = case_specs(["alfe", "bicuv", "presets", "scaling"], True, ["solver", "baseline"], 0)
    groups = [s["group"] for s in specs]
    assert groups.count("alfe") == 4 and groups.count("bicuv") == 2 and groups.count("presets") == 6
    sweep = [s for s in specs if s["group"] == "scaling"]
    assert len(sweep) == 7 and {s["method"] for s in sweep} == {"solver"}
    assert sum(s["sweep"] == "middle" for s in sweep) == 1


def test_pad_phases_adds_unique_distractors():
    from drnets.synth import generate

    ds, _ = generate("easy", points=10, q_points=100)
    padded = pad_phases(ds.phases, 25, 0)
    assert len(padded) == 25 and len(set(padded.labels)) == 25
    assert padded.labels[: len(ds.phases)] == ds.phases.labels


def test_splice_replaces_only_the_marked_block():
    text = "# Title\n\n## Generator speed\n\nkeep me\n"
    once = splice(text, "A")
    assert once.startswith(text.rstrip("\n")) and f"{START}\nA\n{END}" in once
    twice = splice(once + "\ntail\n", "B")
    assert "A" not in twice.split("keep me")[1].split("tail")[0] and "keep me" in twice and twice.endswith("tail\n")


def test_render_markdown_tables():
    rec = {
        "group": "presets",
        "case": "easy",
        "method": "baseline",
        "config": {},
        "status": "ok",
        "points": 3,
        "phases": 2,
        "q_points": 10,
        "wall_s": 0.5,
        "peak_rss_mb": 100.0,
        "fraction_l1": 0.1,
        "by_threshold": {
            "0.001": {"exact_match": 1.0, "mean_jaccard": 1.0},
            "0.02": {"exact_match": 1.0, "mean_jaccard": 1.0},
        },
        "audit": {"gibbs_violations": 0},
        "reconstruction": {"rel_l2_mean": 0.01},
    }
    doc = {"sessions": [{"date": "d", "command": "c", "machine": {"cpu": "x"}, "results": [rec]}]}
    md = render_markdown(doc)
    assert "| easy | baseline | 1 | 3 | 2 | 10 | 0.5 |" in md and "Generator presets" in md
