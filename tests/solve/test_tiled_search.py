"""The search on Ray (``workers``): the same answer as one process, a dead worker retried, tiles split to fit.

A local Ray runtime with 2 workers is started once for the module; without Ray installed
(it is the optional extra ``drnets[ray]``) the module is skipped.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from drnets.cli import run
from drnets.solve import PhaseMapper, _tiled_search
from drnets.synth import generate, write_synthetic

ray = pytest.importorskip("ray", reason="Ray is the optional extra drnets[ray]; pip install 'drnets[ray]'")

#: With texture across the library, the problem changes between rounds (textured dictionary rows, which row
#: draws a phase where): the tiles must get it again.
KW = {"device": "cpu", "phase_texture": True}
ANSWER = ("fractions_", "shifts_", "amplitudes_", "widths_", "reconstruction_", "residuals_")


@pytest.fixture(scope="module", autouse=True)
def runtime():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def library():
    ds, _ = generate("easy", points=60, q_points=300, seed=0)
    return ds


@pytest.fixture(scope="module")
def plain(library):
    return PhaseMapper(**KW).fit(library.library, library.phases)


def _same(a: PhaseMapper, b: PhaseMapper) -> None:
    for name in ANSWER:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert np.array_equal(a.solution_.evidence, b.solution_.evidence, equal_nan=True)


def _tile_stats(m: PhaseMapper) -> tuple[dict, list[dict]]:
    setup = [h for h in m.history_ if h.get("stage") == "tiles setup"]  # again where the texture changed the problem
    rounds = [h for h in m.history_ if h.get("stage") == "tiles"]
    assert 1 <= len(setup) <= m.rounds
    return setup[0], rounds


def test_two_workers_give_the_single_process_answer(library, plain):
    m = PhaseMapper(workers=2, **KW).fit(library.library, library.phases)
    _same(plain, m)
    setup, rounds = _tile_stats(m)
    assert any(h.get("stage") == "phase texture" for h in plain.history_)
    assert sum(h.get("stage") == "tiles setup" for h in m.history_) > 1  # sent again after the texture changed
    assert setup["tiles"] == 4 and setup["workers"] == 2 and setup["shared_bytes"] > 0
    assert len(rounds) == m.rounds and all(r["halo_points"] > 0 and r["bytes_back"] > 0 for r in rounds)
    assert plain.solution_.metadata["parameters"]["workers"] == 0
    assert m.solution_.metadata["parameters"]["workers"] == 2


def test_a_tile_too_big_for_the_memory_budget_is_split_further(library, plain):
    m = PhaseMapper(workers=2, tile_memory_gb=2e-5, **KW).fit(library.library, library.phases)
    setup, _ = _tile_stats(m)
    assert setup["tiles"] > 4 and setup["largest_tile"] <= setup["tile_cap_points"] < 60
    _same(plain, m)


def test_a_worker_that_dies_mid_run_is_retried_and_the_answer_is_unchanged(library, plain, tmp_path, monkeypatch):
    marker = tmp_path / "killed"
    monkeypatch.setattr(_tiled_search, "KILL_FIRST_ATTEMPT", str(marker))
    m = PhaseMapper(workers=2, **KW).fit(library.library, library.phases)
    assert marker.exists()  # the first attempt of a tile's task did kill its worker
    _same(plain, m)


def test_resume_with_workers_gives_the_uninterrupted_answer(library, plain, tmp_path):
    ck = tmp_path / "ck.npz"

    def stop(stage, done, total, info):
        if stage == "search" and done == 2:  # after the first round's checkpoint
            raise KeyboardInterrupt

    cut = PhaseMapper(workers=2, checkpoint=ck, callback=stop, **KW).fit(library.library, library.phases)
    assert cut.solution_.metadata["interrupted"] is True and ck.is_file()
    m = PhaseMapper(workers=2, checkpoint=ck, **KW).fit(library.library, library.phases, resume=True)
    assert {"resumed_after_round": 1} in m.history_
    _same(plain, m)


def test_solve_with_workers_and_several_libraries_on_one_runtime(tmp_path, capsys):
    for k in (1, 2):
        write_synthetic(tmp_path / f"lib{k}", "easy", points=12, q_points=200, seed=k)
    libs = [str(tmp_path / f"lib{k}" / "library.h5") for k in (1, 2)]
    assert run(["solve", *libs, "--device", "cpu", "--out", str(tmp_path / "serial"), "-q"]) == 0
    assert run(["solve", *libs, "--device", "cpu", "--workers", "2", "--out", str(tmp_path / "ray"), "-q"]) == 0
    assert ray.is_initialized()  # the runtime found running is left running
    rows = list(csv.DictReader(open(tmp_path / "ray" / "summary.csv")))
    assert [r["library"] for r in rows] == ["lib1-library", "lib2-library"]
    assert all(r["status"] == "done" for r in rows)
    for r in rows:
        for f in ("fractions.csv", "shifts.csv", "evidence.csv"):
            ray_file = tmp_path / "ray" / r["library"] / f
            assert ray_file.read_bytes() == (tmp_path / "serial" / r["library"] / f).read_bytes()
    # one library's tiles on the runtime: the same files as the plain solve
    assert run(["solve", libs[0], "--device", "cpu", "--workers", "2", "--out", str(tmp_path / "one"), "-q"]) == 0
    for f in ("fractions.csv", "shifts.csv", "evidence.csv"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "serial" / "lib1-library" / f).read_bytes()
