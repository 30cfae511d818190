"""Reliability table, calibration error and the isotonic fit."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.evaluate import calibration_error, isotonic_fit, reliability


def test_a_calibrated_forecast_has_a_small_error_and_an_overconfident_one_does_not():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 20000)
    y = rng.uniform(0, 1, p.size) < p
    assert calibration_error(p, y) < 0.02
    assert calibration_error(np.where(p > 0.5, 1.0, 0.0), y) > 0.2


def test_reliability_bins():
    t = reliability([0.05, 0.05, 0.95, 0.95], [False, True, True, True])
    assert t["count"][0] == 2 and t["count"][9] == 2 and sum(t["count"]) == 4
    assert t["frequency"][0] == 0.5 and t["frequency"][9] == 1.0
    assert t["ece"] == pytest.approx((2 * 0.45 + 2 * 0.05) / 4)
    assert np.isnan(t["mean_prob"][5])
    with pytest.raises(ValueError):
        reliability([0.1], [True, False])


def test_isotonic_fit_is_monotone_and_fixes_a_distorted_forecast():
    rng = np.random.default_rng(1)
    true_p = rng.uniform(0, 1, 20000)
    y = rng.uniform(0, 1, true_p.size) < true_p
    said = true_p**3  # too low everywhere inside (0, 1)
    x, m = isotonic_fit(said, y)
    assert x[0] == 0.0 and x[-1] == 1.0 and np.all(np.diff(x) > 0) and np.all(np.diff(m) >= 0)
    fixed = np.interp(said, x, m)
    assert calibration_error(fixed, y) < 0.02 < calibration_error(said, y)
