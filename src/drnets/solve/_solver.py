"""The phase mapper: which phases, how much and how shifted, at every point of a library."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..core import InputError, Library, PhaseLibrary, Solution
from ..structure import adjacency_lists, allowed_mask, composition_graph, gibbs_limits
from ._atoms import WIDTH_SCALES, Atoms, background_basis
from ._decoder import padded_sticks
from ._search import best_subsets, coordinate_descent, group_fit

Callback = Callable[[str, int, int, dict], None]


def pick_device(device: str | None) -> str:
    """'auto' (or None) -> 'cuda' when available, else 'cpu'."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("CUDA was requested but no CUDA device is available", where="--device")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError(f"unknown device {device!r} (use auto, cpu or cuda)", where="--device")
    return device


def estimate_widths(q: np.ndarray, patterns: np.ndarray, *, rel_height: float = 0.25,
                    quantile: float = 0.1) -> tuple[float, float]:
    """Gaussian peak sigma at the two ends of the Q grid, linear in Q (instrument + size broadening).

    Each prominent local maximum gives a sigma from its full width at half maximum; a low
    quantile per Q band (overlapping and broadened peaks only ever look wider), then a
    straight line through the bands. Returns (sigma at q[0], sigma at q[-1]).
    """
    from scipy.ndimage import gaussian_filter1d, grey_opening

    # Noisy patterns (noise sd above ~2 % of the maximum): smooth over one grid step (its
    # variance is removed again below) and take off a wide opening, so that noise on a
    # background does not pass for a peak.
    dq = float(np.median(np.diff(q))) if q.size > 1 else 1.0
    noisy = float(np.median(noise_variance(patterns / np.maximum(patterns.max(axis=1, keepdims=True), 1e-30)))) > 3e-4
    smooth = 1.0 if noisy else 0.0
    y = gaussian_filter1d(patterns, smooth, axis=1) if smooth else patterns
    if noisy:
        y = y - grey_opening(y, size=(1, max(3, int(q.size // 20) | 1)), mode="nearest")
    x = y / np.maximum(y.max(axis=1, keepdims=True), 1e-30)
    vals, where = [], []
    for row in x:
        # Prominent local maxima; the half-maximum crossings on both sides give the FWHM.
        top = np.flatnonzero((row[1:-1] > row[:-2]) & (row[1:-1] >= row[2:]) & (row[1:-1] > rel_height)) + 1
        for i in top:
            half = 0.5 * row[i]
            lo = i
            while lo > 0 and row[lo] > half:
                lo -= 1
            hi = i
            while hi < row.size - 1 and row[hi] > half:
                hi += 1
            if row[lo] > half or row[hi] > half:
                continue
            ql = q[lo] + (half - row[lo]) * (q[lo + 1] - q[lo]) / max(row[lo + 1] - row[lo], 1e-12)
            qh = q[hi - 1] + (row[hi - 1] - half) * (q[hi] - q[hi - 1]) / max(row[hi - 1] - row[hi], 1e-12)
            vals.append(np.sqrt(max(((qh - ql) / 2.3548) ** 2 - (smooth * dq) ** 2, 1e-12)))
            where.append(q[i])
    vals, where = np.asarray(vals), np.asarray(where)
    if vals.size < 3:
        return 0.25, 0.25
    edges = np.quantile(where, np.linspace(0, 1, 5))
    centres, sig = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        m = (where >= a) & (where <= b)
        if m.sum() >= 3:
            centres.append(np.median(where[m]))
            sig.append(np.quantile(vals[m], quantile))
    if len(sig) < 2:
        s = float(np.quantile(vals, quantile))
        return s, s
    slope, icpt = np.polyfit(centres, sig, 1)
    lo, hi = icpt + slope * q[0], icpt + slope * q[-1]
    floor = 0.5 * float(np.min(sig))
    return float(max(lo, floor)), float(max(hi, floor))


def estimate_sigma(q: np.ndarray, patterns: np.ndarray) -> float:
    """One Gaussian sigma for the whole grid (the mean of :func:`estimate_widths`)."""
    return float(np.mean(estimate_widths(q, patterns)))


def estimate_background(q: np.ndarray, patterns: np.ndarray, width: float) -> np.ndarray:
    """Smooth background under the peaks: a grey opening wider than any peak, then smoothed.

    The opening (minimum then maximum filter over ``width`` nm⁻¹) removes every feature
    narrower than the window, which is what peaks are and what a background is not.
    """
    from scipy.ndimage import grey_opening, uniform_filter1d

    step = float(np.median(np.diff(q))) if q.size > 1 else 1.0
    size = max(3, int(round(width / step)) | 1)
    base = grey_opening(patterns, size=(1, size), mode="nearest")
    base = uniform_filter1d(base, size=size, axis=1, mode="nearest")
    return np.clip(np.minimum(base, patterns), 0.0, None)


#: Residual variance over noise variance above which the misfit, not the noise, sets the cost.
_MISFIT_OVER_NOISE = 4.0


def noise_variance(xn: np.ndarray) -> np.ndarray:
    """Per-pattern white-noise variance from second differences (a low quantile ignores peaks)."""
    d2 = np.abs(xn[:, 2:] - 2 * xn[:, 1:-1] + xn[:, :-2])
    # |N(0, 6 s^2)| has its 25 % quantile at 0.3186 * sqrt(6) s.
    return (np.quantile(d2, 0.25, axis=1) / 0.3186) ** 2 / 6.0


@dataclass
class PhaseMapper:
    """Phase mapping with the physics built in (Gibbs, alloying, connectivity).

    Every point's answer is searched exactly over subsets of a candidate pool within the
    point's Gibbs limit, each phase at its own grid shift and peak width; the reasoning
    rules act across points: candidates come from the neighbours' answers, phases that
    never clearly show anywhere are pruned library-wide, and islands cut off from a
    phase's region are re-solved without it.

    Parameters
    ----------
    max_shift : float
        Largest relative lattice shift (multiplicative Q scale 1 +- max_shift).
    shift_step : float or None
        Shift grid step; None: a fifth of a peak width at the top of the Q range.
    sigma : float, (float, float) or None
        Base Gaussian peak sigma (nm⁻¹), or its values at both ends of the Q grid (linear
        in Q); estimated from the patterns when None.
    width_scales : tuple of float
        Peak-width multipliers (>= 1) a phase may take at a point.
    pool_size : int
        Candidate phases per point in the exhaustive subset search.
    rounds : int
        Search rounds; later rounds add the neighbours' phases and the residual's.
    top_subsets : int
        Best subsets per point improved by coordinate descent before the final choice.
    sweeps : int
        Coordinate-descent sweeps over the members of a subset.
    group_top : int
        Subsets per point given the final fit, in which each phase is a non-negative
        mixture of its profiles at every grid width and at ``shape_offsets`` grid steps
        around its shift (inhomogeneous broadening, non-Gaussian peak shapes).
    shape_offsets : tuple of int
        Shift-grid offsets of that mixture.
    penalty : float
        Cost of one more phase, relative to the pattern's squared norm.
    noise_penalty : float
        Cost of one more phase in units of the estimated noise variance.
    min_peak_fraction : float
        A phase must reach this fraction at some point to be kept anywhere (library-wide
        sparsity: real phases dominate somewhere; look-alike distractors do not).
    neighbour_discount : float
        Share of a phase's cost waived when all the point's neighbours hold it.
    shift_prior : float
        Extra cost of a phase at a shift of ``max_shift``, in units of the per-phase cost,
        growing with the square of the shift (a Gaussian prior centred on the tabulated
        lattice): where two look-alike phases explain a pattern equally well, the one that
        needs the smaller lattice change wins. 0: no prior.
    misfit_penalty : float
        Per-phase cost in units of the point's residual variance after the first round,
        used where the model rather than the noise limits the fit (see ``misfit_level``);
        about the information-criterion cost of a phase (three parameters at log L each,
        and its choice among the candidates). 0: off.
    misfit_level : float
        Median relative residual of the first round above which (with a residual well
        above the noise) ``misfit_penalty`` applies.
    shift_tolerance : float
        Largest shift difference from the neighbours' median left alone (alloying rule).
    min_region_points : int
        ... and to hold more than 2 % at this many points (a phase region is not a
        single stray point).
    composition_tolerance : float or None
        Composition rule in the search: a phase set must make up the point's composition
        (distance from the cone of its phases' cation fractions at most this); None: off.
        Off by default because solid solutions move a phase's composition away from its
        formula (the Al-Li-Fe truth itself breaks the rule at 104 points).
    strict : bool
        Make the connectivity and alloying repairs whatever they cost in fit (the rules
        are hard constraints); otherwise only where they cost less than
        ``repair_tolerance``.
    alloy_tolerance : float
        Relative shift change across an edge between two points at their full phase count
        that the exact alloying step removes (the audit's tolerance).
    repair_rounds : int
        Repeats of the repair sequence (connectivity, phase fields, alloying) at most.
    repair_tolerance : float
        Relative energy a point may lose when an island of a phase is removed.
    threshold : float
        Fractions below this are dropped from the answer.
    device : str
        'auto', 'cpu' or 'cuda'.
    seed : int
        Recorded; the search itself is deterministic.
    chunk_points : int
        Points processed at once (bounds memory).
    memory_budget_gb : float
        Cache of rendered profiles.
    background : {'auto', 'none'}
        Remove a smooth background before the fit (added back in the reconstruction).
    background_width : float
        Width of the background filter in peak sigmas.
    baseline_level : float
        With ``background='auto'``, the rough background is removed before the search only
        where the patterns' lowest tenth lies above this share of their maximum (a
        smooth background is fitted jointly in the final fits either way).
    checkpoint : path or None
        File (``.npz``) where each finished search round is saved (atomically), for
        ``fit(..., resume=True)`` after an interruption.
    verbose : bool
        Print one line per stage.
    callback : callable or None
        ``callback(stage, done, total, info)`` after each stage (for progress bars).

    Attributes
    ----------
    solution_ : Solution
        The answer, with audit and run metadata.
    fractions_, shifts_, amplitudes_, widths_, reconstruction_, residuals_ : ndarray
        Shortcuts into ``solution_``.
    history_ : list of dict
        One entry per round.
    """

    max_shift: float = 0.08
    shift_step: float | None = None
    sigma: float | None = None
    width_scales: tuple[float, ...] = WIDTH_SCALES
    pool_size: int = 8
    rounds: int = 3
    top_subsets: int = 6
    sweeps: int = 2
    group_top: int = 3
    shape_offsets: tuple[int, ...] = (-3, 0, 3)
    penalty: float = 1e-5
    noise_penalty: float = 8.0
    min_peak_fraction: float = 0.1
    min_region_points: int = 3
    strict: bool = True
    composition_tolerance: float | None = None
    repair_rounds: int = 6
    repair_tolerance: float = 0.002
    neighbour_discount: float = 0.8
    shift_prior: float = 10.0
    misfit_penalty: float = 32.0
    misfit_level: float = 0.2
    shift_tolerance: float = 0.005
    alloy_tolerance: float = 0.01
    threshold: float = 1e-3
    device: str = "auto"
    seed: int = 0
    chunk_points: int = 128
    memory_budget_gb: float = 1.5
    background: str = "auto"
    background_width: float = 12.0
    baseline_level: float = 0.005
    checkpoint: str | Path | None = None
    verbose: bool = False
    callback: Callback | None = field(default=None, repr=False)
    history_: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    # ------------------------------------------------------------------ public
    def fit(
        self,
        library: Library,
        phases: PhaseLibrary,
        *,
        mask: np.ndarray | None = None,
        max_phases: np.ndarray | None = None,
        resume: bool = False,
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
        resume : bool
            Continue from ``checkpoint`` (the rounds it holds are not searched again).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        torch.manual_seed(self.seed)
        dev = pick_device(self.device)
        self.history_ = []
        q = library.q
        n, p_n = library.n_points, len(phases)
        allowed = allowed_mask(library, phases, override=mask)
        limits = np.asarray(max_phases if max_phases is not None else gibbs_limits(library.compositions), dtype=int)
        limits = np.maximum(limits, 1)
        # A substrate is not part of the system's equilibrium: it does not count in Gibbs.
        search_limits = limits + (allowed & phases.is_substrate[None, :]).sum(axis=1)
        edges = composition_graph(library.compositions)
        nbrs = adjacency_lists(edges, n)

        if self.sigma:
            sig = np.broadcast_to(np.asarray(self.sigma, dtype=float), (2,)).astype(float)
        else:
            sig = np.array(estimate_widths(q, library.patterns))
        sigma = (float(sig[0]), float(sig[1]))
        # The search sees the patterns less a rough background (a wide grey opening); the
        # final fits see the measured patterns with a smooth background fitted jointly.
        if self.background == "auto":
            # Patterns whose lowest tenth sits on a baseline get the opening; patterns
            # already background-free (the baseline is ~0) are searched as they are.
            pm = np.maximum(library.patterns.max(axis=1), 1e-30)
            level = float(np.median(np.quantile(library.patterns, 0.1, axis=1) / pm))
            if level > self.baseline_level:
                bg = estimate_background(q, library.patterns, self.background_width * max(sigma))
            else:
                bg = np.zeros_like(library.patterns)
            basis = background_basis(q)
        elif self.background == "none":
            bg = np.zeros_like(library.patterns)
            basis = None
        else:
            raise InputError(f"unknown background mode {self.background!r} (use auto or none)", where="background")
        scale = np.maximum(library.patterns.max(axis=1), 1e-30)
        xn = np.clip(library.patterns - bg, 0.0, None) / scale[:, None]
        xraw = library.patterns / scale[:, None]
        step = self.shift_step or max(5e-4, min(0.002, sigma[1] / (3 * q[-1])))
        half = int(np.floor(self.max_shift / step + 1e-9))
        shifts = 1.0 + step * np.arange(-half, half + 1)
        sq, si = padded_sticks(phases, q[0], q[-1], self.max_shift)
        atoms = Atoms(q, sq, si, shifts, sigma, tuple(self.width_scales), device=dev,
                      budget_bytes=int(self.memory_budget_gb * 1e9))
        x = torch.as_tensor(xn, dtype=torch.float32, device=dev)
        xx = (xn * xn).sum(1)
        pen = np.maximum(self.penalty * xx, self.noise_penalty * noise_variance(xn))
        self._ctx = dict(atoms=atoms, x=x, pen=pen, limits=search_limits, n=n, p_n=p_n, nbrs=nbrs, xraw=xraw, basis=basis,
                         comp=library.compositions, phase_comp=phases.compositions)

        state = _State.empty(n, int(search_limits.max()), q.size)
        keep = allowed.copy()
        interrupted = False
        total = self.rounds + 2
        stamp = np.array([n, p_n, q.size, shifts.size, atoms.n_widths, state.phase.shape[1]], dtype=np.int64)
        start = 0
        if resume and self.checkpoint is not None and Path(self.checkpoint).exists():
            state, keep, start, pen = _load_checkpoint(Path(self.checkpoint), stamp)
            self._ctx["pen"] = pen  # the per-phase costs the finished rounds used
            self.history_.append({"resumed_after_round": start})
        try:
            e_x, c_x = self._screen(x, keep)
            self._report("screen", 1, total, {})
            for rnd in range(start, self.rounds):
                resid = (x - torch.as_tensor(state.rec, dtype=x.dtype, device=dev)).clamp_min(0)
                e_r, c_r = self._screen(resid, keep) if rnd > 0 else (e_x, c_x)
                pools = self._pools(state, nbrs if rnd > 0 else None, keep, e_x, c_x, e_r, c_r)
                state = self._search(np.arange(n), pools, state)
                if rnd == 0 and self.misfit_penalty > 0:
                    pen = self._misfit_scaled(pen, xraw - state.rec - state.bg, xraw, xn)
                    self._ctx["pen"] = pen
                if (rnd > 0 or self.rounds == 1) and self.min_peak_fraction > 0:  # not after the first of several
                    keep = self._prune(state, keep)
                self._log(rnd, state, xn, atoms, time.perf_counter() - t0)
                if self.checkpoint is not None:
                    _save_checkpoint(Path(self.checkpoint), state, keep, rnd + 1, stamp, pen)
                self._report("search", rnd + 2, total, self.history_[-1])
            state = self._enforce(state, keep, nbrs)
            state = self._grow(state, nbrs, phases.is_substrate, limits, keep)
            # Repairs can undo each other (a re-solved island may start another), so repeat.
            seen: set[bytes] = set()
            for _ in range(self.repair_rounds):
                state = self._tidy(state, phases.is_substrate, limits)
                state = self._repair_connectivity(state, keep, edges)
                state = self._repair_fields(state, edges, nbrs)
                for _ in range(3):
                    state = self._smooth_shifts(state, nbrs)
                    if self.history_[-1]["points_changed"] == 0:
                        break
                state = self._tidy(state, phases.is_substrate, limits)
                if self._broken_regions(state, edges) == 0:
                    break
                # Repairs that undo each other come back to an answer seen before: stop there
                # (the exact island pruning below settles what is left).
                key = np.sort(np.where(state.present, state.phase, -1), axis=1).tobytes()
                if key in seen:
                    self.history_.append({"stage": "repairs", "cycle": True})
                    break
                seen.add(key)
            if self.strict:
                state = self._prune_islands(state, edges, phases.is_substrate, limits)
                state = self._enforce_alloying(state, edges, phases.is_substrate, limits)
                state = self._prune_islands(state, edges, phases.is_substrate, limits)
            self._report("repair", total, total, {})
        except KeyboardInterrupt:
            if not state.present.any():
                raise
            interrupted = True
        self._ctx["pen"] = pen
        return self._finish(library, phases, state, atoms, allowed, limits, edges, sigma, shifts, dev, t0, interrupted,
                            bg, scale)

    # ----------------------------------------------------------------- stages
    def _report(self, stage: str, done: int, total: int, info: dict) -> None:
        if self.callback is not None:
            self.callback(stage, done, total, info)

    def _evidence(self, state: "_State", p_n: int) -> np.ndarray:
        """What each present phase buys: the rise of the point's residual when it is left out
        (the others and the background refitted), in units of the per-phase cost."""
        from scipy.optimize import nnls

        atoms, pen, xn, basis = self._ctx["atoms"], self._ctx["pen"], self._ctx["xraw"], self._ctx["basis"]
        out = np.zeros((state.phase.shape[0], p_n))
        for i in range(state.phase.shape[0]):
            js = np.flatnonzero(state.present[i] & (state.coef[i] > 0))
            if js.size == 0:
                continue
            r = xn[i] - state.rec[i] - state.bg[i]
            rss = float(r @ r)
            for j in js:
                rest = js[js != j]
                if rest.size:
                    without = group_fit(xn[i], state.phase[i, rest], state.shift[i, rest], atoms, self.shape_offsets,
                                        basis)["rss"]
                elif basis is not None:
                    without = nnls(basis, xn[i])[1] ** 2
                else:
                    without = float(xn[i] @ xn[i])
                out[i, state.phase[i, j]] = max(without - rss, 0.0) / pen[i]
        return out

    def _misfit_scaled(self, pen: np.ndarray, resid: np.ndarray, xraw: np.ndarray, xn: np.ndarray) -> np.ndarray:
        """Per-phase cost on the misfit's scale where the model, not the noise, limits the fit.

        Information-criterion reasoning with the variance taken from the fit: where the
        first round leaves much of the signal unexplained (median relative residual above
        ``misfit_level``) and that residual is well above the noise (texture, peak shapes,
        phases outside the candidates in real data), a phase must buy ``misfit_penalty``
        times the point's residual variance to be believed. Noise-limited or well-explained
        libraries keep the noise-based cost.
        """
        rss = (resid * resid).sum(1)
        rel = np.sqrt(rss / np.maximum((xraw * xraw).sum(1), 1e-30))
        var = rss / resid.shape[1]
        over_noise = np.median(var / np.maximum(noise_variance(xn), 1e-30))
        on = bool(np.median(rel) > self.misfit_level and over_noise > _MISFIT_OVER_NOISE)
        self.history_.append({"stage": "misfit scale", "median_relative_residual": round(float(np.median(rel)), 4),
                              "misfit_over_noise": round(float(over_noise), 2), "applied": on})
        return np.maximum(pen, self.misfit_penalty * var) if on else pen

    def _prior(self, shift: np.ndarray) -> np.ndarray:
        """Shift prior of each member, in units of the per-phase cost."""
        return self.shift_prior * ((np.asarray(shift, dtype=float) - 1.0) / self.max_shift) ** 2

    def _cost(self, pen: float, shift: np.ndarray, weight: np.ndarray | float = 1.0) -> float:
        """Cost of a point's phases: the per-phase penalty (times ``weight``) plus the shift prior."""
        shift = np.asarray(shift, dtype=float)
        return float(pen * (np.broadcast_to(weight, shift.shape) + self._prior(shift)).sum())

    def _refit(self, state: "_State", points: np.ndarray) -> None:
        """Refit the given points with the phases they still hold."""
        state.refit(self._ctx["xraw"], self._ctx["atoms"], points, self._ctx["pen"], self.shape_offsets,
                    self._ctx["basis"], self._cost)

    def _log(self, rnd: int, state: "_State", xn: np.ndarray, atoms: Atoms, elapsed: float) -> None:
        rec = state.rec
        rel = np.linalg.norm(xn - rec, axis=1) / np.maximum(np.linalg.norm(xn, axis=1), 1e-30)
        entry = {"round": rnd, "mean_rel_l2": float(rel.mean()), "phases_used": int(np.unique(state.phase[state.present]).size),
                 "elapsed_s": round(elapsed, 2)}
        self.history_.append(entry)
        if self.verbose:
            print(f"round {rnd + 1}/{self.rounds}: mean relative L2 residual {rel.mean():.4f}, "
                  f"{entry['phases_used']} phases, {elapsed:.1f} s")

    def _screen(self, x: torch.Tensor, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Explained energy (b^2/|d|^2 where b > 0) of each phase at its best shift and width."""
        atoms = self._ctx["atoms"]
        n, p_n = x.shape[0], keep.shape[1]
        energy = np.full((n, p_n), -1.0)
        combo = np.zeros((n, p_n), dtype=np.int64)
        cand = np.flatnonzero(keep.any(axis=0))
        for a in range(0, cand.size, 16):
            ph = cand[a : a + 16]
            blk = atoms.block(ph).reshape(ph.size * atoms.n_combos, -1)
            dd = (blk * blk).sum(-1).clamp_min(1e-12)
            for b in range(0, n, 1024):
                g = x[b : b + 1024] @ blk.T
                e = torch.where(g > 0, g * g / dd, torch.zeros_like(g)).reshape(-1, ph.size, atoms.n_combos)
                v, i = e.max(-1)
                energy[b : b + 1024, ph] = v.cpu().numpy()
                combo[b : b + 1024, ph] = i.cpu().numpy()
        energy[~keep] = -1.0
        return energy, combo

    def _pools(self, state, nbrs, keep, e_x, c_x, e_r, c_r) -> list[dict[int, int]]:
        """Candidate pools per point: {phase: combo index} from own answer, neighbours, residual, screening."""
        k = self.pool_size
        order_x = np.argsort(-e_x, axis=1)[:, : 2 * k]
        order_r = np.argsort(-e_r, axis=1)[:, : k]
        pools = []
        for i in range(state.phase.shape[0]):
            pool = self._seed_pool(state, i, keep, nbrs[i] if nbrs is not None else ())
            for src, order, combo in ((e_r, order_r, c_r), (e_x, order_x, c_x)):
                for ph in order[i]:
                    if src is e_x and len(pool) >= k:
                        break
                    if src[i, ph] > 0 and int(ph) not in pool:
                        pool[int(ph)] = int(combo[i, ph])
                        if src is e_r and len(pool) >= k + 2:
                            break
            pools.append(pool)
        return pools

    def _search(self, points: np.ndarray, pools: list[dict[int, int]], state: "_State") -> "_State":
        """Best subset per point: grid fit of all subsets, coordinate descent on the best few."""
        atoms, x, pen, limits = self._ctx["atoms"], self._ctx["x"], self._ctx["pen"], self._ctx["limits"]
        nw = atoms.n_widths
        new = state.copy()
        for a in range(0, points.size, self.chunk_points):
            pts = points[a : a + self.chunk_points]
            c = pts.size
            kp = max(1, max(len(pools[i]) for i in pts))
            ph = np.zeros((c, kp), dtype=np.int64)
            cb = np.zeros((c, kp), dtype=np.int64)
            valid = np.zeros((c, kp), dtype=bool)
            for r, i in enumerate(pts):
                items = list(pools[i].items())
                if not items:
                    continue
                ph[r, : len(items)] = [p for p, _ in items]
                cb[r, : len(items)] = [v for _, v in items]
                valid[r, : len(items)] = True
            if not valid.any():
                continue
            ph_safe = np.where(valid, ph, ph[:, :1])
            prof = atoms.profiles(ph_safe, cb // nw, cb % nw) * torch.as_tensor(valid, device=x.device).unsqueeze(-1)
            xs = x[torch.as_tensor(pts, device=x.device)]
            kmax_t = torch.as_tensor(np.minimum(limits[pts], valid.sum(1).clip(1)), device=x.device)
            weight = self._penalty_weights(pts, ph, valid, state)
            pen_t = torch.as_tensor(pen[pts][:, None] * (weight + self._prior(atoms.shifts[cb // nw])),
                                    dtype=x.dtype, device=x.device)
            comp = None
            if self.composition_tolerance is not None:
                pc = self._ctx["phase_comp"]
                comp = (torch.as_tensor(self._ctx["comp"][pts], dtype=x.dtype, device=x.device),
                        torch.as_tensor(pc[ph_safe], dtype=x.dtype, device=x.device), self.composition_tolerance)
            mem, _, score = best_subsets(xs, prof, kmax_t, pen_t, self.top_subsets, comp)
            mem = mem.cpu().numpy()
            ok = np.isfinite(score.cpu().numpy())
            t, kk = mem.shape[1], mem.shape[2]
            present = (mem >= 0) & ok[:, :, None]
            idx = np.where(mem >= 0, mem, 0)
            rows = np.arange(c)[:, None, None]
            m_ph, m_cb = ph[rows, idx], cb[rows, idx]
            flat = lambda v: v.reshape(c * t, kk)  # noqa: E731
            s_i, w_i, coef, rss = coordinate_descent(
                xs.repeat_interleave(t, 0), flat(m_ph), flat(m_cb // nw), flat(m_cb % nw), flat(present), atoms,
                sweeps=self.sweeps,
            )
            coef = coef.cpu().numpy().reshape(c, t, kk)
            used = present & (coef > 0)
            m_w = weight[rows, idx]
            s_i, w_i = s_i.reshape(c, t, kk), w_i.reshape(c, t, kk)
            m_cost = m_w + self._prior(atoms.shifts[s_i])
            total = rss.cpu().numpy().reshape(c, t) + pen[pts][:, None] * (m_cost * used).sum(-1)
            total = np.where(used.any(-1), total, np.inf)
            xs_np = self._ctx["xraw"][pts]
            basis = self._ctx["basis"]
            for r, i in enumerate(pts):
                best = None
                for bi in np.argsort(total[r])[: self.group_top]:
                    if not np.isfinite(total[r, bi]):
                        break
                    js = np.flatnonzero(used[r, bi])
                    g = group_fit(xs_np[r], m_ph[r, bi, js], s_i[r, bi, js], atoms, self.shape_offsets, basis)
                    keep_j = g["height"] > 0
                    sc = g["rss"] + self._cost(pen[i], g["shift"][keep_j], m_w[r, bi, js][keep_j])
                    if best is None or sc < best[0]:
                        best = (sc, bi, js[keep_j], g, keep_j)
                if best is None:
                    continue
                sc, bi, js, g, kj = best
                new.set(i, m_ph[r, bi, js], s_i[r, bi, js], w_i[r, bi, js], g["height"][kj], sc,
                        g["shift"][kj], g["width"][kj], g["recon"], g["background"])
        return new

    def _penalty_weights(self, pts: np.ndarray, ph: np.ndarray, valid: np.ndarray, state: "_State") -> np.ndarray:
        """Cost multiplier of each pool member: cheaper where the neighbours hold the phase.

        Phase regions are connected, so a phase all the neighbours hold is a priori likely;
        this is what lets a minor phase continue to the edge of its region.
        """
        nbrs = self._ctx.get("nbrs")
        w = np.ones(ph.shape)
        if nbrs is None or self.neighbour_discount <= 0 or not state.present.any():
            return w
        for r, i in enumerate(pts):
            nb = nbrs[i]
            if len(nb) == 0:
                continue
            held = [set(state.phase[j][state.present[j]].tolist()) for j in nb]
            for c in np.flatnonzero(valid[r]):
                share = sum(int(ph[r, c]) in h for h in held) / len(nb)
                w[r, c] = 1.0 - self.neighbour_discount * share
        return w

    def _prune(self, state: "_State", keep: np.ndarray) -> np.ndarray:
        """Library-wide sparsity: drop phases that never reach ``min_peak_fraction``."""
        frac = state.fractions(self._ctx["p_n"])
        strong = frac.max(axis=0) >= self.min_peak_fraction
        strong &= (frac > 0.02).sum(axis=0) >= self.min_region_points
        return keep & strong[None, :]

    def _enforce(self, state: "_State", keep: np.ndarray, nbrs) -> "_State":
        """Re-solve points that still use a pruned phase (pools without it)."""
        bad = [i for i in range(state.phase.shape[0])
               if any(not keep[i, state.phase[i, j]] for j in np.flatnonzero(state.present[i]))]
        if not bad:
            return state
        pools = self._pools_restricted(state, np.array(bad), keep, nbrs)
        return self._search(np.array(bad), pools, state)

    def _seed_pool(self, state: "_State", i: int, keep: np.ndarray, neighbours) -> dict[int, int]:
        """{phase: combo index} of point i's own allowed phases, then its neighbours' (their shifts)."""
        nw = self._ctx["atoms"].n_widths
        pool: dict[int, int] = {}
        for src in (i, *neighbours):
            for j in np.flatnonzero(state.present[src]):
                ph = int(state.phase[src, j])
                if ph not in pool and keep[i, ph]:
                    pool[ph] = int(state.shift[src, j]) * nw + int(state.width[src, j])
        return pool

    def _pools_restricted(self, state, points, keep, nbrs) -> list[dict[int, int]]:
        x = self._ctx["x"]
        e_x, c_x = self._screen(x[torch.as_tensor(points, device=x.device)], keep[points])
        pools: list[dict[int, int]] = [dict() for _ in range(state.phase.shape[0])]
        for r, i in enumerate(points):
            pool = self._seed_pool(state, i, keep, nbrs[i])
            for ph in np.argsort(-e_x[r])[: self.pool_size]:
                if len(pool) >= self.pool_size:
                    break
                if e_x[r, ph] > 0 and int(ph) not in pool:
                    pool[int(ph)] = int(c_x[r, ph])
            pools[i] = pool
        return pools

    def _repair_connectivity(self, state: "_State", keep: np.ndarray, edges: np.ndarray) -> "_State":
        """Remove a phase from islands cut off from its main region where the data allow it."""
        n = state.phase.shape[0]
        x = self._ctx["x"]
        xx = (x * x).sum(-1).cpu().numpy()
        for ph in [p for _ in range(3) for p in np.unique(state.phase[state.present])]:  # a re-solve can cut another
            pts = np.flatnonzero(((state.phase == ph) & state.present).any(1))
            if pts.size < 2:
                continue
            lab = _components(pts, edges, n)
            if lab.max() < 1:
                continue
            main = np.bincount(lab).argmax()
            islands = pts[lab != main]
            k2 = keep.copy()
            k2[islands, ph] = False
            pools = self._pools_restricted(state, islands, k2, self._ctx["nbrs"])
            trial = self._search(islands, pools, state)
            for i in islands:
                cost = trial.score[i] - state.score[i]
                solved = ph not in trial.phase[i][trial.present[i]] and trial.present[i].any()
                if solved and (self.strict or cost <= self.repair_tolerance * xx[i]):
                    state.copy_point(trial, i)
                elif self.strict:
                    # No re-solve without the phase: keep the point's other phases, refitted.
                    state.present[i] &= state.phase[i] != ph
                    self._refit(state, np.array([i]))
        return state

    def _smooth_shifts(self, state: "_State", nbrs) -> "_State":
        """Alloying rule: a phase's shift follows its neighbours' unless the data insist.

        Where a phase's shift is more than ``shift_tolerance`` from the median of the
        neighbours holding it, the point is refitted with that phase centred on the median;
        the change is kept when it costs less than ``repair_tolerance`` of the energy.
        """
        atoms, pen = self._ctx["atoms"], self._ctx["pen"]
        xn, basis = self._ctx["xraw"], self._ctx["basis"]
        xx = (xn * xn).sum(1)
        n_fixed = 0
        for i in range(state.phase.shape[0]):
            for j in np.flatnonzero(state.present[i]):
                p = state.phase[i, j]
                near = [state.shift_val[nb][state.present[nb] & (state.phase[nb] == p)] for nb in nbrs[i]]
                near = np.concatenate(near) if near else np.zeros(0)
                if near.size == 0:
                    continue
                med = float(np.median(near))
                if abs(state.shift_val[i, j] - med) <= self.shift_tolerance:
                    continue
                js = np.flatnonzero(state.present[i])
                centre = state.shift[i, js].copy()
                centre[js == j] = atoms.shift_index(med)
                g = group_fit(xn[i], state.phase[i, js], centre, atoms, (-1, 0, 1), basis)
                kj = g["height"] > 0
                sc = g["rss"] + self._cost(pen[i], g["shift"][kj])
                if kj.all() and (self.strict or sc - state.score[i] <= self.repair_tolerance * xx[i]):
                    state.set(i, state.phase[i, js][kj], centre[kj], state.width[i, js][kj], g["height"][kj], sc,
                              g["shift"][kj], g["width"][kj], g["recon"], g["background"])
                    n_fixed += 1
                    break
        self.history_.append({"stage": "alloying", "points_changed": n_fixed})
        return state

    def _grow(self, state: "_State", nbrs, substrate, limits, keep) -> "_State":
        """Minor phases at the edge of their region: a point below its Gibbs limit tries each
        phase its neighbours hold (at the neighbour's shift); kept where it pays its
        (neighbour-discounted) cost."""
        atoms, pen, xn, basis = self._ctx["atoms"], self._ctx["pen"], self._ctx["xraw"], self._ctx["basis"]
        added = 0
        for i in range(state.phase.shape[0]):
            js = np.flatnonzero(state.present[i])
            if js.size == 0 or (state.present[i] & ~substrate[state.phase[i]]).sum() >= limits[i]:
                continue
            if js.size >= state.phase.shape[1]:
                continue
            own = set(state.phase[i, js].tolist())
            offers = {ph: combo // atoms.n_widths for ph, combo in self._seed_pool(state, i, keep, nbrs[i]).items()
                      if ph not in own}
            if not offers:
                continue
            held = [set(state.phase[nb][state.present[nb]].tolist()) for nb in nbrs[i]]

            def cost(phs: np.ndarray, shv: np.ndarray) -> float:
                share = np.array([sum(int(p) in h for h in held) / max(len(held), 1) for p in phs])
                return self._cost(pen[i], shv, 1.0 - self.neighbour_discount * share)

            r_cur = xn[i] - state.rec[i] - state.bg[i]
            best = (float(r_cur @ r_cur) + cost(state.phase[i, js], state.shift_val[i, js]), None)
            for ph, s_idx in offers.items():
                phs = np.append(state.phase[i, js], ph)
                g = group_fit(xn[i], phs, np.append(state.shift[i, js], s_idx), atoms, self.shape_offsets, basis)
                if not (g["height"] > 0).all():
                    continue
                sc = g["rss"] + cost(phs, g["shift"])
                if sc < best[0]:
                    best = (sc, (phs, np.append(state.shift[i, js], s_idx), np.append(state.width[i, js], 0), g))
            if best[1] is not None:
                phs, centre, width, g = best[1]
                state.set(i, phs, centre, width, g["height"], best[0], g["shift"], g["width"], g["recon"], g["background"])
                added += 1
        self.history_.append({"stage": "grow", "points_changed": added})
        return state

    def _tidy(self, state: "_State", substrate: np.ndarray, limits: np.ndarray) -> "_State":
        """Drop fractions under ``threshold`` and, exactly, what exceeds the Gibbs limit; refit."""
        for _ in range(2):  # a refit can push another fraction under the threshold
            frac = state.fractions(self._ctx["p_n"])
            drop = state.present & (np.take_along_axis(frac, np.where(state.present, state.phase, 0), 1) < self.threshold)
            # Gibbs: system phases (not a substrate) beyond the limit go, smallest first.
            chem = state.present & ~drop & ~substrate[state.phase]
            for i in np.flatnonzero(chem.sum(1) > limits):
                js = np.flatnonzero(chem[i])
                order = js[np.argsort(state.coef[i, js])]
                drop[i, order[: js.size - limits[i]]] = True
            if not drop.any():
                break
            state.present &= ~drop
            self._refit(state, np.flatnonzero(drop.any(1)))
        return state

    def _prune_islands(self, state: "_State", edges: np.ndarray, substrate, limits) -> "_State":
        """Last resort for connectivity: a phase is removed from points outside its largest
        region, and a point cut off from the rest of its phase field drops its weakest phase
        (the other phases there are refitted; nothing is added; a removal can cut another
        region, hence the repeats)."""
        n = state.phase.shape[0]
        removed = 0
        for _ in range(6):
            touched = set()
            for ph in np.unique(state.phase[state.present]):
                pts = np.flatnonzero(((state.phase == ph) & state.present).any(1))
                lab = _components(pts, edges, n)
                if lab.size == 0 or lab.max() < 1:
                    continue
                main = np.bincount(lab).argmax()
                for i in pts[lab != main]:
                    if (state.present[i] & (state.phase[i] != ph)).any():  # never empty a point
                        state.present[i] &= state.phase[i] != ph
                        touched.add(int(i))
            # Phase fields (exact sets of two or more): an island point drops its weakest phase.
            sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(n)]
            for fs in {f for f in sets if len(f) >= 2}:
                pts = np.array([i for i in range(n) if sets[i] == fs and i not in touched])
                lab = _components(pts, edges, n)
                if lab.size == 0 or lab.max() < 1:
                    continue
                main = np.bincount(lab).argmax()
                for i in pts[lab != main]:
                    js = np.flatnonzero(state.present[i])
                    state.present[i, js[np.argmin(state.coef[i, js])]] = False
                    touched.add(int(i))
            if not touched:
                break
            removed += len(touched)
            self._refit(state, np.array(sorted(touched)))
            state = self._tidy(state, substrate, limits)
        self.history_.append({"stage": "island pruning", "points_changed": removed})
        return state

    def _enforce_alloying(self, state: "_State", edges: np.ndarray, substrate, limits) -> "_State":
        """Alloying rule, exactly: where a phase is held by neighbouring points of the same phase
        field that both use their full phase count, the phase's composition, hence its shift,
        cannot change. A connected group of such points with a jump above ``alloy_tolerance``
        gets the group's median shift (each point refitted around it; a phase the data refuse
        there leaves the point)."""
        atoms, pen, xn, basis = self._ctx["atoms"], self._ctx["pen"], self._ctx["xraw"], self._ctx["basis"]
        n = state.phase.shape[0]
        changed = 0
        for _ in range(4):
            moved = False
            for ph in np.unique(state.phase[state.present]):
                full = (state.present & ~substrate[state.phase]).sum(1) >= limits
                holds = (state.present & (state.phase == ph)).any(1)
                cand = np.flatnonzero(full & holds)
                field = {int(i): frozenset(state.phase[i][state.present[i]].tolist()) for i in cand}
                groups = []
                for fs in set(field.values()):  # one phase field at a time
                    pts = np.array([i for i in cand if field[int(i)] == fs])
                    lab = _components(pts, edges, n)
                    groups += [pts[lab == c] for c in range(int(lab.max()) + 1)] if pts.size else []
                for grp in groups:
                    if grp.size < 2:
                        continue
                    slot = [int(np.flatnonzero(state.present[i] & (state.phase[i] == ph))[0]) for i in grp]
                    sh = np.array([state.shift_val[i, j] for i, j in zip(grp, slot)])
                    med = float(np.median(sh))
                    sub = np.isin(edges[:, 0], grp) & np.isin(edges[:, 1], grp)
                    sub &= limits[edges[:, 0]] == limits[edges[:, 1]]
                    val = dict(zip(grp.tolist(), sh.tolist()))
                    jumps = [abs(val[u] - val[v]) / (0.5 * (val[u] + val[v])) for u, v in edges[sub]]
                    if not jumps or max(jumps) <= self.alloy_tolerance:
                        continue
                    centre_idx = atoms.shift_index(med)
                    for i, j, v in zip(grp, slot, sh):
                        if abs(v - med) <= 0.5 * self.alloy_tolerance * med:
                            continue  # close enough to the group: no edge of it can break the rule
                        js = np.flatnonzero(state.present[i])
                        centre = state.shift[i, js].copy()
                        centre[js == j] = centre_idx
                        g = group_fit(xn[i], state.phase[i, js], centre, atoms, (0,), basis)
                        kj = g["height"] > 0
                        if not kj.any():
                            continue
                        state.set(i, state.phase[i, js][kj], centre[kj], state.width[i, js][kj], g["height"][kj],
                                  g["rss"] + self._cost(pen[i], g["shift"][kj]), g["shift"][kj], g["width"][kj], g["recon"],
                                  g["background"])
                        changed += 1
                        moved = True
            if not moved:
                break
        self.history_.append({"stage": "alloying (exact)", "points_changed": changed})
        return state

    def _broken_regions(self, state: "_State", edges: np.ndarray) -> int:
        """Extra connected components of phases and phase fields (the audit's count)."""
        n = state.phase.shape[0]
        sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(n)]
        extra = 0
        for ph in {p for f in sets for p in f}:
            pts = np.array([i for i in range(n) if ph in sets[i]])
            extra += int(_components(pts, edges, n).max()) if pts.size else 0
        for fs in {f for f in sets if len(f) >= 2}:
            pts = np.array([i for i in range(n) if sets[i] == fs])
            extra += int(_components(pts, edges, n).max())
        self.history_.append({"stage": "regions", "extra_components": extra})
        return extra

    def _repair_fields(self, state: "_State", edges: np.ndarray, nbrs) -> "_State":
        """Connectivity of phase fields: a point whose exact phase set is an island takes the
        best-fitting phase set among its neighbours' (a Potts-like smoothing of the map)."""
        atoms, pen, xn, basis = self._ctx["atoms"], self._ctx["pen"], self._ctx["xraw"], self._ctx["basis"]
        xx = (xn * xn).sum(1)
        n = state.phase.shape[0]
        changed = 0
        for _ in range(3):
            sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(n)]
            islands = []
            for fs in {f for f in sets if len(f) >= 2}:
                pts = np.array([i for i in range(n) if sets[i] == fs])
                comp = _components(pts, edges, n)
                if comp.max() > 0:
                    main = np.bincount(comp).argmax()
                    islands.extend(pts[comp != main].tolist())
            if not islands:
                break
            for i in islands:
                best = None
                for j in nbrs[i]:
                    if sets[j] == sets[i] or not sets[j]:
                        continue
                    js = np.flatnonzero(state.present[j])
                    g = group_fit(xn[i], state.phase[j, js], state.shift[j, js], atoms, self.shape_offsets, basis)
                    kj = g["height"] > 0
                    sc = g["rss"] + self._cost(pen[i], g["shift"][kj])
                    if kj.all() and (best is None or sc < best[0]):
                        best = (sc, j, js, g)
                if best is None:
                    continue
                sc, j, js, g = best
                if self.strict or sc - state.score[i] <= self.repair_tolerance * xx[i]:
                    state.set(i, state.phase[j, js], state.shift[j, js], state.width[j, js], g["height"], sc,
                              g["shift"], g["width"], g["recon"], g["background"])
                    sets[i] = sets[j]
                    changed += 1
        self.history_.append({"stage": "phase fields", "points_changed": changed})
        return state

    def _finish(self, library, phases, state, atoms, allowed, limits, edges, sigma, shifts, dev, t0, interrupted,
                bg, scale):
        n, p_n = library.n_points, len(phases)
        state = self._tidy(state, phases.is_substrate, limits)
        frac = state.fractions(p_n)
        amp = np.zeros((n, p_n))
        shf = np.full((n, p_n), np.nan)
        wsc = np.ones((n, p_n))
        for i in range(n):
            for j in np.flatnonzero(state.present[i] & (state.coef[i] > 0)):
                p = int(state.phase[i, j])
                amp[i, p] = state.coef[i, j]
                shf[i, p] = state.shift_val[i, j]
                wsc[i, p] = state.width_val[i, j]
        bg = state.bg * scale[:, None]
        recon = state.rec * scale[:, None] + bg
        res = np.linalg.norm(library.patterns - recon, axis=1) / np.maximum(np.linalg.norm(library.patterns, axis=1), 1e-30)
        evidence = self._evidence(state, p_n)
        sol = Solution(
            labels=phases.labels,
            fractions=frac,
            shifts=shf,
            amplitudes=amp * scale[:, None],
            widths=np.tile(np.asarray(sigma, dtype=float), (p_n, 1)),
            width_scale=wsc,
            reconstruction=recon,
            background=bg if np.any(bg) else None,
            residuals=res,
            evidence=evidence,
            max_phases=limits,
            mask=allowed,
            edges=edges,
        )
        sol.audit = _audit_or_empty(sol, library, phases, self.threshold)
        from .. import __version__

        sol.metadata = {
            "version": __version__,
            "seed": self.seed,
            "device": dev,
            "device_name": torch.cuda.get_device_name(0) if dev.startswith("cuda") else "cpu",
            "wall_time_s": round(time.perf_counter() - t0, 3),
            "interrupted": interrupted,
            "sigma": list(sigma),
            "shift_step": float(shifts[1] - shifts[0]) if shifts.size > 1 else 0.0,
            "parameters": {k: v for k, v in self.__dict__.items()
                           if not k.endswith("_") and not k.startswith("_") and k not in ("callback", "checkpoint")},
            "history": self.history_,
            "library": library.source,
            "phases": phases.source,
        }
        self.solution_ = sol
        self.fractions_, self.shifts_, self.amplitudes_ = frac, shf, sol.amplitudes
        self.widths_, self.reconstruction_, self.residuals_ = sol.widths, recon, res
        self._ctx = {}
        return self


class _State:
    """Each point's current answer: up to ``k`` (phase, shift index, width index, amplitude)."""

    FIELDS = ("phase", "shift", "width", "coef", "present", "score", "shift_val", "width_val", "rec", "bg")

    def __init__(self, **arrays):
        for name in self.FIELDS:
            setattr(self, name, arrays[name])

    @classmethod
    def empty(cls, n: int, k: int, n_q: int) -> "_State":
        z = np.zeros((n, k), dtype=np.int64)
        return cls(phase=z.copy(), shift=z.copy(), width=z.copy(), coef=np.zeros((n, k)),
                   present=np.zeros((n, k), dtype=bool), score=np.full(n, np.inf), shift_val=np.ones((n, k)),
                   width_val=np.ones((n, k)), rec=np.zeros((n, n_q)), bg=np.zeros((n, n_q)))

    def copy(self) -> "_State":
        return _State(**{name: getattr(self, name).copy() for name in self.FIELDS})

    def set(self, i, phase, shift, width, height, score, shift_val, width_val, rec, bg=None) -> None:
        """Point i's answer: its phases (centre shift and width indices), peak heights and fit."""
        k = min(self.phase.shape[1], len(phase))
        self.present[i] = False
        self.coef[i] = 0.0
        self.phase[i, :k], self.shift[i, :k], self.width[i, :k] = phase[:k], shift[:k], width[:k]
        self.coef[i, :k] = height[:k]
        self.shift_val[i, :k], self.width_val[i, :k] = shift_val[:k], width_val[:k]
        self.present[i, :k] = True
        self.score[i] = score
        self.rec[i] = rec
        self.bg[i] = 0.0 if bg is None else bg

    def copy_point(self, other: "_State", i: int) -> None:
        for name in self.FIELDS:
            getattr(self, name)[i] = getattr(other, name)[i]

    def fractions(self, p_n: int) -> np.ndarray:
        amp = np.zeros((self.phase.shape[0], p_n))
        rows, cols = np.nonzero(self.present)
        np.add.at(amp, (rows, self.phase[rows, cols]), self.coef[rows, cols])
        tot = amp.sum(1, keepdims=True)
        return np.divide(amp, tot, out=np.zeros_like(amp), where=tot > 0)

    def refit(self, x: np.ndarray, atoms: Atoms, points: np.ndarray, pen: np.ndarray, offsets, basis, cost) -> None:
        """Refit the given points with their present phases (after some were dropped)."""
        for i in points:
            js = np.flatnonzero(self.present[i])
            if js.size == 0:
                self.coef[i] = 0.0
                self.rec[i] = 0.0
                continue
            g = group_fit(x[i], self.phase[i, js], self.shift[i, js], atoms, offsets, basis)
            kj = g["height"] > 0
            self.set(i, self.phase[i, js][kj], self.shift[i, js][kj], self.width[i, js][kj], g["height"][kj],
                     g["rss"] + cost(pen[i], g["shift"][kj]), g["shift"][kj],
                     g["width"][kj], g["recon"], g["background"])


def _components(points: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label of each of ``points`` in the graph restricted to them."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if points.size == 0:
        return np.zeros(0, dtype=int)
    sel = np.isin(edges[:, 0], points) & np.isin(edges[:, 1], points)
    e = edges[sel]
    pos = np.full(n, -1)
    pos[points] = np.arange(points.size)
    g = coo_matrix((np.ones(len(e)), (pos[e[:, 0]], pos[e[:, 1]])), shape=(points.size, points.size))
    return connected_components(g, directed=False)[1]


def _save_checkpoint(path: Path, state: "_State", keep: np.ndarray, rounds_done: int, stamp: np.ndarray,
                     pen: np.ndarray) -> None:
    """Write the search state atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, stamp=stamp, keep=keep, rounds_done=rounds_done, pen=pen,
                     **{name: getattr(state, name) for name in _State.FIELDS})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_checkpoint(path: Path, stamp: np.ndarray) -> tuple["_State", np.ndarray, int, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            if not np.array_equal(z["stamp"], stamp):
                raise InputError("the checkpoint belongs to another library, phase list or grid; "
                                 "delete it or run without --resume", source=str(path))
            state = _State(**{name: z[name].copy() for name in _State.FIELDS})
            return state, z["keep"].copy(), int(z["rounds_done"]), z["pen"].copy()
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"unreadable checkpoint ({err})", source=str(path)) from None


def _audit_or_empty(sol: Solution, library: Library, phases: PhaseLibrary, threshold: float) -> dict:
    """The exact audit of the answer as reported: every phase present counts."""
    from ..evaluate import audit_solution

    return audit_solution(sol, library, phases, threshold=threshold)
