"""The reasoning module of the network: the rules as differentiable terms of the loss.

Every term takes the dense (N, P) fractions and shifts that the encoder gives (zeros for
phases that are not a point's candidates) and returns a scalar (or, for Gibbs, one value per
point, which the training loop weighs with a Lagrange multiplier per point).
"""

from __future__ import annotations

import torch


def gibbs_excess(frac: torch.Tensor, limits: torch.Tensor) -> torch.Tensor:
    """(N,): the fraction held by phases beyond each point's Gibbs limit (a count relaxation).

    The largest ``limit`` fractions are allowed; what the others hold is the excess, zero
    exactly when the point has no more phases than its limit.
    """
    srt, _ = torch.sort(frac, dim=-1, descending=True)
    rank = torch.arange(frac.shape[-1], device=frac.device)
    return (srt * (rank.unsqueeze(0) >= limits.unsqueeze(-1))).sum(-1)


def entropy(frac: torch.Tensor) -> torch.Tensor:
    """(N,): Shannon entropy of each point's fractions (a sparsity pressure: few phases)."""
    return -(frac * frac.clamp_min(1e-12).log()).sum(-1)


def alloying_smoothness(frac: torch.Tensor, shift: torch.Tensor, edges: torch.Tensor, max_shift: float) -> torch.Tensor:
    """A phase's shift changing along composition-graph edges where both ends hold it.

    Weighted by the product of the two fractions (so a phase absent at either end adds
    nothing), in units of ``max_shift``, mean over edges.
    """
    if edges.numel() == 0:
        return frac.new_zeros(())
    a, b = edges[:, 0], edges[:, 1]
    w = frac[a] * frac[b]
    d = (shift[a] - shift[b]) / max_shift
    return (w * d * d).sum() / edges.shape[0]


def fraction_smoothness(frac: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """L1 change of the fractions along composition-graph edges, mean over edges (connected regions)."""
    if edges.numel() == 0:
        return frac.new_zeros(())
    return (frac[edges[:, 0]] - frac[edges[:, 1]]).abs().sum() / edges.shape[0]


def composition_mismatch(frac: torch.Tensor, phase_comp: torch.Tensor, comp: torch.Tensor) -> torch.Tensor:
    """Squared distance between each point's composition and its phases' cation compositions
    mixed by the fractions (substrates, whose composition rows are zero, do not count), mean."""
    sys = frac * (phase_comp.sum(-1) > 0).to(frac.dtype)
    tot = sys.sum(-1, keepdim=True)
    mix = (sys @ phase_comp) / tot.clamp_min(1e-12)
    d2 = ((mix - comp) ** 2).sum(-1)
    return torch.where(tot.squeeze(-1) > 0, d2, torch.zeros_like(d2)).mean()
