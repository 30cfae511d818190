"""``drnets solve`` over several libraries (one folder each, a summary), and Ray kept out of plain runs."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import drnets._solve_command
from drnets.cli import run
from drnets.core import InputError
from drnets.synth import write_synthetic


@pytest.fixture(scope="module")
def libs(tmp_path_factory) -> list[Path]:
    """Two tiny libraries, each a folder with its library.h5."""
    root = tmp_path_factory.mktemp("libs")
    for k in (1, 2):
        write_synthetic(root / f"lib{k}", "easy", points=8, q_points=150, seed=k)
    return [root / f"lib{k}" / "library.h5" for k in (1, 2)]


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = run(argv)
    monkeypatch.undo()
    return code, out.getvalue(), err.getvalue()


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv") as f:
        return list(csv.DictReader(f))


def test_several_inputs_each_get_a_folder_and_a_summary_row(libs, tmp_path, monkeypatch):
    out = tmp_path / "batch"
    pattern = str(libs[0].parent.parent / "lib*" / "library.h5")  # a quoted glob, expanded by drnets
    code, text, err = _run(["solve", pattern, "--device", "cpu", "--out", str(out)], monkeypatch)
    assert code == 0, err
    rows = _rows(out)
    assert [r["library"] for r in rows] == ["lib1-library", "lib2-library"]  # same stem: the folder's name in front
    assert all(r["status"] == "done" and r["points"] == "8" for r in rows)
    assert "2 libraries" in text and "lib2-library" in text
    # each folder holds what a solve of that library alone writes
    one = tmp_path / "one"
    assert _run(["solve", str(libs[1]), "--device", "cpu", "--out", str(one), "-q"], monkeypatch)[0] == 0
    for f in ("fractions.csv", "shifts.csv", "evidence.csv"):
        assert (out / "lib2-library" / f).read_bytes() == (one / f).read_bytes()


def test_a_bad_input_stops_the_batch_before_anything_is_solved(libs, tmp_path, monkeypatch):
    bad = tmp_path / "bad.h5"
    bad.write_text("not a library")
    out = tmp_path / "batch"
    code, _, err = _run(["solve", str(libs[0]), str(bad), "--device", "cpu", "--out", str(out), "-q"], monkeypatch)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(bad) in lines[0]
    assert not out.exists()
    code, _, err = _run(["solve", str(tmp_path / "no*.h5"), "--out", str(out)], monkeypatch)
    assert code == 2 and "no file or folder matches" in err


def test_a_library_that_fails_is_named_and_the_others_go_on(libs, tmp_path, monkeypatch):
    real = drnets._solve_command.solve_to_dir

    def fails_on_lib1(ds, out, **kw):
        if "lib1" in str(out):
            raise InputError("the solver gave up", source=str(ds.library.source))
        return real(ds, out, **kw)

    monkeypatch.setattr(drnets._solve_command, "solve_to_dir", fails_on_lib1)
    out = tmp_path / "batch"
    code, _, err = _run(["solve", *map(str, libs), "--device", "cpu", "--out", str(out), "-q"], monkeypatch)
    assert code == 2
    assert "error:" in err and str(libs[0]) in err and "the solver gave up" in err
    rows = {r["library"]: r for r in _rows(out)}
    assert rows["lib1-library"]["status"].startswith("failed") and rows["lib2-library"]["status"] == "done"
    assert not (out / "lib1-library").exists() and (out / "lib2-library" / "fractions.csv").is_file()


def test_one_library_options_are_refused_with_several_inputs(libs, tmp_path, monkeypatch):
    truth = libs[0].parent / "truth" / "fractions.csv"
    argv = ["solve", *map(str, libs), "--truth", str(truth), "--out", str(tmp_path / "o")]
    code, _, err = _run(argv, monkeypatch)
    assert code == 2 and "--truth" in err and "several inputs" in err


def test_workers_without_ray_installed_is_one_line(libs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as where it is not installed
    out = tmp_path / "o"
    code, _, err = _run(
        ["solve", str(libs[0]), "--device", "cpu", "--workers", "2", "--out", str(out), "-q"], monkeypatch
    )
    assert code == 2 and "Ray is not installed" in err and "drnets[ray]" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_plain_solve_never_imports_ray(libs, tmp_path):
    code = (
        "import sys; from drnets.cli import run; "
        f"assert run(['solve', {str(libs[0])!r}, '--device', 'cpu', '--out', {str(tmp_path / 'o')!r}, '-q']) == 0; "
        "assert 'ray' not in sys.modules, 'ray was imported'"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
