"""The generator of single lab patterns: known weight fractions, the Kα doublet, its refusals."""

import numpy as np
import pytest

from drnets.core import InputError, Phase, Radiation
from drnets.synth import make_lab_pattern


def _phase(label="A"):
    return Phase(
        label,
        "MgO",
        np.array([29.9, 42.3]),
        np.array([0.4, 1.0]),
        hkl=np.array([[1, 1, 1], [2, 0, 0]]),
        cell=(4.21, 4.21, 4.21, 90, 90, 90),
        cell_mass=161.2,
        intensity_scale=3e4,
    )


def test_noise_free_pattern_has_the_doublet_and_its_truth():
    cu = Radiation.parse("Cu")
    pat = make_lab_pattern(
        [_phase()],
        [2.0],
        cu,
        np.random.default_rng(0),
        snr=0,
        texture=0,
        zero=0,
        displacement=0,
        max_shift=0,
        background=0,
        two_theta=(20.0, 100.0, 0.005),
        sigma=(0.01, 0.01),
        eta=0.0,
        width_spread=1.0,
    )
    assert pat.weight_fractions == pytest.approx([1.0]) and pat.y.max() == pytest.approx(1.0)
    # the (200) reflection and its Kα2 line, about half as high
    tt2 = cu.two_theta(np.array([42.3 * cu.wavelength2 / cu.wavelength]))[0]
    tt1 = cu.two_theta(np.array([42.3]))[0]
    h1, h2 = (pat.y[np.argmin(abs(pat.two_theta - t))] for t in (tt1, tt2))
    assert 0.4 < h2 / h1 < 0.6


def test_refusals():
    bare = Phase("B", "MgO", np.array([20.0]), np.array([1.0]))
    with pytest.raises(InputError, match="no structure"):
        make_lab_pattern([bare], [1.0], Radiation.parse("Cu"), np.random.default_rng(0))
    with pytest.raises(InputError, match="one per phase"):
        make_lab_pattern([_phase()], [0.5, 0.5], Radiation.parse("Cu"), np.random.default_rng(0))
