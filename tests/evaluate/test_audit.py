"""Exact rule audit on hand-made answers and on the Al-Li-Fe truth."""

from __future__ import annotations

import json

import numpy as np

from drnets.core import Library, Solution
from drnets.evaluate import audit, audit_solution, audit_summary

# A path of 5 points: 0-1-2-3-4, binary system A-B.
EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
COMP = np.array([[1.0, 0.0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.0, 1.0]])
PCOMP = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.0, 0.0]])  # A, B, AB, substrate


def test_clean_answer_has_no_violations():
    f = np.array([[1, 0, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 1, 0], [0, 0.5, 0.5, 0], [0, 1, 0, 0]], float)
    sh = np.where(f > 0, 1.0, np.nan)
    a = audit(f, sh, COMP, EDGES, np.array([1, 2, 2, 2, 1]), PCOMP)
    assert audit_summary(a) == {
        "gibbs_violations": 0,
        "alloying_violations": 0,
        "connectivity_violations": 0,
        "composition_violations": 0,
        "total_violations": 0,
    }
    json.dumps(a)  # JSON-ready


def test_gibbs_counts_points_over_the_limit():
    f = np.array([[0.5, 0.5, 0, 0], [0.4, 0.3, 0.3, 0], [0, 0, 1, 0], [0, 0.5, 0.5, 0], [0, 1, 0, 0]])
    a = audit(f, None, COMP, EDGES, np.array([1, 2, 2, 2, 1]), None)
    assert a["gibbs_violations"] == 2 and a["gibbs_points"] == [0, 1]
    assert a["checked"]["alloying"] is False and a["checked"]["composition"] is False


def test_threshold_decides_presence():
    f = np.array([[0.995, 0.005, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    assert audit(f, None, COMP, EDGES, 1, None, threshold=0.01)["gibbs_violations"] == 0
    assert audit(f, None, COMP, EDGES, 1, None, threshold=0.001)["gibbs_violations"] == 1


def test_alloying_only_when_both_ends_are_full():
    f = np.array([[1, 0, 0, 0]] * 5, float)
    sh = np.array([[1.0], [1.0], [1.05], [1.05], [1.005]]) * np.array([[1, np.nan, np.nan, np.nan]])
    # Limit 1 everywhere: both ends full; 1-2 shifts 5 %, 3-4 about 4.4 %.
    a = audit(f, sh, COMP, EDGES, 1, None, labels=["A", "B", "AB", "S"])
    assert a["alloying_violations"] == 2
    assert a["alloying_edges"] == [[1, 2, ["A"]], [3, 4, ["A"]]]
    # Limit 2 at point 2: edge 1-2 and 2-3 have a free end; 3-4 stays.
    a = audit(f, sh, COMP, EDGES, np.array([1, 1, 2, 1, 1]), None)
    assert a["alloying_violations"] == 1 and a["alloying_edges"][0][:2] == [3, 4]
    # Under tolerance: nothing.
    assert audit(f, sh, COMP, EDGES, 1, None, shift_tol=0.06)["alloying_violations"] == 0


def test_connectivity_counts_extra_components_of_phases_and_fields():
    f = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]], float)
    a = audit(f, None, COMP, EDGES, 2, None, labels=["A", "B", "AB", "S"])
    # A at {0, 2, 4}: 3 components (2 extra); B at {1, 3}: 2 components (1 extra).
    assert a["connectivity_violations"] == 3
    assert {tuple(r["phases"]): r["components"] for r in a["connectivity_regions"]} == {("A",): 3, ("B",): 2}
    # A two-phase field split in two: A+B at 0 and 2, A alone elsewhere (B split too).
    f = np.array([[0.5, 0.5, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    a = audit(f, None, COMP, EDGES, 2, None, labels=["A", "B", "AB", "S"])
    assert a["connectivity_violations"] == 2
    assert a["connectivity_regions"] == [
        {"phases": ["B"], "components": 2, "points": [0, 2]},
        {"phases": ["A", "B"], "components": 2, "points": [0, 2]},
    ]


def test_composition_rule_uses_the_cone_and_ignores_substrate():
    f = np.array([[1, 0, 0, 0.5], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0.5, 0, 0, 0.5]], float)
    a = audit(f, None, COMP, EDGES, 3, PCOMP, labels=["A", "B", "AB", "S"])
    # Point 1 (0.75, 0.25) with AB only: distance ~0.354; point 4 (0, 1) with A: distance sqrt(2)... 1.
    # Point 3 has only the substrate: not checked. Point 0 with A + S: fine.
    pts = {d["point"]: d for d in a["composition_points"]}
    assert set(pts) == {1, 4}
    assert np.isclose(pts[1]["distance"], np.sqrt(2) * 0.25)
    assert pts[4]["phases"] == ["A"]
    assert audit(f, None, COMP, EDGES, 3, PCOMP, composition_tol=0.4)["composition_violations"] == 1


def test_defaults_derive_graph_and_limits():
    f = np.array([[1, 0, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 1, 0], [0, 0.5, 0.5, 0], [0, 1, 0, 0]], float)
    a = audit(f, None, COMP, None, None, PCOMP)
    assert a["total_violations"] == 0


def test_audit_solution_wrapper():
    lib = Library(("A", "B"), COMP, np.linspace(10, 20, 11), np.ones((5, 11)))
    f = np.array([[1, 0, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 1, 0], [0, 0.5, 0.5, 0], [0, 0.6, 0, 0.4]], float)
    sol = Solution(
        ["A", "B", "AB", "S"],
        f,
        np.where(f > 0, 1.0, np.nan),
        f,
        np.full((4, 2), 0.25),
        edges=EDGES,
        max_phases=np.array([1, 2, 2, 2, 2]),
    )
    a = audit_solution(sol, lib)
    assert a["total_violations"] == 0 and a["checked"]["composition"] is False


def test_al_li_fe_truth_obeys_gibbs_and_connectivity(alfe_instance):
    from tests.evaluate.test_metrics import read_truth_aligned

    d = alfe_instance
    f = read_truth_aligned(d.phases.labels)
    a = audit(f, None, d.library.compositions, None, None, d.phases.compositions, labels=d.phases.labels)
    assert a["gibbs_violations"] == 0
    assert a["connectivity_violations"] == 0
    assert a["phases_used"] == 6
