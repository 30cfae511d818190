"""The March-Dollase factor and the plane geometry it needs."""

import numpy as np
import pytest

from drnets.core import march_dollase, plane_cosines


def test_random_powder_has_no_texture():
    cos = np.linspace(0, 1, 7)
    assert np.allclose(march_dollase(cos, 1.0), 1.0)


@pytest.mark.parametrize("r", [0.5, 0.8, 1.5, 2.5])
def test_factor_limits_along_and_across_the_axis(r):
    # along the axis (cos = 1) r**-3, across it (cos = 0) r**1.5
    assert march_dollase(np.array([1.0]), r)[0] == pytest.approx(r**-3)
    assert march_dollase(np.array([0.0]), r)[0] == pytest.approx(r**1.5)


def test_plates_favour_the_axis_reflections():
    f = march_dollase(np.array([0.0, 1.0]), 0.6)
    assert f[1] > 1 > f[0]


def test_cubic_plane_cosines():
    cell = (4.0, 4.0, 4.0, 90.0, 90.0, 90.0)
    hkl = np.array([[1, 0, 0], [0, 0, 1], [1, 1, 0], [1, 1, 1]])
    cos = plane_cosines(hkl, cell, (0, 0, 1))
    assert cos == pytest.approx([0.0, 1.0, 0.0, 1 / np.sqrt(3)])


def test_hexagonal_c_axis():
    cell = (3.0, 3.0, 5.0, 90.0, 90.0, 120.0)
    cos = plane_cosines(np.array([[0, 0, 2], [1, 0, 0]]), cell, (0, 0, 1))
    assert cos == pytest.approx([1.0, 0.0], abs=1e-12)
