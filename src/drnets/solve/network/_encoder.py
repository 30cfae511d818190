"""The encoder: one network shared by every point of a library, pattern and composition in,
the interpretable latent space out (phase fractions, lattice shifts, peak widths).

The heads start at zero, so that before training every candidate has the same fraction and
sits at the shift and width where screening put it; training moves them from there.
"""

from __future__ import annotations

import torch
from torch import nn


def sparsemax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of ``logits`` onto the simplex over the ``mask``ed entries (last axis).

    Unlike a softmax it gives exact zeros, so a phase is absent, not merely small.
    """
    z = logits.masked_fill(~mask, float("-inf"))
    srt, _ = torch.sort(z, dim=-1, descending=True)
    srt = torch.where(torch.isfinite(srt), srt, torch.zeros_like(srt))
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    valid = torch.sort(mask.to(z.dtype), dim=-1, descending=True)[0] > 0
    cum = srt.cumsum(-1)
    support = valid & (1 + k * srt > cum)
    k_z = support.sum(-1, keepdim=True).clamp_min(1)
    tau = (torch.gather(cum, -1, k_z - 1) - 1) / k_z.to(z.dtype)
    out = (logits - tau).clamp_min(0)
    return torch.where(mask, out, torch.zeros_like(out))


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the ``mask``ed entries of the last axis (0 elsewhere)."""
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1).nan_to_num(0.0)


class Encoder(nn.Module):
    """Pattern (L,) and composition (M,) of a point to raw outputs for every phase (P,).

    Parameters
    ----------
    n_q, n_comp, n_phases : int
        Pattern length, number of elements, number of candidate phases.
    hidden : int
        Width of the two hidden layers.
    """

    def __init__(self, n_q: int, n_comp: int, n_phases: int, hidden: int = 256) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_q + n_comp, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.Linear(hidden, 2 * n_phases)
        nn.init.zeros_(self.heads.weight)
        nn.init.zeros_(self.heads.bias)
        # A phase's peak width (crystallite size, strain) belongs to the phase across the
        # library, not to a point: one learned offset per phase, which the decoder reads.
        # Per point, a broad peak of a wrong phase could soak up any misfit.
        self.width = nn.Parameter(torch.zeros(n_phases))
        self.n_phases = n_phases

    def forward(self, x: torch.Tensor, comp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, shift offsets, width offsets), each (N, P); the width offsets are the same at every point."""
        h = self.body(torch.cat([x, comp], dim=-1))
        out = self.heads(h)
        p = self.n_phases
        return out[:, :p], out[:, p:], self.width.expand(x.shape[0], -1)
