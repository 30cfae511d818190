"""Evidence: what each phase of the answer buys, in per-phase costs."""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ._problem import Problem
from ._state import State


def evidence(pb: Problem, state: State) -> np.ndarray:
    """(N, P): the rise of each point's residual when a present phase is left out (the
    others and the background refitted), in units of the point's per-phase cost; 0 where
    the phase is absent. Below 1 the data alone do not support the phase."""
    out = np.zeros((state.phase.shape[0], pb.p_n))
    for i in range(state.phase.shape[0]):
        js = np.flatnonzero(state.present[i] & (state.coef[i] > 0))
        if js.size == 0:
            continue
        x = pb.xraw[i]
        # the final fits' measure: weighted by the counting weights where there are any
        w = np.ones_like(x) if pb.weights is None else pb.weights[i]
        r = (x - state.rec[i] - state.bg[i]) * w
        rss = float(r @ r)
        for j in js:
            rest = js[js != j]
            if rest.size:
                without = pb.fit_point(i, state.phase[i, rest], state.shift[i, rest])["rss"]
            elif pb.basis is not None:
                without = nnls(pb.basis * w[:, None], x * w)[1] ** 2
            else:
                without = float((x * w) @ (x * w))
            out[i, state.phase[i, j]] = max(without - rss, 0.0) / pb.pen[i]
    return out
