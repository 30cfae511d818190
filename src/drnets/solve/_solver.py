"""The phase mapper: which phases, how much and how shifted, at every point of a library."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..core import InputError, Library, PhaseLibrary, Solution
from ..structure import adjacency_lists, allowed_mask, composition_graph, gibbs_limits
from ._decoder import build_dictionary, padded_sticks
from ._decoder import render_windows, window_size
from ._refine import WIDTH_SCALE_BOUNDS, refine
from ._search import best_subsets


def pick_device(device: str | None) -> str:
    """'auto' (or None) -> 'cuda' when available, else 'cpu'."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("CUDA was requested but no CUDA device is available", where="--device")
    return device


def estimate_sigma(q: np.ndarray, patterns: np.ndarray, *, rel_height: float = 0.25) -> float:
    """Median Gaussian sigma of the patterns' prominent local maxima (log-parabola fit)."""
    x = patterns / np.maximum(patterns.max(axis=1, keepdims=True), 1e-30)
    y0, ym, yp = x[:, 1:-1], x[:, :-2], x[:, 2:]
    peak = (y0 > ym) & (y0 >= yp) & (y0 > rel_height) & (ym > 0.05) & (yp > 0.05)
    if peak.sum() < 3:
        return 0.25
    with np.errstate(divide="ignore", invalid="ignore"):
        curv = np.log(ym) - 2 * np.log(y0) + np.log(yp)
    dq = np.gradient(q)[1:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = -(dq[None, :] ** 2) / curv
    vals = s2[peak & np.isfinite(s2) & (s2 > 0)]
    if vals.size < 3:
        return 0.25
    return float(np.sqrt(np.median(vals)))


@dataclass
class PhaseMapper:
    """Phase mapping with the physics built in (Gibbs, alloying, connectivity, composition).

    Parameters
    ----------
    max_shift : float
        Largest relative lattice shift searched (multiplicative Q scale 1 +- max_shift).
    shift_step : float
        Step of the shift grid; refinement searches it point by point.
    sigma : float or None
        Gaussian peak sigma in nm⁻¹; estimated from the patterns when None.
    pool_size : int
        Candidate phases kept per point for the exhaustive subset search.
    rounds : int
        Rounds of search; each adds candidates from the residual and the neighbours.
    top_subsets : int
        Best subsets per point refined (amplitude, shift, width) before the final choice.
    refine_steps : int
        Gradient steps of that refinement.
    penalty : float
        Cost of one more phase, relative to the pattern's squared norm.
    noise_penalty : float
        Cost of one more phase in units of the estimated noise variance times log(L).
    threshold : float
        Fractions below this are dropped from the answer.
    device : str
        'auto', 'cpu' or 'cuda'.
    seed : int
        Random seed (the search is deterministic; the seed is recorded).
    chunk_points : int
        Points processed at once (bounds memory).
    verbose : bool
        Show progress.

    Attributes
    ----------
    solution_ : Solution
        The answer, with audit and run metadata.
    fractions_, shifts_, amplitudes_, widths_, reconstruction_, residuals_ : ndarray
        Shortcuts into ``solution_``.
    """

    max_shift: float = 0.08
    shift_step: float = 0.001
    sigma: float | None = None
    pool_size: int = 10
    rounds: int = 3
    top_subsets: int = 4
    penalty: float = 1e-4
    noise_penalty: float = 2.0
    threshold: float = 1e-3
    device: str = "auto"
    seed: int = 0
    refine_steps: int = 120
    chunk_points: int = 256
    verbose: bool = False
    history_: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    # ------------------------------------------------------------------ public
    def fit(
        self,
        library: Library,
        phases: PhaseLibrary,
        *,
        mask: np.ndarray | None = None,
        max_phases: np.ndarray | None = None,
    ) -> "PhaseMapper":
        """Solve a library.

        Parameters
        ----------
        library : Library
        phases : PhaseLibrary
        mask : ndarray (N, P) of bool, optional
            Allowed phases per point; default: the element rule.
        max_phases : ndarray (N,), optional
            Gibbs limit per point; default: elements present.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        torch.manual_seed(self.seed)
        dev = pick_device(self.device)
        dtype = torch.float32 if dev == "cpu" else torch.float32
        q = library.q
        n, p_n = library.n_points, len(phases)
        allowed = allowed_mask(library, phases, override=mask)
        limits = np.asarray(max_phases if max_phases is not None else gibbs_limits(library.compositions), dtype=int)
        edges = composition_graph(library.compositions)
        nbrs = adjacency_lists(edges, n)

        scale = np.maximum(library.patterns.max(axis=1), 1e-30)
        xn = library.patterns / scale[:, None]
        sigma = float(self.sigma) if self.sigma else estimate_sigma(q, library.patterns)
        widths = np.full((p_n, 2), sigma)
        shifts = np.arange(1 - self.max_shift, 1 + self.max_shift + self.shift_step / 2, self.shift_step)
        one = int(np.argmin(np.abs(shifts - 1.0)))
        sq, si = padded_sticks(phases, q[0], q[-1], self.max_shift)
        dic = build_dictionary(q, sq, si, shifts, widths, device=dev, dtype=dtype)  # (P, S, L)
        s_n = shifts.size
        flat = dic.reshape(p_n * s_n, -1)
        dd = (flat * flat).sum(-1)

        x = torch.as_tensor(xn, dtype=dtype, device=dev)
        xx = (x * x).sum(-1)
        noise = self._noise_variance(xn)
        pen = np.maximum(self.penalty * xx.cpu().numpy(), self.noise_penalty * noise * np.log(q.size))
        pen_t = torch.as_tensor(pen, dtype=dtype, device=dev)
        allowed_t = torch.as_tensor(allowed, device=dev)
        kmax_t = torch.as_tensor(np.maximum(limits, 1), device=dev)

        # Single-phase screening on the patterns: best shift and explained energy per phase.
        e_x, s_x = self._screen(x, flat, dd, allowed_t, p_n, s_n)

        ctx = {
            "q": q,
            "q_t": torch.as_tensor(q, dtype=dtype, device=dev),
            "sq_t": torch.as_tensor(sq, dtype=dtype, device=dev),
            "si_t": torch.as_tensor(si, dtype=dtype, device=dev),
            "shifts_t": torch.as_tensor(shifts, dtype=dtype, device=dev),
            "shifts": shifts,
            "sigma": sigma,
            "w_max": window_size(q, sigma * WIDTH_SCALE_BOUNDS[1]),
        }
        chosen: list[dict[int, tuple[float, float]]] = [dict() for _ in range(n)]  # point -> {phase: (shift, width scale)}
        resid = x.clone()
        try:
            for rnd in range(self.rounds):
                e_r, s_r = self._screen(resid.clamp_min(0), flat, dd, allowed_t, p_n, s_n)
                pools = self._pools(chosen, nbrs, e_x, s_x, e_r, s_r, rnd, shifts)
                new, score = self._search(x, dic, pools, kmax_t, pen_t, ctx)
                chosen = new
                _, recon = self._fit_amplitudes(x, chosen, ctx)
                resid = x - torch.as_tensor(recon, dtype=dtype, device=dev)
                rel = (resid.norm(dim=1) / x.norm(dim=1)).cpu().numpy()
                self.history_.append({"round": rnd, "mean_rel_l2": float(rel.mean()), "score": float(score.sum())})
                if self.verbose:
                    print(f"round {rnd + 1}/{self.rounds}: mean relative L2 residual {rel.mean():.4f}")
        except KeyboardInterrupt:
            if not any(chosen):
                raise
            self.history_.append({"interrupted": True})

        chosen = self._repair_connectivity(x, chosen, edges, ctx)
        return self._finish(library, phases, x, chosen, widths, scale, allowed, limits, edges, sigma, dev, t0, ctx)

    # ----------------------------------------------------------------- stages
    @staticmethod
    def _noise_variance(xn: np.ndarray) -> np.ndarray:
        d2 = xn[:, 2:] - 2 * xn[:, 1:-1] + xn[:, :-2]
        # Second differences of white noise have variance 6 s^2; the median ignores peaks.
        return (np.median(np.abs(d2), axis=1) / 0.6745) ** 2 / 6.0

    def _screen(self, x, flat, dd, allowed_t, p_n, s_n):
        """Explained energy (b^2/|d|^2 for b > 0) of each phase at its best grid shift."""
        n = x.shape[0]
        energy = torch.empty(n, p_n, dtype=x.dtype, device=x.device)
        best = torch.empty(n, p_n, dtype=torch.long, device=x.device)
        for a in range(0, n, self.chunk_points):
            b = x[a : a + self.chunk_points] @ flat.T  # (c, P*S)
            e = torch.where(b > 0, b * b / dd.clamp_min(1e-12), torch.zeros_like(b)).reshape(-1, p_n, s_n)
            v, i = e.max(dim=2)
            energy[a : a + self.chunk_points] = v
            best[a : a + self.chunk_points] = i
        energy = torch.where(allowed_t, energy, torch.full_like(energy, -1.0))
        return energy, best

    def _pools(self, chosen, nbrs, e_x, s_x, e_r, s_r, rnd, shifts):
        """Candidate (phase, shift index) pools per point: screening, residual, self, neighbours."""
        k = self.pool_size
        top_x = torch.topk(e_x, min(k, e_x.shape[1]), dim=1).indices.cpu().numpy()
        top_r = torch.topk(e_r, min(k // 2, e_r.shape[1]), dim=1).indices.cpu().numpy()
        ex = e_x.cpu().numpy()
        sx, sr = s_x.cpu().numpy(), s_r.cpu().numpy()
        pools = []
        for i in range(len(chosen)):
            grid = lambda v: int(np.argmin(np.abs(shifts - v[0])))  # noqa: E731
            pool: dict[int, int] = {ph: grid(v) for ph, v in chosen[i].items()}
            if rnd > 0:
                for j in nbrs[i]:
                    for ph, v in chosen[j].items():
                        if ph not in pool and ex[i, ph] >= 0:
                            pool[ph] = grid(v)
            for ph in top_r[i]:
                if ph not in pool and ex[i, ph] >= 0:
                    pool[int(ph)] = int(sr[i, ph])
            for ph in top_x[i]:
                if len(pool) >= k + len(chosen[i]) + 2:
                    break
                if ph not in pool and ex[i, ph] >= 0:
                    pool[int(ph)] = int(sx[i, ph])
            pools.append(pool)
        return pools

    def _search(self, x, dic, pools, kmax_t, pen_t, ctx):
        """Best subsets on the shift grid, refined continuously, then the final choice."""
        n = x.shape[0]
        kp = max(len(p) for p in pools)
        ph = np.zeros((n, kp), dtype=np.int64)
        sh = np.zeros((n, kp), dtype=np.int64)
        valid = np.zeros((n, kp), dtype=bool)
        for i, pool in enumerate(pools):
            items = list(pool.items())
            ph[i, : len(items)] = [a for a, _ in items]
            sh[i, : len(items)] = [b for _, b in items]
            valid[i, : len(items)] = True
        ph_t = torch.as_tensor(ph, device=x.device)
        sh_t = torch.as_tensor(sh, device=x.device)
        shifts_t = ctx["shifts_t"]
        chosen, scores = [], []
        for a in range(0, n, self.chunk_points):
            sl = slice(a, a + self.chunk_points)
            prof = dic[ph_t[sl], sh_t[sl]]  # (c, K, L)
            prof = prof * torch.as_tensor(valid[sl], device=x.device).unsqueeze(-1)
            mem, coef, score = best_subsets(x[sl], prof, kmax_t[sl], pen_t[sl], self.top_subsets)
            c, t, kk = mem.shape
            present = mem >= 0
            flat_idx = mem.clamp_min(0).flatten(1)
            mem_ph = torch.gather(ph_t[sl], 1, flat_idx).view_as(mem)
            mem_sh = shifts_t[torch.gather(sh_t[sl], 1, flat_idx).view_as(mem)]
            ok = torch.isfinite(score)
            amp, shift, ws, rss = refine(
                x[sl].unsqueeze(1).expand(c, t, -1).reshape(c * t, -1),
                ctx["q_t"], ctx["sq_t"], ctx["si_t"],
                mem_ph.reshape(c * t, kk), mem_sh.reshape(c * t, kk), coef.reshape(c * t, kk).clamp_min(1e-3),
                (present & ok.unsqueeze(-1)).reshape(c * t, kk), ctx["sigma"], steps=self.refine_steps, q_np=ctx["q"],
            )
            rss = rss.view(c, t)
            amp, shift, ws = amp.view(c, t, kk), shift.view(c, t, kk), ws.view(c, t, kk)
            total = torch.where(ok, rss + pen_t[sl].unsqueeze(-1) * present.sum(-1), torch.full_like(rss, float("inf")))
            best = total.argmin(dim=1)
            for r in range(c):
                bi = int(best[r])
                chosen.append({
                    int(mem_ph[r, bi, j]): (float(shift[r, bi, j]), float(ws[r, bi, j]))
                    for j in range(kk) if bool(present[r, bi, j])
                })
                scores.append(float(total[r, bi]))
        return chosen, np.array(scores)

    def _profiles(self, chosen_i, ctx):
        """Max-normalised profiles (k, L) of one point's chosen phases at their refined shift and width."""
        items = list(chosen_i.items())
        ph = torch.as_tensor([p for p, _ in items], device=ctx["q_t"].device)
        shift = torch.as_tensor([v[0] for _, v in items], dtype=ctx["q_t"].dtype, device=ctx["q_t"].device)
        ws = torch.as_tensor([v[1] for _, v in items], dtype=ctx["q_t"].dtype, device=ctx["q_t"].device)
        cen = ctx["sq_t"][ph] * shift.unsqueeze(-1)
        sig = (ctx["sigma"] * ws).unsqueeze(-1).expand_as(cen)
        prof = render_windows(ctx["q_t"], cen, ctx["si_t"][ph], sig.contiguous(), ctx["w_max"])
        return (prof / prof.amax(-1, keepdim=True).clamp_min(1e-12)).cpu().numpy().astype(float)

    def _fit_amplitudes(self, x, chosen, ctx):
        """Exact non-negative amplitudes of each point's chosen phases (scipy NNLS)."""
        from scipy.optimize import nnls

        xn = x.cpu().numpy().astype(float)
        amps, recon = [], np.zeros_like(xn)
        for i, ch in enumerate(chosen):
            if not ch:
                amps.append({})
                continue
            a_mat = self._profiles(ch, ctx)
            coef, _ = nnls(a_mat.T, xn[i])
            amps.append({p: float(c) for p, c in zip(ch, coef)})
            recon[i] = coef @ a_mat
        return amps, recon

    def _repair_connectivity(self, x, chosen, edges, ctx):
        """Drop a phase from small islands cut off from its main region, when the data allows.

        A phase's point set should be connected in the composition graph. For each phase
        whose set has several components, points of the smaller components are re-solved
        without it; the change is kept where it costs less than ``repair_tolerance`` of
        the pattern's energy.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = x.shape[0]
        phases_used = sorted({p for ch in chosen for p in ch})
        for ph in phases_used:
            pts = np.array([i for i in range(n) if ph in chosen[i]])
            if pts.size < 2:
                continue
            sel = np.isin(edges[:, 0], pts) & np.isin(edges[:, 1], pts)
            e = edges[sel]
            idx = {v: k for k, v in enumerate(pts)}
            g = coo_matrix((np.ones(len(e)), ([idx[a] for a in e[:, 0]], [idx[b] for b in e[:, 1]])), shape=(pts.size, pts.size))
            n_comp, lab = connected_components(g, directed=False)
            if n_comp < 2:
                continue
            main = np.bincount(lab).argmax()
            for i in pts[lab != main]:
                i = int(i)
                rest = {p: s for p, s in chosen[i].items() if p != ph}
                cur = self._point_rss(x[i], chosen[i], ctx)
                alt = self._point_rss(x[i], rest, ctx)
                if alt - cur <= 0.01 * float((x[i] * x[i]).sum()):
                    chosen[i] = rest
        return chosen

    def _point_rss(self, xi, ch, ctx):
        from scipy.optimize import nnls

        xv = xi.cpu().numpy().astype(float)
        if not ch:
            return float(xv @ xv)
        _, r = nnls(self._profiles(ch, ctx).T, xv)
        return r * r

    def _finish(self, library, phases, x, chosen, widths, scale, allowed, limits, edges, sigma, dev, t0, ctx):
        n, p_n = library.n_points, len(phases)
        amps, _ = self._fit_amplitudes(x, chosen, ctx)
        amp = np.zeros((n, p_n))
        for i, f in enumerate(amps):
            for p, c in f.items():
                amp[i, p] = c
        tot = amp.sum(axis=1, keepdims=True)
        frac = np.divide(amp, tot, out=np.zeros_like(amp), where=tot > 0)
        # Drop what falls under the threshold, then refit the rest.
        chosen = [{p: v for p, v in ch.items() if frac[i, p] >= self.threshold} for i, ch in enumerate(chosen)]
        amps, recon_n = self._fit_amplitudes(x, chosen, ctx)
        amp = np.zeros((n, p_n))
        shf = np.full((n, p_n), np.nan)
        wsc = np.ones((n, p_n))
        for i, f in enumerate(amps):
            for p, c in f.items():
                if c > 0:
                    amp[i, p] = c
                    shf[i, p], wsc[i, p] = chosen[i][p]
        tot = amp.sum(axis=1, keepdims=True)
        frac = np.divide(amp, tot, out=np.zeros_like(amp), where=tot > 0)
        amp_units = amp * scale[:, None]
        recon = recon_n * scale[:, None]
        res = np.linalg.norm(library.patterns - recon, axis=1) / np.maximum(np.linalg.norm(library.patterns, axis=1), 1e-30)
        sol = Solution(
            labels=phases.labels,
            fractions=frac,
            shifts=shf,
            amplitudes=amp_units,
            widths=widths,
            width_scale=wsc,
            reconstruction=recon,
            residuals=res,
            max_phases=limits,
            mask=allowed,
            edges=edges,
        )
        sol.audit = _audit_or_empty(sol, library, phases)
        from .. import __version__

        sol.metadata = {
            "version": __version__,
            "seed": self.seed,
            "device": dev,
            "wall_time_s": round(time.perf_counter() - t0, 3),
            "sigma": sigma,
            "parameters": {k: v for k, v in self.__dict__.items() if not k.endswith("_")},
            "history": self.history_,
            "library": library.source,
            "phases": phases.source,
        }
        self.solution_ = sol
        self.fractions_, self.shifts_, self.amplitudes_ = frac, shf, amp_units
        self.widths_, self.reconstruction_, self.residuals_ = widths, recon, res
        return self


def _audit_or_empty(sol: Solution, library: Library, phases: PhaseLibrary) -> dict:
    try:
        from ..evaluate import audit_solution
    except ImportError:
        return {}
    return audit_solution(sol, library, phases)
