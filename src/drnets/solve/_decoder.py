"""The generative decoder in PyTorch: phases drawn from their sticks, only inside peak windows.

A dense render of every stick at every Q for every point does not scale (4.7e9 terms for
Al-Li-Fe); each reflection here touches only the ``W`` grid points within
``WINDOW_SIGMAS`` sigmas of its centre, so the cost is O(sticks x W), not O(sticks x L).
"""

from __future__ import annotations

import numpy as np
import torch

from ..core import PhaseLibrary, peak_shape, sigma_at, window_sigmas

#: Smallest sigma (nm⁻¹) the decoder draws a peak with (it runs in float32).
MIN_DECODER_SIGMA = 1e-4


def decoder_sigma(
    centres: np.ndarray, widths: np.ndarray | tuple[float, float], q: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """Peak sigma at ``centres``: ``scale`` times :func:`~drnets.core.sigma_at` over the grid ``q``, floored.

    ``widths`` is as for :func:`~drnets.core.sigma_at` (sigma at ``q[0]`` and at ``q[-1]``).
    """
    return np.maximum(scale * sigma_at(centres, widths, q[0], q[-1]), MIN_DECODER_SIGMA)


def max_normalized_torch(profiles: torch.Tensor) -> torch.Tensor:
    """:func:`drnets.core.max_normalized` for tensors: each profile over its maximum (0 stays 0)."""
    m = profiles.amax(-1, keepdim=True)
    return torch.where(m > 0, profiles / m.clamp_min(1e-30), profiles)


def window_size(q: np.ndarray, sigma_max: float, shift_max: float = 0.0, eta: float = 0.0) -> int:
    """Largest number of grid points inside any peak window (see :func:`~drnets.core.window_sigmas`)."""
    half = window_sigmas(eta) * sigma_max
    lo = np.searchsorted(q, q - half)
    hi = np.searchsorted(q, q + half)
    return int((hi - lo).max()) + 2


def render_windows(
    q: torch.Tensor,
    centres: torch.Tensor,
    heights: torch.Tensor,
    sigma: torch.Tensor,
    width: int,
    eta: float = 0.0,
) -> torch.Tensor:
    """Sum of :func:`~drnets.core.peak_shape` peaks on the grid, each evaluated in its window only.

    Parameters
    ----------
    q : tensor (L,)
    centres, heights, sigma : tensors (B, K)
        Peak positions, heights (0 for padding) and sigmas.
    width : int
        Window length in grid points (see :func:`window_size`, with the same ``eta``).
    eta : float
        Lorentzian share of the pseudo-Voigt peaks (0: Gaussian).

    Returns
    -------
    tensor (B, L)
    """
    b, k = centres.shape
    n_q = q.shape[0]
    lo = torch.searchsorted(q, (centres - window_sigmas(eta) * sigma).detach().contiguous())
    idx = lo.unsqueeze(-1) + torch.arange(width, device=q.device)
    valid = idx < n_q
    idx = idx.clamp_max(n_q - 1)
    z = (q[idx] - centres.unsqueeze(-1)) / sigma.unsqueeze(-1)
    val = heights.unsqueeze(-1) * peak_shape(z, eta) * valid
    out = torch.zeros(b, n_q, dtype=centres.dtype, device=q.device)
    out.scatter_add_(1, idx.reshape(b, -1), val.reshape(b, -1))
    return out


def reachable_sticks(phases: PhaseLibrary, q_lo: float, q_hi: float, max_shift: float) -> list[np.ndarray]:
    """Per phase, which sticks can reach the grid at some shift (bool (K_p,) each)."""
    lo, hi = q_lo / (1 + max_shift) - 1.0, q_hi / (1 - max_shift) + 1.0
    return [(p.q >= lo) & (p.q <= hi) for p in phases]


def padded_sticks(phases: PhaseLibrary, q_lo: float, q_hi: float, max_shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Sticks of every phase padded to one length; only those that can reach the grid
    (:func:`reachable_sticks`), in that order.

    Returns
    -------
    sq, si : ndarray (P, K)
        Positions and intensities (0 for padding; padding positions are set inside the grid).
    """
    keep = reachable_sticks(phases, q_lo, q_hi, max_shift)
    k = max(1, max(int(m.sum()) for m in keep))
    sq = np.full((len(phases), k), 0.5 * (q_lo + q_hi))
    si = np.zeros((len(phases), k))
    for i, (p, m) in enumerate(zip(phases, keep)):
        sq[i, : m.sum()] = p.q[m]
        si[i, : m.sum()] = p.intensity[m]
    return sq, si


def build_dictionary(
    q: np.ndarray,
    sq: np.ndarray,
    si: np.ndarray,
    shifts: np.ndarray,
    sigma: np.ndarray,
    *,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    chunk: int = 4096,
) -> torch.Tensor:
    """Max-normalised profiles of every phase at every grid shift.

    Parameters
    ----------
    sigma : ndarray (P, 2)
        Per-phase sigma at the low and high ends of the grid.

    Returns
    -------
    tensor (P, S, L)
    """
    qt = torch.as_tensor(q, dtype=dtype, device=device)
    p_n, k = sq.shape
    s_n = shifts.size
    w = window_size(q, float(np.max(sigma)))
    cen = (sq[:, None, :] * shifts[None, :, None]).reshape(p_n * s_n, k)
    hgt = np.repeat(si, s_n, axis=0)
    sig_rows = np.repeat(sigma, s_n, axis=0)
    sig = decoder_sigma(cen, sig_rows.T[:, :, None], q)  # one (lo, hi) row per profile
    out = torch.empty(p_n * s_n, q.size, dtype=dtype, device=device)
    for a in range(0, p_n * s_n, chunk):
        bsl = slice(a, a + chunk)
        out[bsl] = render_windows(
            qt,
            torch.as_tensor(cen[bsl], dtype=dtype, device=device),
            torch.as_tensor(hgt[bsl], dtype=dtype, device=device),
            torch.as_tensor(sig[bsl], dtype=dtype, device=device),
            w,
        )
    return max_normalized_torch(out).reshape(p_n, s_n, q.size)
