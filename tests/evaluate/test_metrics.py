"""Comparisons with a truth and reconstruction errors."""

from __future__ import annotations

import csv

import numpy as np

from tests.conftest import shared_path


def read_truth_aligned(labels):
    """The Al-Li-Fe truth as an (N, P) array in the order of ``labels``."""
    with open(shared_path("al-li-fe", "truth", "fractions.csv")) as fh:
        rows = list(csv.reader(fh))
    hdr = rows[0][1:]
    vals = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
    out = np.zeros((vals.shape[0], len(labels)))
    for k, lbl in enumerate(hdr):
        out[:, list(labels).index(lbl)] = vals[:, k]
    return out
