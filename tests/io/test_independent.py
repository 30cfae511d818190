"""Patterns without compositions are independent samples: no neighbours, every phase allowed, ``--max-phases``;
a solution from pattern files carries ``points.csv`` (which file each point is)."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from drnets.cli import run
from drnets.core import InputError
from drnets.io import load, read_solution_dir
from drnets.io._points_csv import read_points_csv
from drnets.synth import write_synthetic


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """Six patterns of a small generated library as Q files (nm⁻¹), no compositions; its sticks beside."""
    root = tmp_path_factory.mktemp("samples")
    write_synthetic(root / "lib", "easy", points=6, q_points=100, seed=1)
    ds = load(root / "lib" / "library.h5")
    folder = root / "patterns"
    folder.mkdir()
    for i, row in enumerate(ds.library.patterns):
        np.savetxt(folder / f"sample {i + 1}.xy", np.column_stack([ds.library.q, row]), header="Q (nm^-1) intensity")
    return root


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def test_without_compositions_the_system_is_the_phases(samples):
    sticks = samples / "lib" / "sticks.csv"
    ds = load(samples / "patterns", phases=sticks)
    lib = load(samples / "lib" / "library.h5")
    assert ds.independent and ds.library.n_points == 6
    assert ds.library.elements == lib.library.elements  # the phases' cations, sorted
    assert np.allclose(ds.library.compositions, 1 / len(ds.library.elements))  # a placeholder: all present alike
    assert ds.max_phases.tolist() == [3] * 6 and ds.mask is None
    assert list(ds.library.metadata["sample"]) == [f"sample {i}" for i in range(1, 7)]  # numbers by value
    assert load(samples / "patterns", phases=sticks, max_phases=1).max_phases.tolist() == [1] * 6
    with pytest.raises(InputError, match="max_phases must be a whole number"):
        load(samples / "patterns", max_phases=0)
    alone = load(samples / "patterns")  # no phases: a placeholder element, and no warning about it
    assert alone.library.elements == ("E1",) and not any("element names unknown" in w for w in alone.warnings)


def test_solve_independent_samples_writes_points_csv(samples, tmp_path):
    out = tmp_path / "sol"
    argv = ["solve", str(samples / "patterns"), "--phases", str(samples / "lib" / "sticks.csv")]
    code, _, err = _run([*argv, "--max-phases", "2", "--device", "cpu", "--out", str(out), "-q"])
    assert code == 0, err
    assert "independent samples" in err
    names, elements, comps = read_points_csv(out / "points.csv")
    assert names == [f"sample {i}" for i in range(1, 7)] and elements == () and comps is None
    sol = read_solution_dir(out)
    assert sol.points[0] == names
    frac = sol.fractions.values
    assert np.all((frac > 0).sum(axis=1) <= 2)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audit"]["connectivity_violations"] == 0 and summary["audit"]["alloying_violations"] == 0
    assert not summary["audit"]["checked"]["composition"]
    ds = sol.dataset
    assert ds.independent and ds.solution.edges.size == 0  # kept in solution.h5, and solved without neighbours
    code, text, err = _run(["info", str(out), "--json"])
    assert code == 0, err
    assert json.loads(text)["independent_samples"] is True


def test_with_compositions_points_csv_has_them(samples, tmp_path):
    folder = tmp_path / "with"
    shutil.copytree(samples / "patterns", folder)
    lib = load(samples / "lib" / "library.h5").library
    rows = ["sample," + ",".join(lib.elements)]
    rows += [f"sample {i + 1}," + ",".join(f"{v:.10g}" for v in c) for i, c in enumerate(lib.compositions)]
    (folder / "compositions.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "sol"
    code, _, err = _run(
        [
            "solve",
            str(folder),
            "--phases",
            str(samples / "lib" / "sticks.csv"),
            "--device",
            "cpu",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert code == 0, err
    names, elements, comps = read_points_csv(out / "points.csv")
    assert elements == lib.elements and np.allclose(comps, lib.compositions)
    assert not load(folder).independent


def test_points_csv_errors(tmp_path):
    bad = tmp_path / "points.csv"
    for text, message in (
        ("pt,name\n", "header"),
        ("point,name,Fe\n0,a\n", "2 fields, expected 3"),
        ("point,name\n1,a\n", "point '1' where point 0"),
        ("point,name,Fe\n0,a,x\n", "non-numeric"),
    ):
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            read_points_csv(bad)
