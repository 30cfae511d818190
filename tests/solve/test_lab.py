"""A single lab pattern: search, refinement, support and weight fractions on generated mixtures."""

import numpy as np
import pytest

from drnets.core import Library, Phase, PhaseLibrary, Radiation
from drnets.io import read_solution_dir, write_solution_dir
from drnets.solve import PhaseMapper, solve_pattern
from drnets.solve._lab import fits_to_solution
from drnets.synth import make_lab_pattern

CU = Radiation.parse("Cu")


def _cubic(label: str, formula: str, a: float, rule: str, seed: int, mass: float, scale: float) -> Phase:
    """A cubic phase with its allowed reflections up to Q 60 nm⁻¹ and random intensities (fixed by seed)."""
    rng = np.random.default_rng(seed)
    hkl, q = [], []
    for h in range(8):
        for k in range(h + 1):
            for ell in range(k + 1):
                if h == 0:
                    continue
                fcc = h % 2 == k % 2 == ell % 2
                if rule == "F" and not fcc or rule == "I" and (h + k + ell) % 2:
                    continue
                qq = 2 * np.pi * np.sqrt(h * h + k * k + ell * ell) / a * 10
                if qq < 60:
                    hkl.append((h, k, ell))
                    q.append(qq)
    inten = rng.uniform(0.05, 1.0, len(q))
    return Phase(
        label,
        formula,
        np.array(q),
        inten,
        hkl=np.array(hkl),
        cell=(a, a, a, 90, 90, 90),
        cell_mass=mass,
        intensity_scale=scale,
    )


@pytest.fixture(scope="module")
def candidates() -> PhaseLibrary:
    phases = [
        _cubic("A_F", "MgO", 4.21, "F", 1, 161.2, 3.0e4),
        _cubic("B_I", "ZnO", 3.62, "I", 2, 162.8, 1.1e5),
        _cubic("C_P", "NiO", 3.05, "P", 3, 74.7, 4.0e4),
        _cubic("D_F", "CoO", 5.43, "F", 4, 300.0, 2.0e5),
        _cubic("E_P", "CuO", 3.93, "P", 5, 79.5, 6.0e4),
    ]
    return PhaseLibrary(phases, ("Mg", "Zn", "Ni", "Co", "Cu"))


def _pattern(candidates, labels, weights, seed=0, **kw):
    chosen = [candidates[lbl] for lbl in labels]
    return make_lab_pattern(chosen, weights, CU, np.random.default_rng(seed), two_theta=(15.0, 80.0, 0.02), **kw)


def test_generated_mixture_weight_fractions_recovered(candidates):
    truth = {"A_F": 0.5, "C_P": 0.3, "D_F": 0.2}
    pat = _pattern(candidates, list(truth), list(truth.values()), snr=30.0)
    fit = solve_pattern(pat.q, pat.y, candidates, CU)
    assert sorted(fit.labels) == sorted(truth)
    got = dict(zip(fit.labels, fit.weight_fractions))
    err = dict(zip(fit.labels, fit.weight_fraction_errors))
    for lbl, w in truth.items():
        assert got[lbl] == pytest.approx(w, abs=0.03)
        assert 0 < err[lbl] < 0.05
    assert "Hill-Howard" in fit.weight_note


def test_peak_height_shares_are_not_weight_fractions(candidates):
    # equal masses of a strong and a weak scatterer: equal weight fractions, unequal peak heights
    pat = _pattern(candidates, ["B_I", "E_P"], [0.5, 0.5], snr=0.0, texture=0.0, width_spread=1.0)
    fit = solve_pattern(pat.q, pat.y, candidates, CU, max_phases=2)
    assert sorted(fit.labels) == ["B_I", "E_P"]
    assert fit.weight_fractions == pytest.approx([0.5, 0.5], abs=0.01)
    assert abs(fit.fractions[0] - 0.5) > 0.05


def test_unsupported_phase_is_dropped(candidates):
    pat = _pattern(candidates, ["A_F"], [1.0], snr=30.0)
    fit = solve_pattern(pat.q, pat.y, candidates, CU)
    assert fit.labels == ["A_F"] and fit.weight_fractions == pytest.approx([1.0])


def test_solution_folder_holds_weight_fractions(candidates, tmp_path):
    pats = [_pattern(candidates, ["A_F", "C_P"], [0.6, 0.4], seed=s, snr=30.0) for s in (1, 2)]
    fits = [solve_pattern(p.q, p.y, candidates, CU, max_phases=2) for p in pats]
    ys = np.stack([p.y for p in pats])
    sol = fits_to_solution(fits, candidates, ys)
    lib = Library(candidates.elements, np.full((2, 5), 0.2), pats[0].q, ys)
    paths = write_solution_dir(tmp_path, lib, candidates, sol)
    assert {"weight_fractions.csv", "weight_fraction_errors.csv"} <= {p.name for p in paths}
    back = read_solution_dir(tmp_path)
    w = back.weight_fractions.aligned(np.arange(2), ["A_F", "C_P"])
    assert w.sum(axis=1) == pytest.approx([1.0, 1.0]) and w[:, 0] == pytest.approx([0.6, 0.6], abs=0.03)
    assert "Hill-Howard" in back.summary["weight_fractions"]


def test_library_route_says_why_there_are_no_weight_fractions(tmp_path):
    q = np.linspace(15, 40, 200)
    ph = PhaseLibrary([Phase("p", "MgO", np.array([20.0, 30.0]), np.array([1.0, 0.5]))], ("Mg",))
    y = np.exp(-0.5 * ((q - 20) / 0.2) ** 2) + 0.5 * np.exp(-0.5 * ((q - 30) / 0.2) ** 2)
    lib = Library(("Mg",), np.ones((1, 1)), q, y[None])
    sol = PhaseMapper(device="cpu", rounds=1).fit(lib, ph).solution_
    assert sol.weight_fractions is None and "neither a structure" in sol.metadata["weight_fractions"]
    paths = write_solution_dir(tmp_path, lib, ph, sol)
    assert "weight_fractions.csv" not in {p.name for p in paths}
    # with an RIR the same answer has weight fractions (one phase: all of it)
    ph_rir = PhaseLibrary([Phase("p", "MgO", np.array([20.0, 30.0]), np.array([1.0, 0.5]), rir=2.0)], ("Mg",))
    sol = PhaseMapper(device="cpu", rounds=1).fit(lib, ph_rir).solution_
    assert sol.weight_fractions[0] == pytest.approx([1.0])


def test_solve_command_takes_lab_samples_to_the_lab_route(tmp_path):
    """``drnets solve SPECTRA --phases CIFS --wavelength Cu``: each sample refined, weight fractions written."""
    import shutil

    from typer.testing import CliRunner

    from drnets.cli import app
    from tests.conftest import shared_path

    pytest.importorskip("pymatgen")
    data = shared_path("li-mn-ti-o-f")
    spectra, cifs = tmp_path / "spectra", tmp_path / "cif"
    spectra.mkdir()
    cifs.mkdir()
    shutil.copy(data / "spectra" / "TiO2+MnO.xy", spectra)
    for name in ("TiO2_141", "TiO2_136", "MnO_225", "MnO_186", "LiF_225", "Mn2O3_206"):
        shutil.copy(data / "cif" / f"{name}.cif", cifs)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["solve", str(spectra), "--phases", str(cifs), "--wavelength", "Cu", "--out", str(out), "-q"]
    )
    assert r.exit_code == 0, r.output
    back = read_solution_dir(out)
    assert sorted(back.fractions.labels) == ["MnO_225", "TiO2_141"]
    w = back.weight_fractions.aligned(np.arange(1), ["MnO_225", "TiO2_141"])[0]
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0.3)
    assert back.weight_fraction_errors is not None and "Hill-Howard" in back.summary["weight_fractions"]
    # the lab route draws nothing at random: the table says so instead of an unknown seed
    shown = CliRunner().invoke(
        app, ["solve", str(spectra), "--phases", str(cifs), "--wavelength", "Cu", "--out", str(out), "--force"]
    )
    assert shown.exit_code == 0, shown.output
    assert "none (deterministic)" in shown.output and "│ ?" not in shown.output
