"""``drnets solve`` and ``drnets demo`` end to end on tiny synthetic libraries."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from drnets.cli import app, main
from drnets.core import Solution
from drnets.io import load, read_fractions_csv, read_shifts_csv
from drnets.synth import write_synthetic


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory):
    lib = tmp_path_factory.mktemp("lib")
    write_synthetic(lib, "easy", points=24, q_points=300, seed=1)
    return lib


@pytest.fixture(scope="module")
def solved(tiny_library, tmp_path_factory):
    out = tmp_path_factory.mktemp("sol") / "solution"
    r = CliRunner().invoke(
        app,
        [
            "solve",
            str(tiny_library / "instance.txt"),
            "--phases",
            str(tiny_library / "sticks.csv"),
            "--device",
            "cpu",
            "--seed",
            "3",
            "--truth",
            str(tiny_library / "truth" / "fractions.csv"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    return out, r.output


def test_solve_writes_its_files(solved):
    out, text = solved
    for name in ("fractions.csv", "shifts.csv", "evidence.csv", "solution.h5", "summary.json"):
        assert (out / name).is_file(), name
        assert str(out / name) in text.replace("\n", "")
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind
    assert "phases used" in text and "exact match" in text


def test_fractions_and_shifts_csv(solved, tiny_library):
    out, _ = solved
    frac = read_fractions_csv(out / "fractions.csv")
    shifts = read_shifts_csv(out / "shifts.csv")
    phases = load(tiny_library / "instance.txt", phases=tiny_library / "sticks.csv").phases
    assert frac.labels and set(frac.labels) <= set(phases.labels)
    assert frac.labels == [lbl for lbl in phases.labels if lbl in frac.labels]  # library order
    assert shifts.labels == frac.labels
    np.testing.assert_array_equal(frac.points, np.arange(24))
    np.testing.assert_array_equal(shifts.points, np.arange(24))
    np.testing.assert_allclose(frac.values.sum(axis=1), 1.0, atol=1e-4)
    assert np.all(frac.values.max(axis=0) > 0)  # only phases active somewhere
    absent = frac.values == 0
    assert np.all(np.isnan(shifts.values[absent]))
    assert np.all(np.isfinite(shifts.values[~absent]))
    import csv

    with open(out / "shifts.csv", newline="") as fh:
        cells = np.array([row[1:] for row in list(csv.reader(fh))[1:]], dtype=object)
    assert np.all(cells[absent] == "") and np.all(cells[~absent] != "")


def test_evidence_csv(solved):
    out, text = solved
    ev = read_shifts_csv(out / "evidence.csv")  # same layout as shifts.csv: empty where absent
    frac = read_fractions_csv(out / "fractions.csv")
    assert ev.labels == frac.labels
    present = frac.values > 0
    assert np.all(np.isnan(ev.values[~present]))
    assert np.all(ev.values[present] >= 0)
    s = json.loads((out / "summary.json").read_text())
    assert s["evidence"]["weak_entries"] == int((ev.values[present] < 1).sum())
    assert "weakly supported" in text


def test_solution_h5_reloads(solved):
    out, _ = solved
    ds = load(out / "solution.h5")
    assert isinstance(ds.solution, Solution) and ds.phases is not None
    frac = read_fractions_csv(out / "fractions.csv")
    cols = [ds.solution.labels.index(lbl) for lbl in frac.labels]
    np.testing.assert_allclose(ds.solution.fractions[:, cols], frac.values, atol=1e-5)
    others = np.setdiff1d(np.arange(len(ds.solution.labels)), cols)
    assert np.all(ds.solution.fractions[:, others] == 0)
    assert ds.library.n_points == 24


def test_summary_json(solved):
    out, _ = solved
    s = json.loads((out / "summary.json").read_text())
    for key in ("audit", "device", "seed", "version", "wall_time_s", "parameters", "inputs", "reconstruction"):
        assert key in s, key
    assert s["device"] == "cpu" and s["seed"] == 3 and s["interrupted"] is False
    assert "total_violations" in s["audit"]
    assert s["comparison"]["points"] == 24 and s["comparison"]["by_threshold"]
    assert s["inputs"]["phases"].endswith("sticks.csv")
    assert 0 <= s["reconstruction"]["rel_l2_mean"] < 1


def test_solve_writes_the_confidence_files_and_counts(solved, tiny_library):
    out, text = solved
    for name in ("probabilities.csv", "alternatives.csv", "unexplained.csv"):
        assert (out / name).is_file(), name
    flat = " ".join(text.split())
    assert "points below 0.9" in flat and "points flagged" in flat
    s = json.loads((out / "summary.json").read_text())
    assert {"uncertain_points", "flagged_points", "unknown_phases"} <= set(s["confidence"])
    r = CliRunner().invoke(app, ["evaluate", str(out), "--truth", str(tiny_library / "truth" / "fractions.csv")])
    assert r.exit_code == 0, r.output
    assert "calibration error (ECE)" in " ".join(r.output.split())


def test_evaluate_reads_the_solution_folder(solved, tiny_library):
    out, _ = solved
    r = CliRunner().invoke(app, ["evaluate", str(out), "--truth", str(tiny_library / "truth" / "fractions.csv")])
    assert r.exit_code == 0, r.output
    assert "rule audit" in r.output


def _run_main(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code, capsys.readouterr()


def test_missing_input_is_one_line_exit_2(tmp_path, capsys):
    code, cap = _run_main(["solve", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert cap.err.strip().count("\n") == 0 and "nope.txt" in cap.err
    assert not (tmp_path / "o").exists()


def test_corrupt_instance_is_one_line_exit_2(tmp_path, tiny_library, capsys):
    bad = tmp_path / "instance.txt"
    bad.write_text("this is not\nan instance file\n\x00garbage=1,2,x\n")
    code, cap = _run_main(
        ["solve", str(bad), "--phases", str(tiny_library / "sticks.csv"), "--out", str(tmp_path / "o")], capsys
    )
    assert code == 2
    assert cap.err.startswith("error: ") and cap.err.strip().count("\n") == 0
    assert not (tmp_path / "o" / "solution.h5").exists()


def test_bad_device_and_missing_truth_are_input_errors(tmp_path, tiny_library, capsys):
    base = [
        "solve",
        str(tiny_library / "instance.txt"),
        "--phases",
        str(tiny_library / "sticks.csv"),
        "--out",
        str(tmp_path / "o"),
    ]
    code, cap = _run_main(base + ["--device", "tpu"], capsys)
    assert code == 2 and "--device" in cap.err
    code, cap = _run_main(base + ["--truth", str(tmp_path / "none.csv")], capsys)
    assert code == 2 and "none.csv" in cap.err


class _FakeMapper:
    """Stands in for PhaseMapper: reports progress, then 'is interrupted' with a partial answer."""

    def __init__(self, device="auto", seed=0, callback=None, **kw):
        self.device, self.seed, self.callback = device, seed, callback

    def fit(self, library, phases, mask=None, max_phases=None, resume=False):
        n, p = library.n_points, len(phases)
        if self.callback is not None:
            self.callback("search", 1, 3, {"mean_rel_l2": 0.5, "violations": 2})
        frac = np.zeros((n, p))
        frac[:, 0] = 1.0
        shifts = np.where(frac > 0, 1.0, np.nan)
        self.solution_ = Solution(
            phases.labels,
            frac,
            shifts,
            frac * library.patterns.max(axis=1, keepdims=True),
            np.full((p, 2), 0.2),
            residuals=np.full(n, 0.5),
            max_phases=max_phases,
            metadata={"version": "test", "seed": self.seed, "device": "cpu", "wall_time_s": 0.01, "interrupted": True},
        )
        return self


def test_interrupted_run_is_written_exit_130_and_noticed(tmp_path, tiny_library, monkeypatch):
    import drnets.solve as solver

    monkeypatch.setattr(solver, "PhaseMapper", _FakeMapper)
    out = tmp_path / "o"
    args = [
        "solve",
        str(tiny_library / "instance.txt"),
        "--phases",
        str(tiny_library / "sticks.csv"),
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 130, r.output
    assert "interrupted" in r.output
    assert "INTERRUPTED: a partial answer" in r.output  # the table's first row says so
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["audit"]  # audited even though the solver gave none
    frac = read_fractions_csv(out / "fractions.csv")
    assert len(frac.labels) == 1
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 130
    assert "interrupted run" in r.output


def test_demo_writes_everything(tmp_path):
    out = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--points", "30", "--q-points", "400", "--out", str(out), "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert (out / "library" / "truth" / "fractions.csv").is_file()
    for name in ("fractions.csv", "shifts.csv", "solution.h5", "summary.json"):
        assert (out / "solution" / name).is_file()
    assert (out / "report" / "report.html").is_file()
    s = json.loads((out / "solution" / "summary.json").read_text())
    assert s["comparison"]["points"] == 30 and "shift" in s["comparison"]
    assert "exact match" in r.output and "report.html" in r.output.replace("\n", "")


class _NoAnswerMapper(_FakeMapper):
    def fit(self, library, phases, mask=None, max_phases=None, resume=False):
        raise KeyboardInterrupt


def test_interrupt_before_any_answer_writes_nothing(tmp_path, tiny_library, monkeypatch):
    import drnets.solve as solver

    monkeypatch.setattr(solver, "PhaseMapper", _NoAnswerMapper)
    out = tmp_path / "o"
    r = CliRunner().invoke(
        app,
        [
            "solve",
            str(tiny_library / "instance.txt"),
            "--phases",
            str(tiny_library / "sticks.csv"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert r.exit_code == 130
    assert "nothing written" in r.output
    assert not (out / "solution.h5").exists()


def test_interrupt_then_resume_finishes_the_run(tmp_path, tiny_library, monkeypatch):
    import drnets.solve as solver

    real = solver.PhaseMapper

    class StopsAfterRoundOne(real):
        def _report(self, stage, done, total, info):
            super()._report(stage, done, total, info)
            if stage == "search" and done == 2:
                raise KeyboardInterrupt

    out = tmp_path / "o"
    args = [
        "solve",
        str(tiny_library / "instance.txt"),
        "--phases",
        str(tiny_library / "sticks.csv"),
        "--device",
        "cpu",
        "--out",
        str(out),
        "--quiet",
    ]
    monkeypatch.setattr(solver, "PhaseMapper", StopsAfterRoundOne)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 130, r.output
    assert (out / "checkpoint.npz").is_file()
    monkeypatch.setattr(solver, "PhaseMapper", real)
    r = CliRunner().invoke(app, args + ["--resume"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is False
    assert {"resumed_after_round": 1} in s["metadata"]["history"]
    assert not (out / "checkpoint.npz").exists()
