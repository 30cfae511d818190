"""Per-point combinatorial search: the best phase set within the Gibbs limit.

Every subset of a point's candidate pool up to its Gibbs limit is first fitted by least
squares at once (batched small normal-equation solves) with each candidate at its own
best shift and width; the best few subsets are then improved by coordinate descent, each
member in turn taking the grid shift and width that best explain what the others leave.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from itertools import combinations

import numpy as np
import torch

from ._atoms import Atoms
from ._texture import TEXTURE_R


def subsets_up_to(pool_size: int, k_max: int) -> list[np.ndarray]:
    """Index tuples of all subsets of size 1..k_max, grouped by size: list of (C, k) arrays."""
    return [
        np.array(list(combinations(range(pool_size), k)), dtype=np.int64).reshape(-1, k) for k in range(1, k_max + 1)
    ]


def fit_subsets(x: torch.Tensor, prof: torch.Tensor, subsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares fit of every subset of a pool at every point.

    Parameters
    ----------
    x : tensor (N, L)
    prof : tensor (N, K, L)
        Each point's pool profiles at their current shifts and widths.
    subsets : tensor (C, k) long
        Pool indices of each subset (all of one size k).

    Returns
    -------
    rss : tensor (N, C)
        Residual sum of squares; +inf where a coefficient is not positive.
    coef : tensor (N, C, k)
    """
    gram = prof @ prof.transpose(1, 2)
    b = (prof @ x.unsqueeze(-1)).squeeze(-1)
    xx = (x * x).sum(-1, keepdim=True)
    k = subsets.shape[1]
    g = gram[:, subsets.unsqueeze(-1), subsets.unsqueeze(-2)]
    bs = b[:, subsets]
    eye = torch.eye(k, dtype=x.dtype, device=x.device)
    scale = g.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).unsqueeze(-1).clamp_min(1e-12)
    g = g + 1e-6 * scale * eye  # ridge against exactly collinear profiles
    coef = torch.linalg.solve(g, bs.unsqueeze(-1)).squeeze(-1)
    rss = xx - (coef * bs).sum(-1)
    rss = torch.where((coef > 0).all(-1), rss.clamp_min(0), torch.full_like(rss, float("inf")))
    return rss, coef


def composition_distance(comp: torch.Tensor, pool_comp: torch.Tensor, subsets: torch.Tensor) -> torch.Tensor:
    """Distance of each point's composition from the cone of each subset's phase compositions.

    Parameters
    ----------
    comp : (N, M) point compositions; pool_comp : (N, K, M) cation fractions of the pool;
    subsets : (C, k) pool indices.

    Returns
    -------
    (N, C) Euclidean distance of the non-negative least-squares fit (0: consistent).
    """
    n, c = comp.shape[0], subsets.shape[0]
    k = subsets.shape[1]
    cols = pool_comp.double()[:, subsets]  # (N, C, k, M); float64: polymorphs give equal columns
    target = comp.double().unsqueeze(1).expand(n, c, -1).reshape(n * c, -1)
    _, rss = nnls_small(target, cols.reshape(n * c, k, -1), torch.ones(n * c, k, dtype=torch.bool, device=comp.device))
    return rss.clamp_min(0).sqrt().reshape(n, c).to(comp.dtype)


def soft_composition_cost(
    coef: torch.Tensor,
    subsets: torch.Tensor,
    comp: torch.Tensor,
    pool_comp: torch.Tensor,
    scale: float,
    weight: torch.Tensor,
) -> torch.Tensor:
    """(N, C): ``weight * min(d / scale, 1)**2``, d the distance of each point's composition
    from its subset's compositions weighted by their amplitudes ``coef`` (N, C, k) (the
    soft composition rule of :meth:`Problem.composition_cost`, batched); zero for a subset
    with no system phase (all-zero composition rows)."""
    pc = pool_comp[:, subsets]  # (N, C, k, M)
    amp = coef.clamp_min(0) * (pc.sum(-1) > 0).to(coef.dtype)
    tot = amp.sum(-1, keepdim=True)
    mix = (amp.unsqueeze(-1) * pc).sum(-2) / tot.clamp_min(1e-12)
    d = (mix - comp.unsqueeze(1)).norm(dim=-1)
    soft = torch.where(tot.squeeze(-1) > 0, (d / scale).clamp(max=1.0) ** 2, torch.zeros_like(d))
    return weight.unsqueeze(-1) * soft


def best_subsets(
    x: torch.Tensor,
    prof: torch.Tensor,
    k_max: torch.Tensor,
    penalty: torch.Tensor,
    top: int,
    composition: tuple[torch.Tensor, torch.Tensor, float] | None = None,
    soft_composition: tuple[torch.Tensor, torch.Tensor, float, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``top`` best subsets per point by ``rss + sum of members' penalties`` within each point's limit.

    ``penalty`` is (N, K): the cost of each pool member at each point. ``composition``
    (point compositions (N, M), pool phase compositions (N, K, M), tolerance) makes subsets
    whose phases cannot make up the point's composition infeasible; a point with no
    feasible subset keeps the unconstrained ranking. ``soft_composition`` (point
    compositions, pool compositions with zero rows for substrates, scale, per-point
    weight) adds :func:`soft_composition_cost` to each subset's score.

    Returns
    -------
    members : tensor (N, top, kmax) long
        Pool indices (-1 pads).
    coef : tensor (N, top, kmax)
    score : tensor (N, top)
    """
    n, pool, _ = prof.shape
    kk = int(max(1, min(int(k_max.max()), pool)))
    all_members, all_coef, all_score, free = [], [], [], []
    for k, sub in enumerate(subsets_up_to(pool, kk), start=1):
        st = torch.as_tensor(sub, device=x.device)
        rss, coef = fit_subsets(x, prof, st)
        score = rss + penalty[:, st].sum(-1)
        score = torch.where((k <= k_max).unsqueeze(-1), score, torch.full_like(score, float("inf")))
        if soft_composition is not None:
            score = score + soft_composition_cost(coef, st, *soft_composition)
        if composition is not None:
            dist = composition_distance(composition[0], composition[1], st)
            free.append(score)
            score = torch.where(dist <= composition[2], score, torch.full_like(score, float("inf")))
        mem = torch.full((st.shape[0], kk), -1, dtype=torch.long, device=x.device)
        mem[:, :k] = st
        cf = torch.zeros(n, st.shape[0], kk, dtype=x.dtype, device=x.device)
        cf[:, :, :k] = coef
        all_members.append(mem.expand(n, -1, -1))
        all_coef.append(cf)
        all_score.append(score)
    members = torch.cat(all_members, 1)
    coef = torch.cat(all_coef, 1)
    score = torch.cat(all_score, 1)
    if composition is not None:
        none_ok = ~torch.isfinite(score).any(1, keepdim=True)
        score = torch.where(none_ok, torch.cat(free, 1), score)
    t = min(top, score.shape[1])
    best, idx = torch.topk(score, t, dim=1, largest=False)
    return (
        torch.gather(members, 1, idx.unsqueeze(-1).expand(-1, -1, kk)),
        torch.gather(coef, 1, idx.unsqueeze(-1).expand(-1, -1, kk)),
        best,
    )


def nnls_small(x: torch.Tensor, prof: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact non-negative least squares for many tiny problems (k <= 5 columns) at once.

    Active-set: solve on the active columns, drop the most negative one, repeat.

    Parameters
    ----------
    x : (B, L); prof : (B, k, L); present : (B, k) bool

    Returns
    -------
    coef : (B, k) (zero where absent or dropped)
    rss : (B,)
    """
    b_n, k, _ = prof.shape
    gram = prof @ prof.transpose(1, 2)
    rhs = (prof @ x.unsqueeze(-1)).squeeze(-1)
    scale = gram.diagonal(dim1=-2, dim2=-1).clamp_min(1e-12)
    active = present.clone()
    eye = torch.eye(k, dtype=x.dtype, device=x.device)
    coef = torch.zeros(b_n, k, dtype=x.dtype, device=x.device)
    for _ in range(k + 1):
        m = active.to(x.dtype)
        g = (
            gram * m.unsqueeze(-1) * m.unsqueeze(-2)
            + eye * (1 - m).unsqueeze(-1)
            + torch.diag_embed(1e-7 * scale + 1e-10)
        )
        coef = torch.linalg.solve(g, (rhs * m).unsqueeze(-1)).squeeze(-1) * m
        neg = (coef < 0) & active
        if not bool(neg.any()):
            break
        worst = torch.where(neg, coef, torch.zeros_like(coef)).argmin(-1)
        drop = torch.zeros_like(active).scatter_(1, worst.unsqueeze(-1), True) & neg.any(-1, keepdim=True)
        active = active & ~drop
    coef = coef.clamp_min(0)
    recon = (coef.unsqueeze(-1) * prof).sum(1)
    rss = ((x - recon) ** 2).sum(-1)
    return coef, rss


def coordinate_descent(
    x: torch.Tensor,
    phase: np.ndarray,
    shift_idx: np.ndarray,
    width_idx: np.ndarray,
    present: np.ndarray,
    atoms: Atoms,
    *,
    sweeps: int = 2,
) -> tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor]:
    """Improve each member's grid shift and width given the others, for many fits at once.

    Parameters
    ----------
    x : tensor (B, L)
    phase, shift_idx, width_idx : ndarray (B, k) int
    present : ndarray (B, k) bool

    Returns
    -------
    shift_idx, width_idx : ndarray (B, k)
    coef : tensor (B, k)
    rss : tensor (B,)
    """
    shift_idx, width_idx = shift_idx.copy(), width_idx.copy()
    b_n, k = phase.shape
    pres_t = torch.as_tensor(present, device=x.device)
    safe_phase = np.where(present, phase, phase[:, :1])
    prof = atoms.profiles(safe_phase, shift_idx, width_idx) * pres_t.unsqueeze(-1)
    coef, rss = nnls_small(x, prof, pres_t)
    sw = atoms.n_widths
    for _ in range(sweeps):
        for m in range(k):
            rows_all = np.flatnonzero(present[:, m])
            if rows_all.size == 0:
                continue
            others = (coef.unsqueeze(-1) * prof).sum(1) - coef[:, m : m + 1] * prof[:, m]
            r = x - others
            for p in np.unique(phase[rows_all, m]):
                rows = rows_all[phase[rows_all, m] == p]
                blk = atoms.phase(int(p)).reshape(atoms.n_combos, -1)  # (S*W, L), a view
                dd = atoms.norm2(int(p))
                g = r[torch.as_tensor(rows, device=x.device)] @ blk.T
                e = torch.where(g > 0, g * g / dd, torch.zeros_like(g))
                best = e.argmax(-1).cpu().numpy()
                shift_idx[rows, m], width_idx[rows, m] = best // sw, best % sw
            prof[:, m] = atoms.profiles(safe_phase[:, m], shift_idx[:, m], width_idx[:, m]) * pres_t[:, m : m + 1]
            coef, rss = nnls_small(x, prof, pres_t)
    return shift_idx, width_idx, coef, rss


def group_fit(
    x: np.ndarray,
    phases: np.ndarray,
    shift_idx: np.ndarray,
    atoms: Atoms,
    offsets: tuple[int, ...] | tuple[tuple[int, ...], ...] = (-3, 0, 3),
    basis: np.ndarray | None = None,
    texture_cost: float | None = None,
    memo: Callable[[Hashable, Callable[[], tuple[np.ndarray, float]]], tuple[np.ndarray, float]] | None = None,
    weight: np.ndarray | None = None,
) -> dict[str, np.ndarray | float]:
    """Non-negative fit of one pattern by each phase's local family of profiles.

    A phase is drawn not by one profile but by a non-negative mixture of its profiles at a
    few shifts around its centre and at every grid width: inhomogeneous broadening (a spread
    of lattice parameters and crystallite sizes in the measured spot) and non-Gaussian peak
    shapes are mixtures of that kind.

    ``offsets`` are the family's grid steps around each centre: one tuple for every member,
    or a tuple per member (a member pinned to its centre takes ``(0,)``).

    ``basis`` (L, B), if given, adds smooth non-negative background columns to the fit.
    With ``texture_cost`` (in squared-residual units) phases with texture variants
    (``atoms.texture``, see :mod:`~drnets.solve._texture`) may take them as further
    columns, at the shift and width that carry most of their part in the plain fit: a fit
    with every variant tells each phase's axis, a fit with those axes only is kept when
    it lowers the residual by more than ``texture_cost`` per textured phase; ``rss`` then
    includes those costs.

    ``weight`` (L,), if given, weights each Q point of the least squares (``rss`` is then
    the weighted residual; ``recon`` and ``background`` stay in pattern units).

    ``memo(tag, solve)``, if given, answers each NNLS of the fit (``tag`` names its texture
    columns, if any; the caller's key names the pattern and the profile families) with
    ``solve()``'s result or a stored one (see :class:`~drnets.solve._fit_cache.FitCache`).

    Returns
    -------
    dict with ``rss``, ``height`` (k,: peak height of each phase's part, the fraction
    convention), ``shift`` (k,: amplitude-weighted multiplicative shift), ``width`` (k,:
    amplitude-weighted width multiplier), ``recon`` (L,: the phases) and ``background`` (L,).
    """
    from scipy.optimize import nnls

    k = len(phases)
    s_n, w_n = atoms.n_shifts, atoms.n_widths
    cols, owner, sh, wd, grid = [], [], [], [], []
    per_member = len(offsets) > 0 and isinstance(offsets[0], tuple)
    for j in range(k):
        offs = offsets[j] if per_member else offsets
        s_list = sorted({int(min(max(shift_idx[j] + o, 0), s_n - 1)) for o in offs})  # np.clip, for scalars
        cols.append(atoms.rows_numpy(int(phases[j]), s_list).reshape(len(s_list) * w_n, -1))
        for s in s_list:
            for w in range(w_n):
                owner.append(j)
                sh.append(atoms.shifts[s])
                wd.append(atoms.widths[w])
                grid.append((s, w))
    a = np.concatenate(cols, dtype=float).T
    n_b = 0 if basis is None else basis.shape[1]

    def solve(a: np.ndarray, tag: Hashable = ()) -> tuple[np.ndarray, float]:
        def run() -> tuple[np.ndarray, float]:
            full = a if basis is None else np.concatenate([a, basis], 1)
            if weight is None:
                return nnls(full, x.astype(float), maxiter=50 * full.shape[1])
            return nnls(full * weight[:, None], x.astype(float) * weight, maxiter=50 * full.shape[1])

        return run() if memo is None else memo(tag, run)

    coef_all, r = solve(a)
    rss = float(r * r)
    if texture_cost is not None and atoms.texture is not None:
        variants = []  # (member, rows (T, L), anchor shift index, anchor width index)
        own = np.array(owner)
        for j in range(k):
            c = coef_all[: a.shape[1]][own == j]
            if c.max(initial=0.0) <= 0:
                continue
            s, w = grid[int(np.flatnonzero(own == j)[int(np.argmax(c))])]
            rows = atoms.texture_rows(int(phases[j]), s, w)
            if rows is not None:
                variants.append((j, rows, s, w))
        if variants:
            # every variant at once tells each phase's axis (the pair of rows with most weight)
            c_all, _ = solve(
                np.concatenate([a] + [v[1].T for v in variants], 1),
                ("variants", *((j, s, w) for j, _, s, w in variants)),
            )
            at, picked, axes = a.shape[1], [], []
            for j, rows, s, w in variants:
                mass = c_all[at : at + len(rows)].reshape(-1, len(TEXTURE_R)).sum(1)
                at += len(rows)
                if mass.max() > 0:
                    ax = int(np.argmax(mass))
                    picked.append((j, rows[ax * len(TEXTURE_R) : (ax + 1) * len(TEXTURE_R)], s, w))
                    axes.append((j, s, w, ax))
            if picked:
                a_t = np.concatenate([a] + [v[1].T for v in picked], 1)
                c_t, r_t = solve(a_t, ("axes", *axes))
                if r_t * r_t + texture_cost * len(picked) < rss:
                    a, coef_all, rss = a_t, c_t, float(r_t * r_t) + texture_cost * len(picked)
                    for j, rows, s, w in picked:
                        owner += [j] * len(rows)
                        sh += [atoms.shifts[s]] * len(rows)
                        wd += [atoms.widths[w]] * len(rows)
    coef = coef_all[: a.shape[1]]
    background = basis @ coef_all[a.shape[1] :] if n_b else np.zeros(x.size)
    owner, sh, wd = np.array(owner), np.array(sh), np.array(wd)
    height, shift, width = np.zeros(k), np.full(k, np.nan), np.ones(k)
    parts = np.zeros((k, x.size))
    for j in range(k):
        m = owner == j
        c = coef[m]
        if c.sum() <= 0:
            continue
        parts[j] = a[:, m] @ c
        height[j] = parts[j].max()
        shift[j] = float((c * sh[m]).sum() / c.sum())
        width[j] = float((c * wd[m]).sum() / c.sum())
    return {
        "rss": rss,
        "height": height,
        "shift": shift,
        "width": width,
        "recon": parts.sum(0),
        "background": background,
    }
