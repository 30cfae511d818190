"""Preparing a library for the search: device, peak widths, noise, background, the problem.

Everything here is computed once, before the search, from the patterns alone; the result
is a :class:`~drnets.solve._problem.Problem` that every later stage reads.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core import FWHM_PER_SIGMA, InputError, Library, PhaseLibrary, peak_shape
from ..structure import adjacency_lists, allowed_mask, composition_graph, gibbs_limits
from ._atoms import Atoms, background_basis
from ._decoder import padded_sticks, reachable_sticks
from ._params import Params
from ._phase_texture import axis_factors
from ._problem import Problem
from ._texture import texture_factors


def pick_device(device: str | None) -> str:
    """'auto' (or None) -> 'cuda' when available, else 'cpu'."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("CUDA was requested but no CUDA device is available", where="--device")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError(f"unknown device {device!r} (use auto, cpu or cuda)", where="--device")
    return device


def _peak_tops(row: np.ndarray, rel_height: float) -> np.ndarray:
    """Indices of the local maxima of a max-normalised pattern above ``rel_height``."""
    return np.flatnonzero((row[1:-1] > row[:-2]) & (row[1:-1] >= row[2:]) & (row[1:-1] > rel_height)) + 1


def _crossings(q: np.ndarray, row: np.ndarray, i: int, level: float) -> tuple[int, int, float, float] | None:
    """Where the peak at ``i`` falls to ``level`` on either side: the first grid indices at or
    below it (lo, hi) and the linearly interpolated positions (q_lo, q_hi); None where a
    side never gets down to it."""
    lo = i
    while lo > 0 and row[lo] > level:
        lo -= 1
    hi = i
    while hi < row.size - 1 and row[hi] > level:
        hi += 1
    if row[lo] > level or row[hi] > level:
        return None
    ql = q[lo] + (level - row[lo]) * (q[lo + 1] - q[lo]) / max(row[lo + 1] - row[lo], 1e-12)
    qh = q[hi - 1] + (row[hi - 1] - level) * (q[hi] - q[hi - 1]) / max(row[hi - 1] - row[hi], 1e-12)
    return lo, hi, float(ql), float(qh)


def estimate_widths(
    q: np.ndarray, patterns: np.ndarray, *, rel_height: float = 0.25, quantile: float = 0.1
) -> tuple[float, float]:
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
        for i in _peak_tops(row, rel_height):
            cut = _crossings(q, row, i, 0.5 * row[i])
            if cut is None:
                continue
            _, _, ql, qh = cut
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


def _fw_ratio(eta: float, level: float) -> float:
    """Full width at ``level`` of the peak height over the FWHM, for a pseudo-Voigt of Lorentzian share ``eta``."""
    from scipy.optimize import brentq

    hw = 0.5 * FWHM_PER_SIGMA
    return brentq(lambda z: float(peak_shape(np.array(z), eta)) - level, 0.0, 1e4) / hw


def estimate_eta(q: np.ndarray, patterns: np.ndarray, *, level: float = 0.2, rel_height: float = 0.25) -> float:
    """Lorentzian share of the peaks (pseudo-Voigt), from the shape of isolated peaks.

    A Gaussian's full width at a fifth of its height is 1.52 times its FWHM, a
    Lorentzian's 2.0 times. Each prominent peak that falls monotonically on both sides
    down to ``level`` and is near-symmetric there gives that ratio; the median over the
    library, inverted, is the share. ``patterns`` should be background-free (a background
    widens the foot). Fewer than 5 usable peaks, or a ratio at or below a Gaussian's, give 0.
    """
    from scipy.optimize import brentq

    x = patterns / np.maximum(patterns.max(axis=1, keepdims=True), 1e-30)
    ratios = []
    for row in x:
        for i in _peak_tops(row, rel_height):
            h = row[i]
            cut = []
            for frac in (0.5, level):
                found = _crossings(q, row, i, frac * h)
                if found is None:
                    break
                lo, hi, ql, qh = found
                # a shoulder or a neighbour inside the window spoils the shape
                if np.any(np.diff(row[lo : i + 1]) < -0.02 * h) or np.any(np.diff(row[i : hi + 1]) > 0.02 * h):
                    break
                cut.append((ql, qh))
            if len(cut) < 2:
                continue
            (a0, a1), (b0, b1) = cut
            if abs((b1 - q[i]) - (q[i] - b0)) > 0.3 * (b1 - b0):
                continue
            ratios.append((b1 - b0) / max(a1 - a0, 1e-12))
    if len(ratios) < 5:
        return 0.0
    r = float(np.median(ratios))
    r0, r1 = _fw_ratio(0.0, level), _fw_ratio(1.0, level)
    if r <= r0:
        return 0.0
    if r >= r1:
        return 1.0
    return float(brentq(lambda e: _fw_ratio(e, level) - r, 0.0, 1.0))


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


def noise_variance(xn: np.ndarray) -> np.ndarray:
    """Per-pattern white-noise variance from second differences (a low quantile ignores peaks)."""
    d2 = np.abs(xn[:, 2:] - 2 * xn[:, 1:-1] + xn[:, :-2])
    # |N(0, 6 s^2)| has its 25 % quantile at 0.3186 * sqrt(6) s.
    return (np.quantile(d2, 0.25, axis=1) / 0.3186) ** 2 / 6.0


#: Lowest quiet level (share of the pattern's maximum) of :func:`count_weights`: a pattern
#: whose baseline is lower still weighs its peak tops at least sqrt(0.02) ~ 1/7 of it.
QUIET_FLOOR = 0.02


def count_weights(xraw: np.ndarray) -> np.ndarray:
    """Per-point weights of each Q point under counting (Poisson) statistics.

    A count's variance is its expected value, so a Q point is weighted by
    ``sqrt(quiet / level)``: the level is the measured pattern lightly smoothed (three Q
    points, so that the weights do not follow the noise), the quiet level its lower quartile
    (the baseline between peaks, where :func:`noise_variance` measures the noise), and
    nothing weighs more than the baseline. Each point's weights are then scaled to a mean
    square of one: the residual keeps the scale the per-phase cost and the shift prior are
    set on, and only where along Q the residual counts changes (peak tops, where counting
    noise and peak-shape misfit are largest, count less; the baseline where minor phases
    show more).
    """
    from scipy.ndimage import uniform_filter1d

    level = uniform_filter1d(xraw, 3, axis=1)
    quiet = np.maximum(np.quantile(level, 0.25, axis=1, keepdims=True), QUIET_FLOOR)
    w = np.sqrt(quiet / np.maximum(level, quiet))
    return w / np.sqrt((w * w).mean(axis=1, keepdims=True))


def kept_signal_share(xn: np.ndarray, weights: np.ndarray) -> float:
    """The share of the signal's energy the weights keep (median over the points).

    A lattice shift is told by the residual at a phase's peaks, which :func:`count_weights`
    weighs less than the baseline; the shift prior is scaled by this share so that it keeps
    its weight against that evidence (1 for unweighted fits).
    """
    energy = (xn * xn).sum(axis=1)
    kept = (weights * weights * xn * xn).sum(axis=1)
    return float(np.median(kept / np.maximum(energy, 1e-30)))


def prepare(
    library: Library,
    phases: PhaseLibrary,
    params: Params,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    edges: np.ndarray | None = None,
) -> Problem:
    """The problem to search: normalised patterns, profiles, costs, limits and neighbours.

    Parameters
    ----------
    library, phases : Library, PhaseLibrary
    params : Params
        The solver's parameters (already validated).
    mask : ndarray (N, P) of bool, optional
        Allowed phases per point; default: the element rule.
    max_phases : ndarray (N,), optional
        Gibbs limit per point; default: elements present.
    edges : ndarray (E, 2), optional
        Neighbour pairs; default: the composition graph (empty: independent samples).
    """
    dev = pick_device(params.device)
    q = library.q
    n, p_n = library.n_points, len(phases)
    allowed = allowed_mask(library, phases, override=mask)
    limits = np.asarray(max_phases if max_phases is not None else gibbs_limits(library.compositions), dtype=int)
    # At least one phase; never more than there are candidates (a limit of 1e9 would size
    # the search state by it).
    limits = np.minimum(np.maximum(limits, 1), max(p_n, 1))
    # A substrate is not part of the system's equilibrium: it does not count in Gibbs.
    search_limits = limits + (allowed & phases.is_substrate[None, :]).sum(axis=1)
    edges = composition_graph(library.compositions) if edges is None else np.asarray(edges, dtype=int).reshape(-1, 2)
    nbrs = adjacency_lists(edges, n)

    if params.sigma:
        sig = np.broadcast_to(np.asarray(params.sigma, dtype=float), (2,)).astype(float)
    else:
        sig = np.array(estimate_widths(q, library.patterns))
    sigma = (float(sig[0]), float(sig[1]))
    # The search sees the patterns less a rough background (a wide grey opening); the
    # final fits see the measured patterns with a smooth background fitted jointly.
    # Patterns whose lowest tenth sits on a baseline are raw counts: they get the
    # background opening and counting weights. Patterns already background-free (the
    # baseline is ~0: processed or simulated data) say nothing of their counts.
    pm = np.maximum(library.patterns.max(axis=1), 1e-30)
    on_baseline = float(np.median(np.quantile(library.patterns, 0.1, axis=1) / pm)) > params.baseline_level
    if params.background == "auto":
        if on_baseline:
            bg = estimate_background(q, library.patterns, params.background_width * max(sigma))
        else:
            bg = np.zeros_like(library.patterns)
        basis = background_basis(q)
    elif params.background == "none":
        bg = np.zeros_like(library.patterns)
        basis = None
    else:
        raise InputError(f"unknown background mode {params.background!r} (use auto or none)", where="background")
    if params.eta is not None:
        eta = float(params.eta)
    else:
        # Shapes are read off the patterns less a background (the search's opening where it
        # took one); a share under 0.05 is a Gaussian within what the estimate can tell
        # (and keeps the narrow windows).
        foot = bg if bg.any() else estimate_background(q, library.patterns, params.background_width * max(sigma))
        eta = estimate_eta(q, library.patterns - foot)
        eta = 0.0 if eta < 0.05 else round(eta, 3)
    scale = np.maximum(library.patterns.max(axis=1), 1e-30)
    xn = np.clip(library.patterns - bg, 0.0, None) / scale[:, None]
    xraw = library.patterns / scale[:, None]
    step = params.shift_step or max(5e-4, min(0.002, sigma[1] / (3 * q[-1])))
    half = int(np.floor(params.max_shift / step + 1e-9))
    shifts = 1.0 + step * np.arange(-half, half + 1)
    sq, si = padded_sticks(phases, q[0], q[-1], params.max_shift)
    reach = reachable_sticks(phases, q[0], q[-1], params.max_shift)
    atoms = Atoms(
        q,
        sq,
        si,
        shifts,
        sigma,
        tuple(params.width_scales),
        device=dev,
        budget_bytes=int(params.memory_budget_gb * 1e9),
        eta=eta,
        texture=texture_factors(phases, reach, sq.shape[1]) if params.texture else None,
    )
    x = torch.as_tensor(xn, dtype=torch.float32, device=dev)
    xx = (xn * xn).sum(1)
    pen = np.maximum(params.penalty * xx, params.noise_penalty * noise_variance(xn))
    weights = count_weights(xraw) if params.count_weights and on_baseline else None
    return Problem(
        params=params,
        device=dev,
        n=n,
        p_n=p_n,
        q=q,
        sigma=sigma,
        eta=eta,
        shifts=shifts,
        atoms=atoms,
        x=x,
        xn=xn,
        xraw=xraw,
        basis=basis,
        background=bg,
        scale=scale,
        pen=pen,
        allowed=allowed,
        limits=limits,
        search_limits=search_limits,
        substrate=phases.is_substrate,
        edges=edges,
        nbrs=nbrs,
        comp=library.compositions,
        phase_comp=phases.compositions,
        history=[],
        axis_factors=axis_factors(phases, reach, sq.shape[1]) if params.phase_texture else None,
        weights=weights,
        prior_scale=1.0 if weights is None else kept_signal_share(xn, weights),
    )
