"""benchmarks/diagnose.py: the kinds of error and the solver's own verdict on them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks import diagnose  # noqa: E402


def test_prototype_of_a_label_ignores_the_look_alike_suffix():
    assert diagnose._prototype("ZnO_rocksalt-2") == diagnose._prototype("MgO_rocksalt") == "rocksalt"
    assert diagnose._prototype("ZnO_wurtzite") != diagnose._prototype("ZnO_rocksalt")


def test_a_library_solved_exactly_has_nothing_to_diagnose():
    out = diagnose.diagnose(3, 30, 300, "easy", {})
    assert out["exact2"] == 1.0 and out["wrong"] == 0
    assert out["kinds"] == {} and out["verdict"] == {}


def test_a_wrong_answer_is_named_and_costed():
    # Polishing off and one round: the hard preset's small library keeps some wrong points.
    out = diagnose.diagnose(0, 40, 300, "hard", {"polish": 0, "rounds": 1})
    assert out["wrong"] > 0
    assert sum(out["verdict"].values()) == out["wrong"]
    assert out["kinds"].get("added", 0) + out["kinds"].get("missed minor", 0) + out["kinds"].get("missed major", 0) > 0
