"""The solution folder: write_solution_dir and read_solution_dir agree, with and without solution.h5."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drnets.core import InputError, Library, Phase, PhaseLibrary, Solution
from drnets.io import read_solution_dir, read_summary, write_solution_dir

NAN = np.nan


def _solved():
    """Three points, three candidates of which one is never used."""
    lib = Library(
        ("Fe", "Ni"),
        [[1, 0], [0.5, 0.5], [0, 1]],
        [10.0, 10.5, 11.0],
        np.arange(1.0, 10.0).reshape(3, 3),
        source="tiny",
    )
    ph = PhaseLibrary(
        [
            Phase("FeO_1", "FeO", [10.2], [1.0]),
            Phase("Fe2O3_2", "Fe2O3", [10.6], [1.0]),
            Phase("NiO_3", "NiO", [10.4], [2.0]),
        ],
        ("Fe", "Ni"),
    )
    frac = np.array([[1.0, 0, 0], [0.4, 0, 0.6], [0, 0, 1.0]])
    sol = Solution(
        labels=ph.labels,
        fractions=frac,
        shifts=np.where(frac > 0, [[1.01], [0.99], [1.002]], NAN),
        amplitudes=3 * frac,
        widths=np.array([[0.2, 0.3], [0.25, 0.25], [0.21, 0.22]]),
        reconstruction=np.arange(1.0, 10.0).reshape(3, 3) + 0.1,
        residuals=np.array([0.01, 0.02, 0.03]),
        evidence=np.where(frac > 0, [[5.0], [0.5], [30.0]], 0.0),
        audit={"gibbs_violations": 0, "total_violations": 0},
        metadata={"seed": 7, "device": "cpu"},
    )
    return lib, ph, sol


@pytest.fixture()
def written(tmp_path):
    lib, ph, sol = _solved()
    files = write_solution_dir(tmp_path / "sol", lib, ph, sol, extra_summary={"truth": "none"})
    return tmp_path / "sol", files, (lib, ph, sol)


def test_round_trip(written):
    folder, files, (lib, ph, sol) = written
    assert [p.name for p in files] == ["fractions.csv", "shifts.csv", "solution.h5", "summary.json", "evidence.csv"]
    back = read_solution_dir(folder)
    used = ["FeO_1", "NiO_3"]  # only the phases present somewhere, in library order
    for table in (back.fractions, back.shifts, back.evidence):
        assert table.labels == used
        np.testing.assert_array_equal(table.points, np.arange(3))
    cols = [0, 2]
    np.testing.assert_allclose(back.fractions.values, sol.fractions[:, cols], rtol=1e-6)
    present = sol.fractions[:, cols] > 0
    np.testing.assert_allclose(back.shifts.values[present], sol.shifts[:, cols][present], rtol=1e-6)
    assert np.all(np.isnan(back.shifts.values[~present]))
    np.testing.assert_allclose(back.evidence.values[present], sol.evidence[:, cols][present], rtol=1e-6)
    assert np.all(np.isnan(back.evidence.values[~present]))
    assert back.summary == json.loads((folder / "summary.json").read_text())
    assert back.summary["phases_used"] == used and back.summary["truth"] == "none"
    full = back.dataset.solution
    assert full.labels == sol.labels
    np.testing.assert_array_equal(full.fractions, sol.fractions)
    assert back.dataset.library.n_points == 3 and back.dataset.phases.labels == ph.labels


def test_csv_cells_are_six_digits_and_empty_where_absent(written):
    folder, _, _ = written
    assert (folder / "shifts.csv").read_text().splitlines() == [
        "point,FeO_1,NiO_3",
        "0,1.01,",
        "1,0.99,0.99",
        "2,,1.002",
    ]


def test_folder_without_solution_h5_reads(written):
    folder, _, (lib, ph, sol) = written
    (folder / "solution.h5").unlink()
    back = read_solution_dir(folder)
    assert back.h5 is None and back.dataset is None
    rebuilt = back.solution_from_tables(lib)
    assert rebuilt.labels == ["FeO_1", "NiO_3"]
    np.testing.assert_allclose(rebuilt.fractions, sol.fractions[:, [0, 2]], rtol=1e-6)
    np.testing.assert_allclose(rebuilt.evidence, sol.evidence[:, [0, 2]], rtol=1e-6)
    assert rebuilt.audit == sol.audit and rebuilt.metadata["seed"] == 7
    # summary.json's widths are every candidate's (3 rows) and do not fit the 2 columns: the default is used
    np.testing.assert_array_equal(rebuilt.widths, np.full((2, 2), 0.25))
    (folder / "summary.json").unlink()
    (folder / "evidence.csv").unlink()
    back = read_solution_dir(folder)
    assert back.summary == {} and back.evidence is None and back.shifts.labels == ["FeO_1", "NiO_3"]


def test_bare_fractions_csv_reads(tmp_path):
    p = tmp_path / "pred.csv"
    p.write_text("point,A,B\n3,1,0\n5,0.5,0.5\n")
    back = read_solution_dir(p)
    assert back.fractions.labels == ["A", "B"] and back.fractions.points.tolist() == [3, 5]
    assert back.shifts is None and back.evidence is None and back.summary == {} and back.h5 is None


def test_bad_folders_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_solution_dir(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="neither solution.h5 nor fractions.csv"):
        read_solution_dir(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "fractions.csv").write_text("point,A\n0,1\n")
    (bad / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable summary"):
        read_solution_dir(bad)
    (bad / "summary.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object"):
        read_summary(bad)
