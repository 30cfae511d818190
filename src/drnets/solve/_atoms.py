"""The dictionary of phase profiles: every phase at every grid shift and peak width.

Profiles are rendered once per phase at the narrowest width with the windowed decoder
(:func:`render_windows`); the broader widths are Gaussian convolutions of those (the sum of
two Gaussians' variances), which costs a short 1-D convolution instead of a re-render.
Blocks are computed per phase chunk and cached while they fit a memory budget, so the
dictionary never has to exist in full for large candidate libraries; beyond the budget the
least recently used phases make room, one at a time.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from ..core import gaussian
from ._decoder import decoder_sigma, max_normalized_torch, render_windows, window_size

#: Peak-width multipliers of the grid (relative to the base sigma); geometric steps.
WIDTH_SCALES = (0.85, 1.0, 1.3, 1.7, 2.2, 2.9)


def background_basis(q: np.ndarray, n: int = 8) -> np.ndarray:
    """Smooth non-negative background columns (L, n + 1): broad Gaussian bumps and a constant.

    The bumps are spaced and sized at (Q range) / (n - 1), tens of peak widths, so they
    follow a background but cannot imitate a diffraction peak.
    """
    q = np.asarray(q, dtype=float)
    centres = np.linspace(q[0], q[-1], n)
    width = (q[-1] - q[0]) / max(n - 1, 1)
    bumps = gaussian((q[:, None] - centres[None, :]) / width)
    return np.concatenate([bumps, np.ones((q.size, 1))], 1)


class Atoms:
    """Max-normalised profiles ``(P, S, W, L)`` computed on demand.

    Parameters
    ----------
    q : ndarray (L,)
        Ascending Q grid (nm⁻¹), nearly uniform.
    sq, si : ndarray (P, K)
        Padded stick positions and intensities.
    shifts : ndarray (S,)
        Multiplicative Q scales.
    sigma : float or (float, float)
        Base Gaussian sigma (nm⁻¹), or its values at q[0] and q[-1] (linear in Q).
    widths : sequence of float
        Width multipliers; the smallest is rendered, the others are Gaussian convolutions of it.
    device, dtype : torch placement.
    budget_bytes : int
        Largest cache; beyond it the least recently used phases' blocks are dropped and
        recomputed when needed again.
    eta : float
        Lorentzian share of the pseudo-Voigt peaks (0: Gaussian); the broader widths are
        still Gaussian convolutions of the rendered one (Voigt-like tails are kept).
    texture : list of (T, K) arrays or None, optional
        Per phase, the intensity factors of its texture variants (see
        :func:`~drnets.solve._texture.texture_factors`); None: no texture is fitted.
    """

    def __init__(
        self,
        q: np.ndarray,
        sq: np.ndarray,
        si: np.ndarray,
        shifts: np.ndarray,
        sigma: float | tuple[float, float],
        widths: tuple[float, ...] = WIDTH_SCALES,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        budget_bytes: int = 1_500_000_000,
        eta: float = 0.0,
        texture: list[np.ndarray | None] | None = None,
    ) -> None:
        self.eta = float(eta)
        self.texture = texture
        self._tex_cache: dict[tuple[int, int, int], np.ndarray] = {}
        self.q = np.asarray(q, dtype=float)
        self.sq, self.si = sq, si
        self.shifts = np.asarray(shifts, dtype=float)
        lo_hi = np.broadcast_to(np.asarray(sigma, dtype=float), (2,))
        self.sigma_lo, self.sigma_hi = float(lo_hi[0]), float(lo_hi[1])
        self.sigma = 0.5 * (self.sigma_lo + self.sigma_hi)  # broadening kernels use the middle
        self.widths = tuple(float(w) for w in widths)
        self.device, self.dtype = device, dtype
        self.qt = torch.as_tensor(self.q, dtype=dtype, device=device)
        self.n_phases, self.n_shifts, self.n_widths = sq.shape[0], self.shifts.size, len(self.widths)
        self.n_q = self.q.size
        self._w = window_size(self.q, max(self.sigma_lo, self.sigma_hi), eta=self.eta)
        dq = float(np.median(np.diff(self.q))) if self.q.size > 1 else 1.0
        self._kernels = []
        for w in self.widths:
            extra = self.sigma * np.sqrt(max(w * w - min(self.widths) ** 2, 0.0)) / dq  # in grid points
            if extra < 0.05:
                self._kernels.append(None)
                continue
            half = int(np.ceil(4 * extra))
            t = np.arange(-half, half + 1)
            k = gaussian(t / extra)
            self._kernels.append(torch.as_tensor(k / k.sum(), dtype=dtype, device=device))
        row = self.n_shifts * self.n_widths * self.n_q * torch.finfo(dtype).bits // 8
        # Everything in one preallocated tensor when it fits the budget (views, no copies);
        # otherwise a bounded per-phase cache and re-rendering.
        self._dense = self.n_phases * row <= budget_bytes
        self._all = torch.empty(
            (self.n_phases if self._dense else 0, self.n_shifts, self.n_widths, self.n_q), dtype=dtype, device=device
        )
        self._done = np.zeros(self.n_phases, dtype=bool)
        self._cache: OrderedDict[int, torch.Tensor] = OrderedDict()  # least recently used first
        self._cache_max = max(16, int(budget_bytes // max(row, 1)))
        self._budget, self._row_bytes = budget_bytes, row
        # Rows after the first _n_base are named variants (see with_variants); their renders are
        # kept in _store, shared by every dictionary derived from this one.
        self._n_base, self._keys = self.n_phases, []
        self._store: dict = {}
        self._norm2: dict[int, torch.Tensor] = {}

    def with_variants(self, n_base: int, sq: np.ndarray, si: np.ndarray, keys: list) -> Atoms:
        """A dictionary of the first ``n_base`` phases plus further rows of sticks ``sq``, ``si``
        (V, K) appended after them (e.g. textured copies, see
        :mod:`~drnets.solve._phase_texture`), named by hashable ``keys``. What this one has
        rendered of the first ``n_base`` phases is reused, and so is every row rendered
        before under the same key (by any dictionary derived from the same one), within a
        quarter of the memory budget."""
        out = Atoms.__new__(Atoms)
        out.__dict__.update(self.__dict__)
        out.sq = np.concatenate([self.sq[:n_base], sq])
        out.si = np.concatenate([self.si[:n_base], si])
        out.n_phases = out.sq.shape[0]
        out._n_base, out._keys = n_base, list(keys)
        out._dense = out.n_phases * self._row_bytes <= self._budget
        out._done = np.zeros(out.n_phases, dtype=bool)
        out._cache, out._norm2, out._tex_cache = OrderedDict(), {}, {}
        if out._dense:
            out._all = torch.empty(
                (out.n_phases, self.n_shifts, self.n_widths, self.n_q), dtype=self.dtype, device=self.device
            )
            if self._dense:
                out._all[:n_base] = self._all[:n_base]
                out._done[:n_base] = self._done[:n_base]
        else:
            out._all = self._all[:0]
            out._cache = OrderedDict((p, t) for p, t in self._cache.items() if p < n_base)
            if self._dense:
                out._cache.update({int(p): self._all[int(p)] for p in np.flatnonzero(self._done[:n_base])})
        for r, key in enumerate(out._keys):
            if key in out._store:
                out._put(n_base + r, out._store[key])
        return out

    def __setstate__(self, state: dict) -> None:
        # Unpickled from Ray's object store, arrays are read-only views: the bookkeeping of
        # which phases are rendered must stay writable (a tile may render a textured copy).
        self.__dict__.update(state)
        self._done = np.array(self._done)

    def _put(self, p: int, block: torch.Tensor) -> None:
        if self._dense:
            self._all[p] = block
            self._done[p] = True
        else:
            self._cache[p] = block

    def shift_index(self, value: float) -> int:
        """Index of the grid shift nearest to ``value`` (clipped to the grid)."""
        step = self.shifts[1] - self.shifts[0] if self.n_shifts > 1 else 1.0
        return int(np.clip(round((value - self.shifts[0]) / step), 0, self.n_shifts - 1))

    @property
    def n_combos(self) -> int:
        return self.n_shifts * self.n_widths

    def _render(self, phases: np.ndarray) -> torch.Tensor:
        """(len(phases), S, W, L) for the given phase indices."""
        sq, si = self.sq[phases], self.si[phases]
        keep = si.max(axis=0) > 0  # drop columns that are padding for every phase of the chunk
        sq, si = sq[:, keep], si[:, keep]
        c, k = sq.shape
        cen = (sq[:, None, :] * self.shifts[None, :, None]).reshape(c * self.n_shifts, k)
        hgt = np.repeat(si, self.n_shifts, axis=0)
        base = render_windows(
            self.qt,
            torch.as_tensor(cen, dtype=self.dtype, device=self.device),
            torch.as_tensor(hgt, dtype=self.dtype, device=self.device),
            torch.as_tensor(
                decoder_sigma(cen, (self.sigma_lo, self.sigma_hi), self.q, min(self.widths)),
                dtype=self.dtype,
                device=self.device,
            ),
            self._w,
            self.eta,
        )  # (c*S, L)
        outs = []
        for ker in self._kernels:
            if ker is None:
                y = base
            else:
                y = F.conv1d(base.unsqueeze(1), ker.view(1, 1, -1), padding=ker.numel() // 2).squeeze(1)
            outs.append(max_normalized_torch(y))
        return torch.stack(outs, 1).reshape(c, self.n_shifts, self.n_widths, self.n_q)

    def _ensure(self, phases: np.ndarray) -> None:
        missing = np.unique(np.asarray(phases, dtype=np.int64))
        missing = (
            missing[~self._done[missing]]
            if self._dense
            else np.array([p for p in missing if int(p) not in self._cache], dtype=np.int64)
        )
        if missing.size == 0:
            return
        # Render phases with similar stick counts together: less padding per chunk.
        missing = missing[np.argsort((self.si[missing] > 0).sum(1), kind="stable")]
        if not self._dense:
            # Make room: the least recently used phases go first, never one asked for now
            # (a request larger than the budget is held whole until the next one).
            wanted = set(np.asarray(phases, dtype=np.int64).ravel().tolist())
            for p in [p for p in self._cache if p not in wanted]:
                if len(self._cache) + missing.size <= self._cache_max:
                    break
                del self._cache[p]
        for a in range(0, missing.size, 16):
            part = missing[a : a + 16]
            r = self._render(part)
            if self._dense:
                self._all[torch.as_tensor(part, device=self.device)] = r
                self._done[part] = True
            else:
                for i, ph in enumerate(part):
                    self._cache[int(ph)] = r[i]
            for i, ph in enumerate(part):
                if ph >= self._n_base and len(self._store) * r[i].numel() * r.element_size() < self._budget // 4:
                    self._store[self._keys[int(ph) - self._n_base]] = r[i].clone()

    def _cached(self, p: int) -> torch.Tensor:
        """A cached phase's block, marked as just used."""
        self._cache.move_to_end(p)
        return self._cache[p]

    def phase(self, p: int) -> torch.Tensor:
        """Profiles (S, W, L) of one phase (a view, no copy)."""
        if self._dense and self._done[int(p)]:
            return self._all[int(p)]
        self._ensure(np.array([p]))
        return self._all[int(p)] if self._dense else self._cached(int(p))

    def texture_rows(self, p: int, shift_idx: int, width_idx: int) -> np.ndarray | None:
        """Max-normalised profiles (T, L) of phase ``p``'s texture variants at one grid shift
        and width, as NumPy; None when the phase has none."""
        if self.texture is None or int(p) >= len(self.texture) or self.texture[int(p)] is None:
            return None
        key = (int(p), int(shift_idx), int(width_idx))
        if key not in self._tex_cache:
            if len(self._tex_cache) > 50_000:
                self._tex_cache.clear()
            fac = self.texture[int(p)]
            cen = np.broadcast_to(self.sq[int(p)] * self.shifts[int(shift_idx)], fac.shape)
            sig = decoder_sigma(cen, (self.sigma_lo, self.sigma_hi), self.q, self.widths[int(width_idx)])
            w = window_size(self.q, max(self.sigma_lo, self.sigma_hi) * self.widths[int(width_idx)], eta=self.eta)
            y = render_windows(
                self.qt,
                torch.as_tensor(np.ascontiguousarray(cen), dtype=self.dtype, device=self.device),
                torch.as_tensor(self.si[int(p)][None, :] * fac, dtype=self.dtype, device=self.device),
                torch.as_tensor(sig, dtype=self.dtype, device=self.device),
                w,
                self.eta,
            )
            self._tex_cache[key] = max_normalized_torch(y).cpu().numpy()
        return self._tex_cache[key]

    def rows_numpy(self, p: int, shift_idx: list[int]) -> np.ndarray:
        """Profiles (len(shift_idx), W, L) of one phase at the given shifts, as NumPy.

        On a GPU only these rows cross to the host, not the phase's whole block.
        """
        t = self.phase(p)
        if t.device.type == "cpu":
            return t.numpy()[shift_idx]
        return t[torch.as_tensor(shift_idx, device=t.device)].cpu().numpy()

    def norm2(self, p: int) -> torch.Tensor:
        """Squared norms (S * W,) of one phase's profiles."""
        if int(p) not in self._norm2:
            v = self.phase(p).reshape(self.n_combos, -1)
            self._norm2[int(p)] = (v * v).sum(-1).clamp_min(1e-12)
        return self._norm2[int(p)]

    def block(self, phases: np.ndarray | list[int]) -> torch.Tensor:
        """Profiles (k, S, W, L) of the given phases."""
        phases = np.asarray(phases, dtype=np.int64)
        self._ensure(phases)
        if self._dense:
            return self._all[torch.as_tensor(phases, device=self.device)]
        return torch.stack([self._cached(int(p)) for p in phases])

    def profiles(self, phases: np.ndarray, shift_idx: np.ndarray, width_idx: np.ndarray) -> torch.Tensor:
        """Profiles at given (phase, shift index, width index) triples, any leading shape."""
        phases = np.asarray(phases)
        shape = phases.shape
        flat_p = phases.ravel().astype(np.int64)
        si = torch.as_tensor(np.asarray(shift_idx).ravel(), device=self.device)
        wi = torch.as_tensor(np.asarray(width_idx).ravel(), device=self.device)
        self._ensure(flat_p)
        if self._dense:
            out = self._all[torch.as_tensor(flat_p, device=self.device), si, wi]
        else:
            # Phase by phase: stacking the phases' whole blocks first would copy all of them.
            out = torch.empty((flat_p.size, self.n_q), dtype=self.dtype, device=self.device)
            for p in np.unique(flat_p):
                rows = torch.as_tensor(np.flatnonzero(flat_p == p), device=self.device)
                out[rows] = self._cached(int(p))[si[rows], wi[rows]]
        return out.reshape(*shape, self.n_q)
