"""Per-point combinatorial search: the best phase set within the Gibbs limit.

Every subset of a point's candidate pool up to its Gibbs limit is fitted by least squares
at once (batched small normal-equation solves); subsets with a non-positive coefficient
are infeasible, their non-negative optimum being one of their own subsets, which is also
enumerated. Shifts come from a grid and are refined by coordinate search.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch


def subsets_up_to(pool_size: int, k_max: int) -> list[np.ndarray]:
    """Index tuples of all subsets of size 1..k_max, grouped by size: list of (C, k) arrays."""
    return [np.array(list(combinations(range(pool_size), k)), dtype=np.int64).reshape(-1, k) for k in range(1, k_max + 1)]


def fit_subsets(
    x: torch.Tensor,
    prof: torch.Tensor,
    subsets: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares fit of every subset of a pool at every point.

    Parameters
    ----------
    x : tensor (N, L)
        Patterns.
    prof : tensor (N, K, L)
        Each point's pool profiles (max-normalised, at their current shifts).
    subsets : tensor (C, k) long
        Pool indices of each subset (all of one size k).

    Returns
    -------
    rss : tensor (N, C)
        Residual sum of squares; +inf where a coefficient is not positive.
    coef : tensor (N, C, k)
    """
    gram = prof @ prof.transpose(1, 2)  # (N, K, K)
    b = (prof @ x.unsqueeze(-1)).squeeze(-1)  # (N, K)
    xx = (x * x).sum(-1, keepdim=True)  # (N, 1)
    k = subsets.shape[1]
    g = gram[:, subsets.unsqueeze(-1), subsets.unsqueeze(-2)]  # (N, C, k, k)
    bs = b[:, subsets]  # (N, C, k)
    eye = torch.eye(k, dtype=x.dtype, device=x.device)
    scale = g.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).unsqueeze(-1).clamp_min(1e-12)
    g = g + 1e-6 * scale * eye  # ridge against exactly collinear profiles
    coef = torch.linalg.solve(g, bs.unsqueeze(-1)).squeeze(-1)
    rss = xx - (coef * bs).sum(-1)
    rss = torch.where((coef > 0).all(-1), rss.clamp_min(0), torch.full_like(rss, float("inf")))
    return rss, coef


def best_subsets(
    x: torch.Tensor,
    prof: torch.Tensor,
    k_max: torch.Tensor,
    penalty: torch.Tensor,
    top: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``top`` best subsets per point by ``rss + penalty * size`` within each point's limit.

    Parameters
    ----------
    k_max : tensor (N,) long
        Gibbs limit per point.
    penalty : tensor (N,)
        Cost per phase in RSS units.

    Returns
    -------
    members : tensor (N, top, kmax) long
        Pool indices (-1 pads).
    coef : tensor (N, top, kmax)
    score : tensor (N, top)
    """
    n, pool, _ = prof.shape
    kk = int(min(int(k_max.max()), pool))
    all_members, all_coef, all_score = [], [], []
    for k, sub in enumerate(subsets_up_to(pool, kk), start=1):
        st = torch.as_tensor(sub, device=x.device)
        rss, coef = fit_subsets(x, prof, st)
        score = rss + penalty.unsqueeze(-1) * k
        score = torch.where((k <= k_max).unsqueeze(-1), score, torch.full_like(score, float("inf")))
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
    t = min(top, score.shape[1])
    best, idx = torch.topk(score, t, dim=1, largest=False)
    return (
        torch.gather(members, 1, idx.unsqueeze(-1).expand(-1, -1, kk)),
        torch.gather(coef, 1, idx.unsqueeze(-1).expand(-1, -1, kk)),
        best,
    )
