"""The solver's parameter table, its checkpoint fingerprint, and a pinned small answer."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from drnets.core import InputError
from drnets.solve import Params, PhaseMapper, parameter_table
from drnets.synth import generate

GOLDEN = Path(__file__).parent / "golden" / "standard40_seed3.csv"


def test_get_params_round_trips_and_set_params_checks_names():
    m = PhaseMapper(max_shift=0.05, pool_size=6, device="cpu")
    p = m.get_params()
    assert p["max_shift"] == 0.05 and p["pool_size"] == 6 and "callback" in p
    assert PhaseMapper(**p).get_params() == p
    assert m.set_params(rounds=2) is m and m.rounds == 2
    with pytest.raises(InputError, match="unknown parameter 'rouns'"):
        m.set_params(rouns=2)


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"max_shift": -0.1}, "max_shift"),
        ({"pool_size": 2.5}, "pool_size"),
        ({"rounds": 0}, "rounds"),
        ({"width_scales": ()}, "width_scales"),
        ({"background": "rolling"}, "background"),
        ({"penalty": float("nan")}, "penalty"),
        ({"strict": "yes"}, "strict"),
        ({"max_shift": 0.01, "shift_step": 0.02}, "shift_step"),
    ],
)
def test_fit_refuses_a_bad_parameter_by_name(bad, where):
    ds, _ = generate("easy", points=6, q_points=200, seed=0)
    with pytest.raises(InputError) as err:
        PhaseMapper(device="cpu", **bad).fit(ds.library, ds.phases)
    assert f"parameter {where}" in str(err.value)


def test_parameter_table_documents_every_knob():
    text = parameter_table()
    for name in Params().get_params():
        assert f"\n{name} : " in "\n" + text, name
    assert "width_scales" in PhaseMapper.__doc__ and "{parameters}" not in PhaseMapper.__doc__


def test_huge_gibbs_limit_is_clamped_not_allocated():
    ds, _ = generate("easy", points=8, q_points=200, seed=0)
    m = PhaseMapper(device="cpu", rounds=1).fit(ds.library, ds.phases, max_phases=np.full(8, 10**9))
    assert m.solution_.max_phases.max() <= len(ds.phases)


def test_resume_with_another_mask_is_refused(tmp_path):
    ds, _ = generate("easy", points=12, q_points=200, seed=0)
    ck = tmp_path / "ck.npz"
    PhaseMapper(device="cpu", rounds=1, checkpoint=ck).fit(ds.library, ds.phases)
    assert ck.is_file()
    mask = np.ones((12, len(ds.phases)), bool)
    mask[:, 0] = False
    with pytest.raises(InputError, match="another library, phase list, mask or parameters"):
        PhaseMapper(device="cpu", rounds=1, checkpoint=ck).fit(ds.library, ds.phases, mask=mask, resume=True)
    with pytest.raises(InputError, match="another"):
        PhaseMapper(device="cpu", rounds=1, checkpoint=ck, shift_prior=3.0).fit(ds.library, ds.phases, resume=True)
    # The same problem resumes (a run-only parameter such as the device may differ).
    m = PhaseMapper(device="cpu", rounds=1, checkpoint=ck, chunk_points=5).fit(ds.library, ds.phases, resume=True)
    assert {"resumed_after_round": 1} in m.history_


def test_small_library_answer_is_pinned():
    # Guards the restructurings: phase sets exactly, fractions and shifts to the file's precision.
    ds, _ = generate("standard", points=40, q_points=400, seed=3)
    sol = PhaseMapper(device="cpu").fit(ds.library, ds.phases).solution_
    rows = list(csv.DictReader(line for line in GOLDEN.open() if not line.startswith("#")))
    want = {(int(r["point"]), r["phase"]): (float(r["fraction"]), float(r["shift"])) for r in rows}
    got = {(i, sol.labels[k]): (sol.fractions[i, k], sol.shifts[i, k]) for i, k in zip(*np.nonzero(sol.fractions > 0))}
    assert set(got) == set(want)
    for key, (f, s) in want.items():
        assert got[key][0] == pytest.approx(f, abs=2e-3), key
        assert got[key][1] == pytest.approx(s, abs=2e-4), key
