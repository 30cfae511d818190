"""Screening and candidate pools: which phases each point's subset search considers.

Every allowed phase is scored at every point by the energy it alone can explain at its
best shift and width; a point's pool is its own answer's phases, its neighbours', the
phases that best explain what its answer leaves (later rounds), then the best-screened.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._problem import Problem
from ._state import State

#: A pool: {phase index: combo index (shift index * widths + width index)}.
Pool = dict[int, int]


def screen(pb: Problem, x: torch.Tensor, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Explained energy (b^2/|d|^2 where b > 0) of each phase at its best shift and width.

    Returns the energy (N, P; -1 where the phase is not kept) and the best combo index.
    """
    atoms = pb.atoms
    n, p_n = x.shape[0], keep.shape[1]
    energy = np.full((n, p_n), -1.0)
    combo = np.zeros((n, p_n), dtype=np.int64)
    cand = np.flatnonzero(keep.any(axis=0))
    # a substrate drawn by one row at every point (its own intensities) is scored as drawn
    drawn = np.arange(p_n)
    if pb.drawn is not None:
        same = (pb.drawn == pb.drawn[0]).all(0)
        drawn = np.where(pb.substrate & same, pb.drawn[0], drawn)
    for a in range(0, cand.size, 16):
        ph = cand[a : a + 16]
        blk = atoms.block(drawn[ph]).reshape(ph.size * atoms.n_combos, -1)
        dd = (blk * blk).sum(-1).clamp_min(1e-12)
        for b in range(0, n, 1024):
            g = x[b : b + 1024] @ blk.T
            e = torch.where(g > 0, g * g / dd, torch.zeros_like(g)).reshape(-1, ph.size, atoms.n_combos)
            v, i = e.max(-1)
            energy[b : b + 1024, ph] = v.cpu().numpy()
            combo[b : b + 1024, ph] = i.cpu().numpy()
    energy[~keep] = -1.0
    return energy, combo


def best_combos(
    pb: Problem, resid: np.ndarray, owner: np.ndarray, phases: np.ndarray, allowed: np.ndarray, textured: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Explained energy (b^2/|d|^2 where b > 0) of each of ``phases`` in each residual row
    (rows of ``resid``, of points ``owner``) at its best grid (shift, width), and that combo.

    ``allowed`` (R, len(phases)) says which pairs to score (0 elsewhere). ``textured``: draw
    a phase with the dictionary row that draws it at the row's point (:meth:`Problem.rows_of`),
    not its own tabulated profiles.
    """
    atoms = pb.atoms
    energy = np.zeros((resid.shape[0], len(phases)))
    combo = np.zeros((resid.shape[0], len(phases)), dtype=np.int64)
    if resid.shape[0] == 0 or len(phases) == 0:
        return energy, combo
    rt = torch.as_tensor(resid, dtype=atoms.dtype, device=atoms.device)
    for c, p in enumerate(phases):
        sel = np.flatnonzero(allowed[:, c])
        if sel.size == 0:
            continue
        drawn = pb.rows_of(owner[sel], np.full(sel.size, p)) if textured else np.full(sel.size, p)
        for row in np.unique(drawn):
            rr = sel[drawn == row]
            g = rt[torch.as_tensor(rr, device=rt.device)] @ atoms.phase(int(row)).reshape(atoms.n_combos, -1).T
            e = torch.where(g > 0, g * g / atoms.norm2(int(row)), torch.zeros_like(g))
            best, arg = e.max(-1)
            energy[rr, c], combo[rr, c] = best.cpu().numpy(), arg.cpu().numpy()
    return energy, combo


def seed_pool(pb: Problem, state: State, i: int, keep: np.ndarray, neighbours: Sequence[int]) -> Pool:
    """Point i's own allowed phases, then its neighbours' (at the holder's shift and width)."""
    nw = pb.atoms.n_widths
    pool: Pool = {}
    for src in (i, *neighbours):
        for j in np.flatnonzero(state.present[src]):
            ph = int(state.phase[src, j])
            if ph not in pool and keep[i, ph]:
                pool[ph] = int(state.shift[src, j]) * nw + int(state.width[src, j])
    return pool


def round_pools(
    pb: Problem,
    state: State,
    with_neighbours: bool,
    keep: np.ndarray,
    own: tuple[np.ndarray, np.ndarray],
    resid: tuple[np.ndarray, np.ndarray],
) -> list[Pool]:
    """Pools of a search round: own answer (and neighbours'), the residual's best, the patterns' best.

    ``own`` and ``resid`` are :func:`screen` results on the patterns and on what the
    current answer leaves.
    """
    k = pb.params.pool_size
    (e_x, c_x), (e_r, c_r) = own, resid
    order_x = np.argsort(-e_x, axis=1)[:, : 2 * k]
    order_r = np.argsort(-e_r, axis=1)[:, :k]
    pools = []
    for i in range(state.phase.shape[0]):
        pool = seed_pool(pb, state, i, keep, pb.nbrs[i] if with_neighbours else ())
        for src, order, combo in ((e_r, order_r, c_r), (e_x, order_x, c_x)):
            for ph in order[i]:
                if src is e_x and len(pool) >= k:
                    break
                if src[i, ph] > 0 and int(ph) not in pool:
                    pool[int(ph)] = int(combo[i, ph])
                    if src is e_r and len(pool) >= k + 2:
                        break
        pools.append(pool)
    return pools


def restricted_pools(pb: Problem, state: State, points: np.ndarray, keep: np.ndarray) -> list[Pool]:
    """Pools for re-solving ``points`` under ``keep`` (own and neighbours' phases, then screening)."""
    x = pb.x
    e_x, c_x = screen(pb, x[torch.as_tensor(points, device=x.device)], keep[points])
    pools: list[Pool] = [dict() for _ in range(state.phase.shape[0])]
    for r, i in enumerate(points):
        pool = seed_pool(pb, state, i, keep, pb.nbrs[i])
        for ph in np.argsort(-e_x[r])[: pb.params.pool_size]:
            if len(pool) >= pb.params.pool_size:
                break
            if e_x[r, ph] > 0 and int(ph) not in pool:
                pool[int(ph)] = int(c_x[r, ph])
        pools[i] = pool
    return pools
