"""Probabilities from the model: a posterior over each point's competing phase sets.

After the fit, each point's answer is set against its neighbours in set space: the answer
less one member, plus one phase, and with one member swapped for another (the candidates are
the phases the answer uses somewhere in the library and their closest look-alikes; a new
member takes the grid shift and width that best explain what the others leave). A quick
one-profile fit ranks the added and swapped sets; the answer, its removals and the best few
others are refitted with the search's final fit (profile families and background) and
costed as the search costs them (residual, per-phase costs with the neighbours' discount,
shift prior, soft composition rule). In units of the point's per-phase cost the costs give a
Boltzmann posterior over the sets (:func:`set_posterior`); its parameters and the monotone
maps that make the probabilities honest are fitted on generated libraries
(:mod:`._calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import nnls

from ._cost import neighbour_weights
from ._problem import Problem
from ._screen import best_combos
from ._search import nnls_small
from ._state import State

#: Candidate phases tried per point (added or swapped in), the best by what they would explain.
CANDIDATES_PER_POINT = 6
#: Look-alikes (most similar allowed phases, at any grid shift) of each phase the answer uses
#: that join the candidates: the answer may have taken one for another everywhere.
LOOK_ALIKES = 3
#: Added or swapped sets per point costed with the final fit (the best of the quick screen).
EXACT_SETS = 2


@dataclass(eq=False)
class AnswerRefit:
    """The answer's sets refitted freely (normalised pattern units): phases (N, L), background
    (N, L) and each phase's shift (N, P; NaN where absent)."""

    model: np.ndarray
    background: np.ndarray
    shift: np.ndarray


@dataclass(eq=False)
class SetCosts:
    """Each point's competing phase sets and their costs.

    Attributes
    ----------
    members : ndarray (N, R, K) int
        Phase indices of each set, -1 pads; row 0 of a point is its answer.
    shares : ndarray (N, R, K)
        Each member's share of the set's peak heights (the fraction convention) in its refit.
    cost : ndarray (N, R)
        Cost above the point's cheapest set, in per-phase costs; inf where a row is unused.
    misfit : ndarray (N,) or None
        The answer's residual variance over the variance its cost stands for (:func:`misfit_ratio`).
    answer : AnswerRefit or None
        The answer's own refit.
    """

    members: np.ndarray
    shares: np.ndarray
    cost: np.ndarray
    misfit: np.ndarray | None = None
    answer: AnswerRefit | None = None


def _grid_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(values, dtype=float)[..., None] - grid).argmin(-1)


def with_look_alikes(pb: Problem, used: np.ndarray, k: int = LOOK_ALIKES) -> np.ndarray:
    """``used`` and, for each, the ``k`` allowed phases whose profile at the middle of the grid
    is most like one of its profiles (cosine, over its shifts and widths)."""
    atoms = pb.atoms
    others = np.setdiff1d(np.flatnonzero(pb.allowed.any(0)), used)
    if others.size == 0 or used.size == 0 or k <= 0:
        return used
    mid = np.full(others.size, atoms.n_shifts // 2)
    base = atoms.profiles(others, mid, np.ones_like(mid) if atoms.n_widths > 1 else np.zeros_like(mid))
    base = base / base.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    extra = set()
    for p in used:
        blk = atoms.phase(int(p)).reshape(atoms.n_combos, -1)
        sim = (blk @ base.T) / atoms.norm2(int(p)).sqrt().unsqueeze(-1)
        best = sim.max(0).values.cpu().numpy()
        extra.update(others[np.argsort(-best, kind="stable")[:k]].tolist())
    return np.union1d(used, np.array(sorted(extra), dtype=np.int64))


def set_costs(
    pb: Problem, state: State, n_candidates: int = CANDIDATES_PER_POINT, n_exact: int = EXACT_SETS
) -> SetCosts:
    """The answer's competing phase sets at every point and their costs (see the module), with
    the answer's own refit (its residual is what :mod:`._unexplained` reads)."""
    atoms = pb.atoms
    n, sw = pb.n, atoms.n_widths
    present = state.present & (state.coef > 0)
    held = state.present_matrix(pb.p_n) & (state.fractions(pb.p_n) > 0)
    cands = with_look_alikes(pb, np.flatnonzero(held.any(0)))
    weight = neighbour_weights(pb, held)
    target = pb.xraw - state.bg
    # Each answer member on the grid: its profile and its part of the reconstruction.
    sets: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    resid_rows, resid_owner, resid_of = [], [], []
    for i in range(n):
        js = np.flatnonzero(present[i])
        ph = state.phase[i, js]
        s_idx = np.array([atoms.shift_index(v) for v in state.shift_val[i, js]], dtype=np.int64)
        w_idx = _grid_index(state.width_val[i, js], np.asarray(atoms.widths)) if js.size else np.zeros(0, np.int64)
        sets.append([(ph, s_idx, w_idx)])
        r0 = target[i] - state.rec[i]
        resid_of.append(len(resid_rows))
        resid_rows.append(r0)
        resid_owner.append(i)
        if js.size:
            prof = atoms.profiles(ph, s_idx, w_idx).cpu().numpy()
            for m in range(js.size):
                resid_rows.append(r0 + state.coef[i, js[m]] * prof[m])
                resid_owner.append(i)
    owner = np.asarray(resid_owner, dtype=np.int64)
    # each candidate drawn as tabulated (no texture copies), as the posterior was calibrated
    energy, combo = best_combos(pb, np.asarray(resid_rows), owner, cands, pb.allowed[owner][:, cands], textured=False)
    for i in range(n):
        ph, s_idx, w_idx = sets[i][0]
        k = ph.size
        base = resid_of[i]
        for m in range(k):  # one member less
            keep = np.arange(k) != m
            if keep.any():
                sets[i].append((ph[keep], s_idx[keep], w_idx[keep]))
        for v in range(k + 1):  # plus one phase (v = 0), or member v - 1 swapped for one
            e = np.where(np.isin(cands, ph) | ~pb.allowed[i, cands], -1.0, energy[base + v])
            order = np.argsort(-e, kind="stable")[:n_candidates]
            keep = np.arange(k) != v - 1
            for c in order:
                if e[c] <= 0:
                    break
                p = cands[c]
                new_ph = np.append(ph[keep], p)
                if new_ph.size > pb.search_limits[i] or int((~pb.substrate[new_ph]).sum()) > pb.limits[i]:
                    continue  # beyond the Gibbs limit
                cb = combo[base + v, c]
                sets[i].append((new_ph, np.append(s_idx[keep], cb // sw), np.append(w_idx[keep], cb % sw)))
    r_max = max(len(s) for s in sets)
    k_max = max(1, max(len(t[0]) for s in sets for t in s))
    members = np.full((n, r_max, k_max), -1, dtype=np.int64)
    s_all = np.zeros((n, r_max, k_max), dtype=np.int64)
    w_all = np.zeros((n, r_max, k_max), dtype=np.int64)
    for i, s in enumerate(sets):
        for r, (ph, si, wi) in enumerate(s):
            members[i, r, : ph.size], s_all[i, r, : ph.size], w_all[i, r, : ph.size] = ph, si, wi
    # A quick screen on one profile per member ranks the added and swapped sets; the answer,
    # its removals and the best few of those are then costed with the search's final fit.
    _, quick = _refit(pb, target, members, s_all, w_all)
    cost = np.full((n, r_max), np.inf)
    shares = np.zeros((n, r_max, k_max))
    fit = AnswerRefit(np.zeros_like(target), np.zeros_like(target), np.full((n, pb.p_n), np.nan))
    p = pb.params
    for i, s in enumerate(sets):
        k = sets[i][0][0].size
        others = np.arange(1 + k, len(s))
        # (with one member there is no removal row: the first added set then takes its place)
        exact = [*range(min(1 + k, len(s))), *others[np.argsort(quick[i, others], kind="stable")[:n_exact]]]
        for r in exact:
            ph = members[i, r][members[i, r] >= 0]
            if ph.size:
                # The answer too is refitted: the rules' repairs may have pinned its shifts, and
                # sets are compared on one footing.
                centre = state.shift[i, present[i]] if r == 0 else s_all[i, r, : ph.size]
                g = pb.fit_point(i, ph, centre)
                h, sh, rss = g["height"], g["shift"], g["rss"]
                if r == 0:
                    fit.model[i], fit.background[i] = g["recon"], g["background"]
                    fit.shift[i, ph] = g["shift"]
            else:
                h, sh = np.zeros(0), np.zeros(0)
                rss = nnls(pb.basis, pb.xraw[i])[1] ** 2 if pb.basis is not None else float(pb.xraw[i] @ pb.xraw[i])
            used = h > 0
            ph, h, sh = ph[used], h[used], sh[used]
            members[i, r] = -1
            extra = pb.composition_cost(i, ph, h) if ph.size else 0.0
            cost[i, r] = rss / pb.pen[i] + (weight[i, ph] + pb.prior(sh)).sum() + extra
            members[i, r, : ph.size] = ph
            if h.size:
                shares[i, r, : ph.size] = h / h.sum()
    resid = pb.xraw - fit.background - fit.model
    misfit = misfit_ratio((resid * resid).sum(1), pb.pen, pb.q.size, p.noise_penalty)
    return unique_sets(SetCosts(members, shares, cost, misfit, fit))


def unique_sets(costs: SetCosts) -> SetCosts:
    """The same sets, each counted once (a member refitted to nothing makes a set another row
    already holds: the later row is dropped), costs measured from each point's cheapest."""
    cost = costs.cost.copy()
    keys = np.sort(costs.members, axis=-1)
    for i in range(cost.shape[0]):
        seen: set[bytes] = set()
        for r in np.flatnonzero(np.isfinite(cost[i])):
            key = keys[i, r].tobytes()
            if key in seen:
                cost[i, r] = np.inf
            seen.add(key)
    cost -= cost.min(1, keepdims=True)
    return SetCosts(costs.members, costs.shares, cost, costs.misfit, costs.answer)


def _refit(
    pb: Problem, target: np.ndarray, members: np.ndarray, s_idx: np.ndarray, w_idx: np.ndarray, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least squares of every (point, set), one profile per member: heights (N, R, K), rss (N, R)."""
    n, r_n, k = members.shape
    flat_m, flat_s, flat_w = members.reshape(-1, k), s_idx.reshape(-1, k), w_idx.reshape(-1, k)
    pt = np.repeat(np.arange(n), r_n)
    heights = np.zeros((n * r_n, k))
    rss = np.zeros(n * r_n)
    atoms = pb.atoms
    for a in range(0, n * r_n, chunk):
        sl = slice(a, a + chunk)
        m = flat_m[sl]
        pres = m >= 0
        safe = np.where(pres, m, np.where(pres.any(1, keepdims=True), m.max(1, keepdims=True), 0))
        pres_t = torch.as_tensor(pres, device=atoms.device)
        prof = atoms.profiles(safe, flat_s[sl], flat_w[sl]) * pres_t.unsqueeze(-1)
        x = torch.as_tensor(target[pt[sl]], dtype=prof.dtype, device=prof.device)
        coef, r = nnls_small(x, prof, pres_t)
        heights[sl] = coef.cpu().numpy()
        rss[sl] = r.cpu().numpy()
    return heights.reshape(n, r_n, k), rss.reshape(n, r_n)


def misfit_ratio(rss: np.ndarray, pen: np.ndarray, n_q: int, noise_penalty: float) -> np.ndarray:
    """(N,) the answer's residual variance over the variance its per-phase cost stands for
    (``pen / noise_penalty``: the noise where the noise sets the cost); 1 for a noise-limited fit."""
    return rss / np.maximum(pen, 1e-300) * max(noise_penalty, 1e-12) / n_q


def set_posterior(
    costs: SetCosts,
    temperature: float,
    answer_bonus: float = 0.0,
    misfit_reference: float = 1.0,
    misfit_power: float = 0.0,
) -> np.ndarray:
    """(N, R) probability of each set, normalised per point.

    ``exp(-cost / T_i)`` with ``T_i = temperature * max(1, misfit / misfit_reference) ** misfit_power``
    (where the model, not the noise, limits the fit, cost differences in noise units overstate
    the evidence), the answer's own set (row 0) weighted by ``exp(answer_bonus)`` (it is what
    the search, the neighbours and the rules chose together).
    """
    t = np.full(costs.cost.shape[0], max(temperature, 1e-12))
    if costs.misfit is not None and misfit_power:
        t = t * np.maximum(1.0, costs.misfit / max(misfit_reference, 1e-12)) ** misfit_power
    logit = -costs.cost / t[:, None]
    logit[:, 0] += answer_bonus
    logit = np.where(np.isfinite(costs.cost), logit, -np.inf)
    logit -= logit.max(1, keepdims=True)
    w = np.exp(logit)
    return w / w.sum(1, keepdims=True)


def present_sets(costs: SetCosts, level: float) -> np.ndarray:
    """(N, R, K): each set's members at or above ``level`` of its peak heights (others -1), sorted."""
    m = np.where(costs.shares >= level, costs.members, -1)
    m = np.sort(m, axis=-1)
    return m
