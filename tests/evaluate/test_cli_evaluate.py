"""``drnets evaluate`` on a solution folder and on a bare CSV."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from drnets.cli import app
from tests.conftest import shared_path


def test_evaluate_csv_against_truth(tmp_path):
    pred = shared_path("al-li-fe", "drnets-result", "phase_sets.csv")
    truth = shared_path("al-li-fe", "truth", "fractions.csv")
    out = tmp_path / "e.json"
    r = CliRunner().invoke(app, ["evaluate", str(pred), "--truth", str(truth), "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert "98.7 %" in r.output and "80.1 %" in r.output
    assert "gross errors" in r.output
    data = json.loads(out.read_text())
    assert data["comparison"]["by_threshold"][0]["exact_match_points"] == 228


def test_evaluate_solution_folder_shows_audit(tmp_path):
    (tmp_path / "fractions.csv").write_text("point,A,B\n0,1,0\n1,0.5,0.5\n2,0,1\n")
    (tmp_path / "shifts.csv").write_text("point,A,B\n0,1.0,\n1,1.0,1.0\n2,,1.0\n")
    audit = {
        "gibbs_violations": 0,
        "alloying_violations": 1,
        "connectivity_violations": 0,
        "composition_violations": 0,
        "total_violations": 1,
    }
    (tmp_path / "summary.json").write_text(json.dumps({"audit": audit, "metadata": {"seed": 1}}))
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--json", str(tmp_path / "e.json")])
    assert r.exit_code == 0, r.output
    assert "alloying" in r.output and "rule audit" in r.output
    data = json.loads((tmp_path / "e.json").read_text())
    assert data["audit"]["total_violations"] == 1 and data["metadata"] == {"seed": 1}
    assert data["phases_per_point"]["0.02"] == {"0": 0, "1": 2, "2": 1}


def test_evaluate_missing_file_is_an_input_error(tmp_path):
    import pytest

    from drnets.cli import main

    with pytest.raises(SystemExit) as e:
        main(["evaluate", str(tmp_path / "nope.csv")])
    assert e.value.code == 2


def _folder(tmp_path, interrupted=False):
    tmp_path.mkdir()
    (tmp_path / "fractions.csv").write_text("point,A,B\n0,1,0\n1,0.5,0.5\n2,0,1\n")
    (tmp_path / "summary.json").write_text(json.dumps({"interrupted": interrupted, "audit": {}}))
    return tmp_path


def _main(argv, capsys):
    import pytest

    from drnets.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code, capsys.readouterr()


def test_truth_of_another_library_is_refused(tmp_path, capsys):
    sol = _folder(tmp_path / "sol")
    wrong_points = tmp_path / "t4.csv"
    wrong_points.write_text("point,A,B\n0,1,0\n1,0.5,0.5\n2,0,1\n3,1,0\n")
    wrong_labels = tmp_path / "tx.csv"
    wrong_labels.write_text("point,X,Y\n0,1,0\n1,0.5,0.5\n2,0,1\n")
    shifted = tmp_path / "t1.csv"
    shifted.write_text("point,A,B\n1,1,0\n2,0.5,0.5\n3,0,1\n")
    for truth, words in (
        (wrong_points, ("4 points", "3")),
        (wrong_labels, ("no phase label in common", "X")),
        (shifted, ("points",)),
    ):
        code, cap = _main(["evaluate", str(sol), "--truth", str(truth)], capsys)
        assert code == 2
        lines = cap.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {truth}: ")
        assert all(w in lines[0] for w in words), lines[0]
        assert "exact match" not in cap.out  # no table of zeros


def test_interrupted_answer_is_marked(tmp_path, capsys):
    sol = _folder(tmp_path / "sol", interrupted=True)
    code, cap = _main(["evaluate", str(sol), "--json", str(tmp_path / "e.json")], capsys)
    assert code == 0
    first = [ln for ln in cap.out.splitlines() if ln.strip()][0]
    assert "PARTIAL ANSWER" in first
    assert "INTERRUPTED" in cap.out
    assert json.loads((tmp_path / "e.json").read_text())["interrupted"] is True
    code, cap = _main(["evaluate", str(_folder(tmp_path / "done"))], capsys)
    assert code == 0 and "PARTIAL" not in cap.out and "INTERRUPTED" not in cap.out
