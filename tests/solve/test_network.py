"""The network engine (``engine="network"``) on a small generated library with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from drnets.cli import app
from drnets.core import InputError
from drnets.core.constants import PHASE_THRESHOLD
from drnets.evaluate import audit_solution
from drnets.solve import PhaseMapper
from drnets.solve.network import masked_softmax, sparsemax
from drnets.structure import gibbs_limits
from drnets.synth import generate, write_synthetic

#: Small but enough: the easy preset is learnt in a few dozen passes.
FAST = {"engine": "network", "device": "cpu", "net_epochs": 100, "net_checkpoint_every": 5}


@pytest.fixture(scope="module")
def easy():
    ds, truth = generate("easy", points=45, q_points=400, seed=3)
    mapper = PhaseMapper(**FAST).fit(ds.library, ds.phases)
    return ds, truth, mapper


def _sets(frac: np.ndarray, thr: float) -> list[set[int]]:
    return [set(np.flatnonzero(row > thr).tolist()) for row in frac]


def test_network_recovers_the_truth(easy):
    ds, truth, mapper = easy
    want = truth.as_solution().fractions
    exact = np.mean([a == b for a, b in zip(_sets(mapper.fractions_, 0.02), _sets(want, 0.02))])
    assert exact >= 0.9, exact
    l1 = np.abs(mapper.fractions_ - want).sum(1).mean()
    assert l1 < 0.05, l1
    # The network's own latent space, before pruning and repairs, already finds the phases.
    raw = mapper.network_.answer().dense(len(ds.phases))
    raw_exact = np.mean([a == b for a, b in zip(_sets(raw, 0.05), _sets(want, 0.05))])
    assert raw_exact >= 0.7, raw_exact


def test_rules_hold_on_the_network_answer(easy):
    ds, _, mapper = easy
    sol = mapper.solution_
    assert np.allclose(sol.fractions.sum(1), 1.0)
    assert np.array_equal(np.isfinite(sol.shifts), sol.fractions > 0)
    chem = (sol.fractions > 0) & ~ds.phases.is_substrate[None, :]
    assert np.all(chem.sum(1) <= gibbs_limits(ds.library.compositions))
    audit = audit_solution(sol, ds.library, ds.phases, threshold=PHASE_THRESHOLD)
    for rule in ("gibbs", "alloying", "connectivity"):
        assert audit[f"{rule}_violations"] == 0, (rule, audit)
    meta = sol.metadata
    assert meta["device"] == "cpu" and meta["interrupted"] is False
    assert meta["parameters"]["engine"] == "network"
    assert any("epoch" in h for h in meta["history"])


def test_resume_equals_an_uninterrupted_run(tmp_path):
    ds, _ = generate("easy", points=30, q_points=300, seed=1)
    kw = {**FAST, "net_epochs": 20}
    whole = PhaseMapper(**kw, checkpoint=tmp_path / "a.npz").fit(ds.library, ds.phases)

    def stop(stage: str, done: int, total: int, info: dict) -> None:
        if stage == "train" and done == 1 + 10:  # after epoch 10 (checkpointed)
            raise KeyboardInterrupt

    ck = tmp_path / "b.npz"
    cut = PhaseMapper(**kw, checkpoint=ck, callback=stop).fit(ds.library, ds.phases)
    assert cut.solution_.metadata["interrupted"] is True  # Ctrl-C keeps the best so far
    assert np.allclose(cut.fractions_.sum(1), 1.0)
    resumed = PhaseMapper(**kw, checkpoint=ck).fit(ds.library, ds.phases, resume=True)
    assert any(h.get("resumed_after_epoch") == 10 for h in resumed.history_)
    np.testing.assert_array_equal(resumed.fractions_, whole.fractions_)
    np.testing.assert_array_equal(resumed.shifts_, whole.shifts_)


def test_a_search_checkpoint_is_refused(tmp_path):
    ds, _ = generate("easy", points=20, q_points=200, seed=2)
    ck = tmp_path / "c.npz"
    PhaseMapper(device="cpu", rounds=1, checkpoint=ck).fit(ds.library, ds.phases)
    with pytest.raises(InputError, match="another engine|another library"):
        PhaseMapper(**FAST, checkpoint=ck).fit(ds.library, ds.phases, resume=True)


def test_the_network_lives_on_the_problem_device(easy):
    _, _, mapper = easy
    tr = mapper.network_
    assert all(p.device.type == "cpu" for p in tr.net.parameters())
    assert tr.x.device.type == "cpu" and tr.dual.device.type == "cpu"
    if not torch.cuda.is_available():
        ds, _ = generate("easy", points=10, q_points=100, seed=0)
        with pytest.raises(InputError, match="CUDA"):
            PhaseMapper(**{**FAST, "device": "cuda"}).fit(ds.library, ds.phases)


def test_fraction_activations():
    logits = torch.tensor([[2.0, 1.0, 0.1, 5.0], [0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    for act in (masked_softmax, sparsemax):
        f = act(logits, mask)
        assert torch.allclose(f.sum(-1), torch.ones(2))
        assert torch.all(f[~mask] == 0) and torch.all(f >= 0)
    s = sparsemax(logits, mask)
    assert s[0, 2] == 0 and s[0, 0] > s[0, 1]  # exact zeros where a softmax gives small shares
    assert torch.allclose(s[1, :2], torch.tensor([0.5, 0.5]))


def test_bad_engine_is_refused():
    with pytest.raises(InputError, match="engine"):
        PhaseMapper(engine="tensorflow").validate()


def test_cli_solves_with_the_network(tmp_path):
    lib = tmp_path / "lib"
    write_synthetic(lib, "easy", points=20, q_points=250, seed=1)
    out = tmp_path / "sol"
    args = ["solve", str(lib / "instance.txt"), "--phases", str(lib / "sticks.csv"), "--device", "cpu", "-q"]
    r = CliRunner().invoke(app, [*args, "--engine", "network", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("fractions.csv", "shifts.csv", "evidence.csv", "solution.h5", "summary.json"):
        assert (out / name).is_file()
    bad = CliRunner().invoke(app, [*args, "--engine", "tf", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "--engine" in str(bad.exception)
