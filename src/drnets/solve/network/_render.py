"""The generative decoder of the network: each candidate phase drawn from its sticks at the
network's shift and width, with the package's windowed renderer, differentiably.

A phase's sticks are rendered only in their windows (:func:`~drnets.solve._decoder.render_windows`),
and candidates are grouped by their number of sticks so that little time goes into padding.
"""

from __future__ import annotations

import numpy as np
import torch

from .._decoder import MIN_DECODER_SIGMA, max_normalized_torch, render_windows, window_size

#: Stick-count buckets: a candidate is rendered with the smallest bucket that holds its sticks.
_BUCKETS = (16, 32, 64, 128, 256, 512)


class CandidateRenderer:
    """Max-normalised profiles (N, C, L) of each point's candidates at given shifts and widths.

    Parameters
    ----------
    q : ndarray (L,)
    sq, si : ndarray (P, K)
        Padded sticks (:func:`~drnets.solve._decoder.padded_sticks`; real sticks first).
    sigma : (float, float)
        Base peak sigma at both ends of the grid.
    device : str
    eta : float
        Lorentzian share of the pseudo-Voigt peaks (0: Gaussian), as the search's profiles.
    """

    def __init__(
        self, q: np.ndarray, sq: np.ndarray, si: np.ndarray, sigma: tuple[float, float], device: str, eta: float = 0.0
    ) -> None:
        self.q = np.asarray(q, dtype=float)
        self.qt = torch.as_tensor(self.q, dtype=torch.float32, device=device)
        self.sq = torch.as_tensor(sq, dtype=torch.float32, device=device)
        self.si = torch.as_tensor(si, dtype=torch.float32, device=device)
        self.count = (si > 0).sum(1)
        self.sigma = sigma
        self.device = device
        self.eta = float(eta)

    def sigma_at(self, centres: torch.Tensor) -> torch.Tensor:
        """Base sigma at ``centres`` (linear in Q between the grid's ends)."""
        lo, hi = self.sigma
        t = (centres - float(self.q[0])) / max(float(self.q[-1] - self.q[0]), 1e-12)
        return lo + (hi - lo) * t

    def __call__(self, phases: np.ndarray, shift: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
        """Profiles of ``phases`` (N, C) at multiplicative ``shift`` and width multiplier ``width`` (N, C)."""
        n, c = phases.shape
        flat = phases.reshape(-1)
        sh, wd = shift.reshape(-1), width.reshape(-1)
        out = torch.zeros(n * c, self.q.size, dtype=torch.float32, device=self.device)
        counts = self.count[flat]
        lower = 0
        for k in _BUCKETS + (int(self.sq.shape[1]),):
            rows = np.flatnonzero((counts > lower) & (counts <= k)) if k > lower else np.zeros(0, dtype=int)
            lower = max(lower, k)
            if rows.size == 0:
                continue
            kk = min(k, int(self.sq.shape[1]))
            r = torch.as_tensor(rows, device=self.device)
            ph = torch.as_tensor(flat[rows], device=self.device)
            cen = self.sq[ph, :kk] * sh[r].unsqueeze(-1)
            sig = (self.sigma_at(cen) * wd[r].unsqueeze(-1)).clamp_min(MIN_DECODER_SIGMA)
            w = window_size(self.q, float(sig.detach().max()), eta=self.eta)
            out = out.index_copy(0, r, render_windows(self.qt, cen, self.si[ph, :kk], sig, w, eta=self.eta))
        return max_normalized_torch(out).reshape(n, c, -1)
