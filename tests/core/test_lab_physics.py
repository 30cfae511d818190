"""The physics of a lab pattern: the Kα doublet, instrument shifts, March-Dollase texture, Hill-Howard."""

import numpy as np
import pytest

from drnets.core import InputError, Phase, Radiation, cell_volume, family_texture, march_dollase, mass_factors
from drnets.core._lab_forward import draw_peaks, lab_peaks
from drnets.core._radiation import instrument_shift
from drnets.core._wavelength import ANODES, KALPHA2_RATIO
from drnets.core._weights import unit_stick_area, weight_fractions


def test_anode_names_and_numbers():
    cu = Radiation.parse("cu")
    assert (cu.wavelength, cu.wavelength2, cu.ratio) == (*ANODES["Cu"], KALPHA2_RATIO)
    assert Radiation.parse("Mo").wavelength == pytest.approx(0.7093)
    one = Radiation.parse("0.4959")
    assert one.wavelength == 0.4959 and one.q_lines == [(1.0, 1.0)]
    with pytest.raises(InputError, match="unknown anode"):
        Radiation.parse("Xx")
    with pytest.raises(InputError, match="lies between"):
        Radiation.parse("-1")


def test_doublet_positions_and_ratio():
    cu = Radiation.parse("Cu")
    q = cu.q(np.arange(20.0, 100.0, 0.005))
    tt1 = 65.0
    stick = cu.q(np.array([tt1]))
    pk = lab_peaks(stick, np.array([1.0]), q, cu, widths=(0.01, 0.01))
    assert pk.centres.size == 2
    # Kα2 at sin θ2 = λ2 / (2d): read back on the Kα1 axis, Q * λ2 / λ1
    d = cu.wavelength / (2 * np.sin(np.deg2rad(tt1 / 2)))
    tt2 = 2 * np.rad2deg(np.arcsin(cu.wavelength2 / (2 * d)))
    assert cu.two_theta(pk.centres) == pytest.approx([tt1, tt2], abs=1e-9)
    assert tt2 - tt1 == pytest.approx(0.18, abs=0.02)  # the familiar Cu splitting near 65°
    # the lines' 2θ areas are in the ratio of their intensities
    areas = pk.heights * pk.sigmas / cu.dq_d2theta(pk.centres)
    assert areas[1] / areas[0] == pytest.approx(0.5)
    prof = draw_peaks(q, pk)
    i1, i2 = np.argmin(abs(q - pk.centres[0])), np.argmin(abs(q - pk.centres[1]))
    assert prof[i2] / prof[i1] == pytest.approx(0.5, rel=0.05)
    # a single-wavelength radiation draws one line
    assert lab_peaks(stick, np.array([1.0]), q, Radiation(1.5406), widths=(0.01, 0.01)).centres.size == 1


def test_zero_offset_and_displacement_are_shifts_in_two_theta():
    cu = Radiation.parse("Cu")
    tt = np.array([20.0, 60.0, 120.0])
    moved = cu.two_theta(instrument_shift(cu, cu.q(tt), 0.1, 0.0))
    assert moved - tt == pytest.approx([0.1, 0.1, 0.1], abs=1e-9)
    moved = cu.two_theta(instrument_shift(cu, cu.q(tt), 0.0, 0.2))
    assert moved - tt == pytest.approx(0.2 * np.cos(np.deg2rad(tt / 2)), rel=1e-6)


def test_march_dollase_limits():
    r = 0.7
    assert march_dollase(np.array([1.0]), r)[0] == pytest.approx(r**-3)  # along the axis
    assert march_dollase(np.array([0.0]), r)[0] == pytest.approx(r**1.5)  # perpendicular
    assert march_dollase(np.linspace(-1, 1, 7), 1.0) == pytest.approx(np.ones(7))
    # normalised over the sphere: the total intensity does not change (mean over cos α uniform in [-1, 1])
    c = np.linspace(-1, 1, 200001)
    for r in (0.5, 0.8, 1.3, 2.0):
        assert np.trapezoid(march_dollase(c, r), c) / 2 == pytest.approx(1.0, rel=1e-4)


def test_texture_factor_of_a_family_is_the_mean_over_its_members():
    cubic = (4.0, 4.0, 4.0, 90.0, 90.0, 90.0)
    r = 0.7
    f = family_texture(np.array([[1, 0, 0], [1, 1, 1]]), cubic, (0, 0, 1), r)
    assert f[0] == pytest.approx((r**-3 + 2 * r**1.5) / 3)  # {100}: one of three along the axis
    assert f[1] == pytest.approx(march_dollase(np.array([1 / np.sqrt(3)]), r)[0])  # all at the same angle
    hexa = (3.0, 3.0, 5.0, 90.0, 90.0, 120.0)
    g = family_texture(np.array([[0, 0, 2], [1, 0, 0]]), hexa, (0, 0, 1), r)
    assert g == pytest.approx([r**-3, r**1.5])


def test_cell_volume():
    assert cell_volume((2, 2, 2, 90, 90, 90)) == pytest.approx(8.0)
    assert cell_volume((1, 1, 1, 90, 90, 120)) == pytest.approx(np.sqrt(3) / 2)


def _phase(label, mass, scale, cell=(4.0, 4.0, 4.0, 90, 90, 90), rir=None):
    return Phase(
        label,
        "MgO",
        np.array([20.0, 30.0]),
        np.array([1.0, 0.5]),
        cell=cell,
        cell_mass=mass,
        intensity_scale=scale,
        rir=rir,
    )


def test_hill_howard_on_a_known_two_phase_mixture():
    # W ∝ S Z M V with S = a g / I_max: equal amplitudes and areas, ZMV/I_max of 2 : 1 → 2/3 : 1/3
    a = _phase("a", mass=200.0, scale=1000.0)
    b = _phase("b", mass=100.0, scale=1000.0)
    factors, note = mass_factors([a, b])
    assert "Hill-Howard" in note
    w = weight_fractions(np.array([[1.0, 1.0]]), np.ones((1, 2)), factors)
    assert w[0] == pytest.approx([2 / 3, 1 / 3])
    # the same cell mass, but b2 scatters twice as strongly per cell: twice the peak height is the same mass
    b2 = _phase("b2", mass=200.0, scale=2000.0)
    w = weight_fractions(np.array([[1.0, 2.0]]), np.ones((1, 2)), mass_factors([a, b2])[0])
    assert w[0] == pytest.approx([0.5, 0.5])


def test_weight_fraction_sources_and_reasons():
    r1, r2 = _phase("r1", None, None, rir=2.0), _phase("r2", None, None, rir=4.0)
    factors, note = mass_factors([r1, r2])
    assert "reference intensity" in note and factors == pytest.approx([0.5, 0.25])
    bare = Phase("x", "MgO", np.array([20.0]), np.array([1.0]))
    factors, note = mass_factors([r1, bare])
    assert factors is None and "'x'" in note and "neither a structure" in note
    factors, note = mass_factors([r1, _phase("s", 100.0, 10.0)])
    assert factors is None and "some phases come from structures" in note


def test_unit_stick_area_of_the_lab_model_is_sqrt_two_pi_over_the_maximum():
    cu = Radiation.parse("Cu")
    q = cu.q(np.arange(20.0, 80.0, 0.01))
    pk = lab_peaks(np.array([25.0, 35.0]), np.array([1.0, 0.4]), q, cu, widths=(0.03, 0.05), width_factor=2.0)
    c = float(draw_peaks(q, pk).max())
    jac = cu.dq_d2theta(pk.centres)
    assert unit_stick_area(pk.heights, pk.sigmas, pk.heights * pk.sigmas / jac, c, jac) == pytest.approx(
        np.sqrt(2 * np.pi) / c
    )


def test_radiation_from_a_readers_wavelength():
    class W:  # what the readers' statement of a wavelength offers
        kalpha1, kalpha2, ratio, anode = 1.540562, 1.544390, 0.5, "Cu"

    r = Radiation.from_wavelength(W())
    assert (r.wavelength, r.wavelength2, r.ratio, r.name) == (1.540562, 1.544390, 0.5, "Cu")
    W.kalpha2, W.ratio, W.anode = None, 0.0, None
    assert Radiation.from_wavelength(W()).q_lines == [(1.0, 1.0)]
