"""The solve's cache of final fits: a repeat returns the same fit, callers cannot poison it,
its memory stays bounded, and a solve gives the same answer with it as without it (texture
fits, with their several NNLS per fit, and textured dictionary rows included)."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.solve import PhaseMapper, _fit_cache
from drnets.solve._fit_cache import FitCache
from drnets.solve._params import Params
from drnets.solve._prepare import prepare
from drnets.solve._search import group_fit
from drnets.synth import generate


@pytest.fixture(scope="module")
def problem():
    ds, _ = generate("standard", points=12, q_points=300, seed=1)
    return prepare(ds.library, ds.phases, Params(device="cpu"))


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def _direct(pb, i, phases, shifts, offsets=None) -> dict:
    off = pb.params.shape_offsets if offsets is None else offsets
    weight = None if pb.weights is None else pb.weights[i]
    return group_fit(pb.xraw[i], phases, shifts, pb.atoms, off, pb.basis, weight=weight)


def test_a_repeat_is_a_hit_with_the_same_result(problem):
    pb = problem
    pb.fits.clear()
    phases, shifts = np.array([0, 2]), np.array([pb.atoms.n_shifts // 2, pb.atoms.n_shifts // 2 + 3])
    hits, misses = pb.fits.hits, pb.fits.misses
    first = pb.fit_point(3, phases, shifts)
    again = pb.fit_point(3, phases, shifts)
    assert (pb.fits.hits - hits, pb.fits.misses - misses) == (1, 1)
    assert _same(first, again) and _same(first, _direct(pb, 3, phases, shifts))
    # Another point, another order of the phases or other offsets are other fits.
    pb.fit_point(4, phases, shifts)
    pb.fit_point(3, phases[::-1], shifts[::-1])
    other = pb.fit_point(3, phases, shifts, (0,))
    assert pb.fits.misses - misses == 4
    assert _same(other, _direct(pb, 3, phases, shifts, (0,)))


def test_a_changed_result_does_not_change_the_cache(problem):
    pb = problem
    pb.fits.clear()
    phases, shifts = np.array([1]), np.array([pb.atoms.n_shifts // 2])
    want = _direct(pb, 5, phases, shifts)
    got = pb.fit_point(5, phases, shifts)
    got["height"][:] = -1.0
    got["recon"] += 1.0
    got["rss"] = -5.0
    hit = pb.fit_point(5, phases, shifts)
    assert _same(hit, want)
    hit["background"][:] = 7.0
    assert _same(pb.fit_point(5, phases, shifts), want)


def test_the_memory_bound_holds():
    cache = FitCache(max_bytes=20_000)
    calls = []

    def fit(k: int):
        def run() -> tuple[np.ndarray, float]:
            calls.append(k)
            return np.full(500, float(k)), float(k)  # 4,000 bytes of array

        return run

    for k in range(20):
        assert cache.get_or_fit(k, fit(k))[1] == k
        assert cache.nbytes <= cache.max_bytes
    assert 0 < len(cache) < 20
    # The oldest went first; the newest are still there.
    cache.get_or_fit(19, fit(19))[0][:] = -1.0  # a caller's change stays the caller's
    assert calls.count(19) == 1 and cache.hits == 1
    assert np.all(cache.get_or_fit(19, fit(19))[0] == 19.0)
    cache.get_or_fit(0, fit(0))
    assert calls.count(0) == 2
    # A result larger than the bound is returned but not kept.
    small = FitCache(max_bytes=1_000)
    small.get_or_fit("big", fit(1))
    assert len(small) == 0 and small.nbytes == 0


@pytest.mark.parametrize(
    "preset, knobs", [("standard", {}), ("hard", {"texture": True}), ("hard", {"phase_texture": True})]
)
def test_a_solve_is_the_same_with_and_without_the_cache(monkeypatch, preset, knobs):
    ds, _ = generate(preset, points=30, q_points=300, seed=2)
    with_cache = PhaseMapper(device="cpu", **knobs).fit(ds.library, ds.phases)
    stats = [h for h in with_cache.history_ if h.get("stage") == "final fits"]
    assert stats and stats[0]["repeats"] > 0
    monkeypatch.setattr(_fit_cache, "FIT_CACHE_BYTES", 0)
    without = PhaseMapper(device="cpu", **knobs).fit(ds.library, ds.phases)
    assert [h for h in without.history_ if h.get("stage") == "final fits"][0]["repeats"] == 0
    for name in ("fractions_", "shifts_", "amplitudes_", "widths_", "reconstruction_"):
        assert np.array_equal(getattr(with_cache, name), getattr(without, name), equal_nan=True), name
    assert np.array_equal(with_cache.solution_.evidence, without.solution_.evidence)


def test_a_pickled_cache_arrives_empty():
    """A problem sent elsewhere (a Ray tile numbers its points afresh) must not bring fits keyed by these points."""
    import pickle

    cache = FitCache(max_bytes=50_000)
    cache.get_or_fit((0, (1,), (5,), (0,)), lambda: (np.ones(3), 1.0))
    copy = pickle.loads(pickle.dumps(cache))
    assert len(copy) == 0 and copy.nbytes == 0 and copy.max_bytes == 50_000
    assert len(cache) == 1
