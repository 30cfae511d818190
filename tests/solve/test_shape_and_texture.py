"""The peak shape read off the data, and texture in the final fits."""

import numpy as np
import pytest

from drnets.core import Phase, PhaseLibrary, march_dollase, render_peaks
from drnets.solve import PhaseMapper
from drnets.solve._atoms import Atoms
from drnets.solve._decoder import padded_sticks, reachable_sticks
from drnets.solve._prepare import estimate_eta
from drnets.solve._search import group_fit
from drnets.solve._texture import texture_factors


def _peaks(eta: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = np.linspace(15, 75, 1500)
    centres = rng.uniform(18, 72, size=(40, 6))
    heights = rng.uniform(0.3, 1.0, size=(40, 6))
    return q, render_peaks(q, centres, heights, (0.1, 0.2), eta, normalize=False)


@pytest.mark.parametrize("eta", [0.0, 0.3, 0.6, 0.9])
def test_eta_is_recovered_from_isolated_peaks(eta):
    q, x = _peaks(eta)
    assert estimate_eta(q, x) == pytest.approx(eta, abs=0.12)


def test_too_few_peaks_read_as_gaussian():
    q = np.linspace(15, 75, 500)
    assert estimate_eta(q, np.zeros((3, q.size))) == 0.0


def _cubic(label: str, a: float) -> Phase:
    hkl = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 0, 0], [2, 1, 0], [2, 1, 1], [2, 2, 0]])
    q = 2 * np.pi * np.linalg.norm(hkl, axis=1) / a * 10  # nm⁻¹
    return Phase(label, "MgO", q, np.ones(len(hkl)), hkl=hkl, cell=(a, a, a, 90.0, 90.0, 90.0))


def test_texture_factors_need_indices():
    ph = _cubic("A", 4.2)
    bare = Phase("B", "MgO", ph.q, ph.intensity)
    lib = PhaseLibrary([ph, bare], ("Mg",))
    reach = reachable_sticks(lib, 15.0, 75.0, 0.05)
    sq, _ = padded_sticks(lib, 15.0, 75.0, 0.05)
    fac = texture_factors(lib, reach, sq.shape[1])
    assert fac[1] is None
    assert fac[0].shape[1] == sq.shape[1] and np.allclose(fac[0].max(axis=1), 1.0)


def test_a_textured_pattern_is_fitted_with_texture():
    ph = _cubic("A", 4.2)
    lib = PhaseLibrary([ph], ("Mg",))
    q = np.linspace(15, 75, 800)
    cos = np.abs(ph.hkl[:, 2]) / np.linalg.norm(ph.hkl, axis=1)
    x = render_peaks(q, ph.q[None, :], (ph.intensity * march_dollase(cos, 0.6))[None, :], (0.12, 0.12))[0]
    sq, si = padded_sticks(lib, q[0], q[-1], 0.05)
    fac = texture_factors(lib, reachable_sticks(lib, q[0], q[-1], 0.05), sq.shape[1])
    plain = Atoms(q, sq, si, np.array([1.0]), (0.12, 0.12), widths=(1.0,))
    textured = Atoms(q, sq, si, np.array([1.0]), (0.12, 0.12), widths=(1.0,), texture=fac)
    g0 = group_fit(x, np.array([0]), np.array([0]), plain, (0,))
    g1 = group_fit(x, np.array([0]), np.array([0]), textured, (0,), texture_cost=1e-6)
    assert g1["rss"] < 0.05 * g0["rss"]
    # a cost above what texture buys keeps the plain fit
    g2 = group_fit(x, np.array([0]), np.array([0]), textured, (0,), texture_cost=10 * g0["rss"])
    assert g2["rss"] == pytest.approx(g0["rss"])


def test_solution_carries_the_fitted_shape():
    from drnets.synth import generate

    ds, truth = generate("standard", seed=0, points=30, q_points=400)
    sol = PhaseMapper(device="cpu", eta=None).fit(ds.library, ds.phases).solution_
    assert sol.eta == pytest.approx(truth.eta, abs=0.2)
    assert PhaseMapper(device="cpu").fit(ds.library, ds.phases).solution_.eta == 0.0  # the default is Gaussian
