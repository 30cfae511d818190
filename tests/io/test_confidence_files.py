"""The confidence files of a solution folder: written, read back (CSV and solution.h5), checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drnets.core import Alternatives, InputError, Unexplained
from drnets.io import read_solution_dir, write_solution_dir

from .test_solution_dir import _solved


def _with_confidence():
    lib, ph, sol = _solved()
    sol.probabilities = np.array([[0.97, 0.02, 0.01], [0.8, 0.1, 0.9], [0.0, 0.05, 1.0]])
    sets = np.full((3, 2, 2), -1)
    sets[0, 0, 0] = 0
    sets[1, 0] = [0, 2]
    sets[1, 1, 0] = 2
    sets[2, 0, 0] = 2
    prob = np.array([[0.95, np.nan], [0.7, 0.25], [0.99, np.nan]])
    sol.alternatives = Alternatives(sets, prob, np.array([0.95, 0.7, 0.99]))
    sol.unexplained = Unexplained(
        np.array([False, True, False]),
        np.array([0.0, 0.2, 0.01]),
        np.array([[1, 10.7, 0.2], [1, 10.2, 0.05]]),
        [{"peaks": [10.2, 10.7], "heights": [0.05, 0.2], "points": [1]}],
    )
    return lib, ph, sol


def test_written_and_read_back(tmp_path):
    lib, ph, sol = _with_confidence()
    files = write_solution_dir(tmp_path / "sol", lib, ph, sol)
    names = [p.name for p in files]
    assert names[-3:] == ["probabilities.csv", "alternatives.csv", "unexplained.csv"]
    folder = tmp_path / "sol"
    assert (folder / "alternatives.csv").read_text().splitlines() == [
        "point,rank,phases,probability",
        "0,1,FeO_1,0.95",
        "1,1,FeO_1;NiO_3,0.7",
        "1,2,NiO_3,0.25",
        "2,1,NiO_3,0.99",
    ]
    assert (folder / "unexplained.csv").read_text().splitlines() == [
        "point,flag,score,peaks",
        "0,0,0,",
        "1,1,0.2,10.2000;10.7000",
        "2,0,0.01,",
    ]
    back = read_solution_dir(folder)
    # probabilities.csv has every candidate, used or not
    assert back.probabilities.labels == ph.labels
    np.testing.assert_allclose(back.probabilities.values, sol.probabilities)
    # solution.h5 carries them all
    full = back.dataset.solution
    np.testing.assert_allclose(full.probabilities, sol.probabilities)
    assert full.alternatives.at(1) == [((0, 2), 0.7), ((2,), 0.25)]
    np.testing.assert_allclose(full.alternatives.chosen, [0.95, 0.7, 0.99])
    np.testing.assert_array_equal(full.unexplained.flag, [False, True, False])
    assert full.unexplained.candidates == sol.unexplained.candidates
    # the CSVs alone rebuild them too
    rebuilt = back.solution_from_tables(lib)
    assert rebuilt.labels == ph.labels
    assert rebuilt.alternatives.at(1) == [((0, 2), 0.7), ((2,), 0.25)]
    np.testing.assert_allclose(rebuilt.unexplained.peaks_at(1)[:, 0], [10.2, 10.7])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["confidence"]["uncertain_points"] == 1
    assert summary["confidence"]["flagged_points"] == 1
    assert summary["confidence"]["unknown_phases"][0]["points"] == [1]


@pytest.mark.parametrize(
    ("name", "line", "problem"),
    [
        ("alternatives.csv", "0,1,Nope_9,0.5", "unknown phase 'Nope_9'"),
        ("alternatives.csv", "0,1,FeO_1,1.5", "not in [0, 1]"),
        ("alternatives.csv", "7,1,FeO_1,0.5", "point 7 is not in the library"),
        ("unexplained.csv", "0,2,0.1,", "flag '2' is not 0 or 1"),
        ("unexplained.csv", "0,1,abc,", "score 'abc' is not a number"),
    ],
)
def test_a_bad_line_is_named(tmp_path, name, line, problem):
    lib, ph, sol = _with_confidence()
    write_solution_dir(tmp_path / "sol", lib, ph, sol)
    path = tmp_path / "sol" / name
    head = path.read_text().splitlines()[0]
    path.write_text(f"{head}\n{line}\n")
    back = read_solution_dir(tmp_path / "sol")
    with pytest.raises(InputError, match="line 2") as err:
        back.solution_from_tables(lib)
    assert problem in str(err.value) and name in str(err.value)
