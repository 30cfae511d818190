"""Continuous refinement of amplitudes, shifts and peak widths by gradient descent."""

from __future__ import annotations

import numpy as np
import torch

from ._decoder import render_windows, window_size

#: Bounds of the per-point width multiplier and of the shift change in refinement.
WIDTH_SCALE_BOUNDS = (0.6, 3.0)
SHIFT_STEP_BOUND = 0.01


def refine(
    x: torch.Tensor,
    q: torch.Tensor,
    sq: torch.Tensor,
    si: torch.Tensor,
    ph: torch.Tensor,
    shift0: torch.Tensor,
    amp0: torch.Tensor,
    present: torch.Tensor,
    sigma: float,
    *,
    steps: int = 120,
    lr: float = 0.05,
    q_np: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Refine many small fits at once.

    Parameters
    ----------
    x : (B, L) patterns (one per fit; rows may repeat for several subsets of a point)
    sq, si : (P, K) padded sticks
    ph : (B, k) phase indices (anything where not present)
    shift0, amp0 : (B, k) start values
    present : (B, k) bool
    sigma : base peak sigma

    Returns
    -------
    amp, shift, width_scale : (B, k)
    rss : (B,)
    """
    b, k = ph.shape
    lo_w, hi_w = WIDTH_SCALE_BOUNDS
    w = window_size(q_np if q_np is not None else q.cpu().numpy(), sigma * hi_w)
    sticks_q = sq[ph]  # (B, k, K)
    sticks_i = si[ph] * present.unsqueeze(-1)
    u_shift = torch.zeros(b, k, dtype=x.dtype, device=x.device, requires_grad=True)
    u_width = torch.zeros(b, k, dtype=x.dtype, device=x.device, requires_grad=True)
    u_amp = torch.log(amp0.clamp_min(1e-4)).detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([u_shift, u_width, u_amp], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    mask = present.to(x.dtype)

    def model():
        shift = shift0 + SHIFT_STEP_BOUND * torch.tanh(u_shift)
        ws = lo_w + (hi_w - lo_w) * torch.sigmoid(u_width + _logit0(lo_w, hi_w))
        cen = sticks_q * shift.unsqueeze(-1)
        sig = (sigma * ws).unsqueeze(-1).expand_as(cen)
        prof = render_windows(q, cen.reshape(b * k, -1), sticks_i.reshape(b * k, -1), sig.reshape(b * k, -1), w)
        prof = prof / prof.amax(-1, keepdim=True).clamp_min(1e-12)
        amp = torch.exp(u_amp) * mask
        recon = (amp.reshape(b * k, 1) * prof).reshape(b, k, -1).sum(1)
        return recon, amp, shift, ws

    for _ in range(steps):
        opt.zero_grad()
        recon, *_ = model()
        loss = ((x - recon) ** 2).sum()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        recon, amp, shift, ws = model()
        rss = ((x - recon) ** 2).sum(-1)
    return amp, shift, ws, rss


def _logit0(lo: float, hi: float) -> float:
    """Offset so that a zero parameter means width multiplier 1."""
    t = (1.0 - lo) / (hi - lo)
    return float(np.log(t / (1 - t)))
