"""Texture decided per phase across the library."""

import numpy as np

from drnets.core import Library, Phase, PhaseLibrary, march_dollase, plane_cosines, render_peaks
from drnets.solve import PhaseMapper
from drnets.solve._atoms import Atoms
from drnets.solve._decoder import padded_sticks, reachable_sticks
from drnets.solve._phase_texture import R_LEVELS, PhaseTexture, axis_factors


def _tetragonal(label: str, a: float, c: float, formula: str = "TiO2", sg: str | None = None) -> Phase:
    hkl = np.array([[1, 1, 0], [1, 0, 1], [2, 0, 0], [1, 1, 1], [2, 1, 0], [2, 1, 1], [0, 0, 2], [2, 2, 0], [0, 0, 1]])
    q = 2 * np.pi * np.sqrt((hkl[:, 0] ** 2 + hkl[:, 1] ** 2) / a**2 + hkl[:, 2] ** 2 / c**2) * 10  # nm⁻¹
    return Phase(
        label, formula, q, np.linspace(1.0, 0.4, len(hkl)), hkl=hkl, cell=(a, a, c, 90.0, 90.0, 90.0), space_group=sg
    )


def test_axis_cosines_need_indices_and_merge_equivalent_axes():
    ph = _tetragonal("A", 4.6, 3.0)
    bare = Phase("B", "TiO2", ph.q, ph.intensity)
    lib = PhaseLibrary([ph, bare], ("Ti",))
    sq, _ = padded_sticks(lib, 15.0, 75.0, 0.05)
    cos = axis_factors(lib, reachable_sticks(lib, 15.0, 75.0, 0.05), sq.shape[1])
    assert cos[1] is None
    axes, rows = cos[0]
    assert (0, 0, 1) in axes and rows.shape[0] == len(axes) and rows.shape[2] == sq.shape[1]
    # (100) and (010) order a tetragonal phase's reflections alike: only one is kept
    assert not ((1, 0, 0) in axes and (0, 1, 0) in axes)
    assert rows.shape[1] == len(R_LEVELS) and np.allclose(rows[:, R_LEVELS.index(1.0)], 1.0)


def test_variant_rows_draw_the_textured_sticks():
    ph = _tetragonal("A", 4.6, 3.0)
    lib = PhaseLibrary([ph], ("Ti",))
    q = np.linspace(15, 75, 600)
    sq, si = padded_sticks(lib, q[0], q[-1], 0.05)
    atoms = Atoms(q, sq, si, np.array([0.99, 1.0, 1.01]), (0.12, 0.12), widths=(1.0, 1.3))
    base = atoms.phase(0).clone()
    fac = np.ones((len(R_LEVELS), sq.shape[1]))
    fac[2] = np.linspace(0.3, 1.7, sq.shape[1])
    level = np.array([[2], [R_LEVELS.index(1.0)]])
    tex = PhaseTexture(axis={0: 0}, factors={0: fac}, level=level)
    drawn, sq2, si2, keys = tex.variants(sq, si)
    assert drawn.tolist() == [[1], [0]]  # point 0 draws a copy, point 1 the phase as tabulated
    assert keys == [(0, 0, 2)]
    more = atoms.with_variants(1, sq2, si2, keys)
    assert np.array_equal(more.phase(0).numpy(), base.numpy())
    own = Atoms(q, sq2, si2, np.array([0.99, 1.0, 1.01]), (0.12, 0.12), widths=(1.0, 1.3))
    assert np.allclose(more.phase(1).numpy(), own.phase(0).numpy(), atol=1e-6)
    # a dictionary derived later takes the copy's render from the store instead of rendering it again
    again = more.with_variants(1, sq2, si2, keys)
    assert again._done[1] and np.array_equal(again.phase(1).numpy(), more.phase(1).numpy())


def _textured_library(r: np.ndarray, q: np.ndarray, ph: Phase, axis=(0, 0, 1)) -> np.ndarray:
    cos = plane_cosines(ph.hkl, ph.cell, axis)  # along (001) of a tetragonal cell every family member agrees
    heights = ph.intensity[None, :] * march_dollase(cos[None, :], r[:, None])
    return render_peaks(q, np.broadcast_to(ph.q, heights.shape), heights, (0.12, 0.12), normalize=False)


def test_a_textured_phase_gets_its_axis_and_a_smooth_r():
    ph = _tetragonal("A", 4.6, 3.0)
    other = _tetragonal("B", 4.9, 3.2, formula="SnO2")
    lib = PhaseLibrary([ph, other], ("Ti", "Sn"))
    q = np.linspace(15, 75, 700)
    n = 30
    comp = np.stack([np.linspace(0.6, 1.0, n), np.linspace(0.4, 0.0, n)], 1)
    r = np.linspace(0.55, 0.75, n)  # plates along (001), stronger at one end
    x = _textured_library(r, q, ph) + 1e-3
    library = Library(("Ti", "Sn"), comp, q, x)
    plain = PhaseMapper(device="cpu", seed=0, phase_texture=False).fit(library, lib)
    tex = PhaseMapper(device="cpu", seed=0).fit(library, lib)  # on by default
    est = [h for h in tex.history_ if h.get("stage") == "phase texture"][-1]["phases"]
    assert est["0"]["axis"] == [0, 0, 1]
    assert est["0"]["r_median"] < 0.9
    assert tex.residuals_.mean() < 0.5 * plain.residuals_.mean()
    assert np.all(tex.fractions_[:, 0] > 0.98)


def test_phases_without_indices_are_drawn_as_tabulated():
    ph = _tetragonal("A", 4.6, 3.0)
    bare = PhaseLibrary([Phase("A", "TiO2", ph.q, ph.intensity)], ("Ti",))
    q = np.linspace(15, 75, 700)
    x = _textured_library(np.full(10, 0.6), q, ph) + 1e-3
    library = Library(("Ti",), np.ones((10, 1)), q, x)
    on = PhaseMapper(device="cpu", reflection_factors=1.0).fit(library, bare)
    off = PhaseMapper(device="cpu", phase_texture=False, reflection_factors=1.0).fit(library, bare)
    assert np.array_equal(on.fractions_, off.fractions_) and np.array_equal(on.residuals_, off.residuals_)


def test_a_resumed_run_keeps_the_texture(tmp_path):
    from drnets.synth import generate

    ds, _ = generate(system="random", seed=106, points=30, q_points=300)
    whole = PhaseMapper(device="cpu").fit(ds.library, ds.phases)
    assert [h for h in whole.history_ if h.get("stage") == "phase texture"][0]["phases"]  # something is textured

    def stop_after_first_round(stage, done, total, info):
        if stage == "search":
            raise KeyboardInterrupt

    ck = tmp_path / "ck.npz"
    PhaseMapper(device="cpu", checkpoint=ck, callback=stop_after_first_round).fit(ds.library, ds.phases)
    resumed = PhaseMapper(device="cpu", checkpoint=ck).fit(ds.library, ds.phases, resume=True)
    assert {"resumed_after_round": 1} in resumed.history_
    np.testing.assert_array_equal(resumed.fractions_, whole.fractions_)
    np.testing.assert_array_equal(resumed.shifts_, whole.shifts_)


def test_the_solve_table_names_the_textured_phases():
    from drnets._solve_command import texture_text

    ph = _tetragonal("A", 4.6, 3.0)
    lib = PhaseLibrary([ph], ("Ti",))
    q = np.linspace(15, 75, 700)
    library = Library(("Ti",), np.ones((12, 1)), q, _textured_library(np.full(12, 0.6), q, ph) + 1e-3)
    sol = PhaseMapper(device="cpu").fit(library, lib).solution_
    assert texture_text(sol).startswith("A (001) r 0.")
    free = PhaseMapper(device="cpu", phase_texture=False).fit(library, lib).solution_
    assert texture_text(free).startswith("A 9 reflections x0.")  # no axis without phase_texture
    off = PhaseMapper(device="cpu", phase_texture=False, reflection_factors=1.0).fit(library, lib).solution_
    assert texture_text(off) == ""


def _bare_library(factors: np.ndarray, n: int = 16):
    """A stick-only phase (no Miller indices) whose reflections are drawn at ``factors`` times
    their tabulated intensities at every point, beside a second phase."""
    ph = _tetragonal("A", 4.6, 3.0)
    other = _tetragonal("B", 4.9, 3.2, formula="SnO2")
    bare = Phase("A", "TiO2", ph.q, ph.intensity)
    lib = PhaseLibrary([bare, Phase("B", "SnO2", other.q, other.intensity)], ("Ti", "Sn"))
    q = np.linspace(15, 75, 700)
    comp = np.stack([np.linspace(0.6, 1.0, n), np.linspace(0.4, 0.0, n)], 1)
    share = np.linspace(0.0, 0.5, n)[::-1]  # B fades out towards the Ti end
    xa = render_peaks(q, ph.q[None, :], (ph.intensity * factors)[None, :], (0.12, 0.12))
    xb = render_peaks(q, other.q[None, :], other.intensity[None, :], (0.12, 0.12))
    x = (1 - share)[:, None] * xa + share[:, None] * xb + 1e-3
    return Library(("Ti", "Sn"), comp, q, x), lib


def test_stick_phases_take_reflection_factors_across_the_library():
    factors = np.array([1.0, 0.4, 1.8, 1.0, 0.5, 2.0, 1.0, 0.6, 1.0])
    library, lib = _bare_library(factors)
    plain = PhaseMapper(device="cpu", seed=0, reflection_factors=1.0).fit(library, lib)
    free = PhaseMapper(device="cpu", seed=0).fit(library, lib)  # on by default
    est = [h for h in free.history_ if h.get("stage") == "phase texture"][-1]["phases"]
    assert "0" in est and "axis" not in est["0"]
    lo, hi = est["0"]["factor_range"]
    assert lo < 0.7 and hi > 1.5  # the drawn factors (0.4 to 2.0 against the strongest)
    got = dict(map(tuple, est["0"]["factors"]))  # tabulated position -> factor, changed reflections only
    weak = [q for q, f in zip(lib[0].q, factors) if f < 0.7]
    assert weak and all(got.get(round(float(q), 4), 1.0) < 1.0 for q in weak)
    assert free.residuals_.mean() < 0.5 * plain.residuals_.mean()
    assert np.all(free.fractions_[:, 0] > 0.4)
    from drnets._solve_command import texture_text

    assert texture_text(free.solution_).startswith("A ") and "reflections" in texture_text(free.solution_)


def test_tabulated_intensities_take_no_reflection_factors():
    library, lib = _bare_library(np.ones(9))
    off = PhaseMapper(device="cpu", seed=0, reflection_factors=1.0).fit(library, lib)
    free = PhaseMapper(device="cpu", seed=0).fit(library, lib)
    est = [h for h in free.history_ if h.get("stage") == "phase texture"]
    assert not any(h["phases"] for h in est)
    assert np.array_equal(off.fractions_, free.fractions_)


def test_a_resumed_run_keeps_the_reflection_factors(tmp_path):
    library, lib = _bare_library(np.array([1.0, 0.4, 1.8, 1.0, 0.5, 2.0, 1.0, 0.6, 1.0]))
    whole = PhaseMapper(device="cpu", seed=0).fit(library, lib)

    def stop_after_first_round(stage, done, total, info):
        if stage == "search":
            raise KeyboardInterrupt

    ck = tmp_path / "ck.npz"
    PhaseMapper(device="cpu", seed=0, checkpoint=ck, callback=stop_after_first_round).fit(library, lib)
    resumed = PhaseMapper(device="cpu", seed=0, checkpoint=ck).fit(library, lib, resume=True)
    assert {"resumed_after_round": 1} in resumed.history_
    np.testing.assert_array_equal(resumed.fractions_, whole.fractions_)
    np.testing.assert_array_equal(resumed.residuals_, whole.residuals_)


def _library_on_a_substrate(factors: np.ndarray, n: int = 16):
    """A Ti phase across the library on a substrate (no system element) whose reflections
    show at ``factors`` times their tabulated intensities at every point."""
    ph = _tetragonal("A", 4.6, 3.0)
    sub = _tetragonal("S", 4.75, 3.19, formula="SnO2")
    lib = PhaseLibrary([Phase("A", "TiO2", ph.q, ph.intensity), Phase("S", "SnO2", sub.q, sub.intensity)], ("Ti",))
    q = np.linspace(15, 75, 700)
    xa = render_peaks(q, ph.q[None, :], ph.intensity[None, :], (0.12, 0.12))
    xs = render_peaks(q, sub.q[None, :], (sub.intensity * factors)[None, :], (0.12, 0.12))
    thick = np.linspace(0.5, 1.0, n)  # the film's signal grows over the library, the substrate's stays
    x = thick[:, None] * xa + 0.4 * xs / xs.max() + 1e-3
    return Library(("Ti",), np.ones((n, 1)), q, x), lib


def test_an_oriented_substrate_takes_intensities_of_its_own():
    factors = np.array([0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 1.0, 0.0])  # two reflections show
    library, lib = _library_on_a_substrate(factors)
    assert lib.is_substrate.tolist() == [False, True]
    off = PhaseMapper(device="cpu", seed=0, substrate_intensities=False).fit(library, lib)
    own = PhaseMapper(device="cpu", seed=0).fit(library, lib)  # on by default
    est = [h for h in own.history_ if h.get("stage") == "phase texture"][-1]["phases"]
    assert est["1"]["substrate"] and est["1"]["over_tabulated"] > 2.0
    got = dict(map(tuple, est["1"]["factors"]))
    hidden = [round(float(q), 4) for q, f in zip(lib[1].q, factors) if f == 0.0]
    assert all(got.get(q, 1.0) < 0.1 for q in hidden)  # the absent reflections go
    # bounded reflection factors (on in both) cannot take a reflection below a third
    assert own.residuals_.mean() < 0.85 * off.residuals_.mean()
    assert np.all(own.fractions_[:, 0] > 0.3)  # the film's phase stays everywhere
    from drnets._solve_command import texture_text

    assert "S substrate, own intensities" in texture_text(own.solution_)


def test_a_powder_substrate_keeps_its_tabulated_intensities():
    library, lib = _library_on_a_substrate(np.ones(9))
    off = PhaseMapper(device="cpu", seed=0, substrate_intensities=False).fit(library, lib)
    own = PhaseMapper(device="cpu", seed=0).fit(library, lib)
    est = [h for h in own.history_ if h.get("stage") == "phase texture"]
    assert not any(v.get("substrate") for h in est for v in h["phases"].values())
    assert np.array_equal(off.fractions_, own.fractions_)
