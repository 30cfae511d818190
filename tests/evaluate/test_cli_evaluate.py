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
