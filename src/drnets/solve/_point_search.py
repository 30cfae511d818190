"""The subset search at a set of points: the best phase set of each, within its Gibbs limit.

For each point every subset of its pool up to its limit is fitted at once (grid shifts and
widths), the best few are improved by coordinate descent, and the best few of those get
the final profile-family fit (:func:`~drnets.solve._search.group_fit`); the lowest cost
(residual plus per-phase costs, see :meth:`Problem.cost`) wins.
"""

from __future__ import annotations

import numpy as np
import torch

from ._cost import penalty_weights
from ._problem import Problem
from ._screen import Pool
from ._search import best_subsets, coordinate_descent
from ._state import State


def _pool_arrays(pools: list[Pool], pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pools of ``pts`` as padded (phase, combo, valid) arrays of shape (len(pts), K)."""
    kp = max(1, max(len(pools[i]) for i in pts))
    ph = np.zeros((pts.size, kp), dtype=np.int64)
    cb = np.zeros((pts.size, kp), dtype=np.int64)
    valid = np.zeros((pts.size, kp), dtype=bool)
    for r, i in enumerate(pts):
        items = list(pools[i].items())
        if not items:
            continue
        ph[r, : len(items)] = [p for p, _ in items]
        cb[r, : len(items)] = [v for _, v in items]
        valid[r, : len(items)] = True
    return ph, cb, valid


def search(pb: Problem, points: np.ndarray, pools: list[Pool], state: State) -> State:
    """A new state in which each of ``points`` holds the best subset of its pool."""
    p, atoms, x = pb.params, pb.atoms, pb.x
    nw = atoms.n_widths
    new = state.copy()
    for a in range(0, points.size, p.chunk_points):
        pts = points[a : a + p.chunk_points]
        c = pts.size
        ph, cb, valid = _pool_arrays(pools, pts)
        if not valid.any():
            continue
        ph_safe = np.where(valid, ph, ph[:, :1])
        rows_ph = pb.rows_of(pts[:, None], ph_safe)  # textured copies where a texture draws a phase so
        prof = atoms.profiles(rows_ph, cb // nw, cb % nw) * torch.as_tensor(valid, device=x.device).unsqueeze(-1)
        xs = x[torch.as_tensor(pts, device=x.device)]
        kmax_t = torch.as_tensor(np.minimum(pb.search_limits[pts], valid.sum(1).clip(1)), device=x.device)
        weight = penalty_weights(pb, pts, ph, valid, state)
        pen_t = torch.as_tensor(
            pb.pen[pts][:, None] * (weight + pb.prior(atoms.shifts[cb // nw])), dtype=x.dtype, device=x.device
        )
        comp = None
        if p.composition_tolerance is not None:
            comp = (
                torch.as_tensor(pb.comp[pts], dtype=x.dtype, device=x.device),
                torch.as_tensor(pb.phase_comp[ph_safe], dtype=x.dtype, device=x.device),
                p.composition_tolerance,
            )
        soft = None
        if p.composition_weight > 0:
            soft = (
                torch.as_tensor(pb.comp[pts], dtype=x.dtype, device=x.device),
                torch.as_tensor(
                    np.where(pb.substrate[ph_safe][..., None], 0.0, pb.phase_comp[ph_safe]),
                    dtype=x.dtype,
                    device=x.device,
                ),
                p.composition_scale,
                torch.as_tensor(pb.pen[pts] * p.composition_weight, dtype=x.dtype, device=x.device),
            )
        mem, _, score = best_subsets(xs, prof, kmax_t, pen_t, p.top_subsets, comp, soft)
        mem = mem.cpu().numpy()
        ok = np.isfinite(score.cpu().numpy())
        t, kk = mem.shape[1], mem.shape[2]
        present = (mem >= 0) & ok[:, :, None]
        idx = np.where(mem >= 0, mem, 0)
        rows = np.arange(c)[:, None, None]
        m_ph, m_cb = ph[rows, idx], cb[rows, idx]

        def flat(v: np.ndarray, c: int = c, t: int = t, kk: int = kk) -> np.ndarray:
            return v.reshape(c * t, kk)

        s_i, w_i, coef, rss = coordinate_descent(
            xs.repeat_interleave(t, 0),
            flat(pb.rows_of(pts[:, None, None], m_ph)),
            flat(m_cb // nw),
            flat(m_cb % nw),
            flat(present),
            atoms,
            sweeps=p.sweeps,
        )
        coef = coef.cpu().numpy().reshape(c, t, kk)
        used = present & (coef > 0)
        m_w = weight[rows, idx]
        s_i, w_i = s_i.reshape(c, t, kk), w_i.reshape(c, t, kk)
        m_cost = m_w + pb.prior(atoms.shifts[s_i])
        total = rss.cpu().numpy().reshape(c, t) + pb.pen[pts][:, None] * (m_cost * used).sum(-1)
        if p.composition_weight > 0:
            for r, i in enumerate(pts):
                for b in range(t):
                    total[r, b] += pb.pen[i] * pb.composition_cost(i, m_ph[r, b][used[r, b]], coef[r, b][used[r, b]])
        total = np.where(used.any(-1), total, np.inf)
        for r, i in enumerate(pts):
            best = None
            for bi in np.argsort(total[r])[: p.group_top]:
                if not np.isfinite(total[r, bi]):
                    break
                js = np.flatnonzero(used[r, bi])
                g = pb.fit_point(i, m_ph[r, bi, js], s_i[r, bi, js])
                sc, keep_j = pb.fit_cost(i, m_ph[r, bi, js], g, m_w[r, bi, js])
                if best is None or sc < best[0]:
                    best = (sc, bi, js, g, keep_j)
            if best is None:
                continue
            sc, bi, js, g, kj = best
            new.set_fit(i, m_ph[r, bi, js], s_i[r, bi, js], w_i[r, bi, js], g, sc, kj)
    return new
