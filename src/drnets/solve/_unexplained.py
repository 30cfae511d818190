"""Signal no candidate explains: residual peaks per point, and unknown phases across the library.

Per point the residual (pattern less the fitted phases and background) is smoothed by a
Gaussian of the peak width (the matched filter of a peak), and its local maxima count as
unexplained peaks when they stand above the noise (``UNEXPLAINED_Z`` noise sigmas of the
smoothed residual) and above a share of the point's strongest peak, and are not merely a
misfit of a modelled peak (a residual under ``MISFIT_SHARE`` of the model there, or within
``ON_MODEL_PEAK`` sigmas of a stick of a phase the point holds, is shape, shift or amount
error of a known phase, not a missing one). Across the library, unexplained peaks at neighbouring
points that sit within a peak width of each other are joined into tracks (a peak moving
with a solid solution stays one track); a track whose points lie (mostly) within a larger
track's belongs to the same unknown-phase candidate. Given more structures, each candidate's mean residual is matched
against their profiles at every shift (:func:`rank_structures`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..core import Library, PhaseLibrary, Solution, Unexplained
from ..core.constants import MAX_SHIFT

#: Noise sigmas (of the smoothed residual) an unexplained peak must exceed.
UNEXPLAINED_Z = 5.0
#: Smallest unexplained peak, relative to the point's strongest peak.
PEAK_LEVEL = 0.04
#: A residual peak under this share of the model's height at the same place is misfit of a
#: modelled peak (shape, shift), not signal of another phase.
MISFIT_SHARE = 0.5
#: Distance (peak sigmas) from a stick of a phase the point holds within which a residual peak
#: is that phase's misfit.
ON_MODEL_PEAK = 1.5
#: Relative shift by which a held phase may be off (a wrong shift leaves its peaks in the
#: residual: that is the answer's error, not an unknown phase).
SHIFT_SLACK = 0.01
#: Sticks weaker than this share of their phase's strongest are not counted as its peaks.
STICK_LEVEL = 0.01
#: Score (strongest unexplained peak relative to the strongest peak) at which a point is flagged.
FLAG_LEVEL = 0.08
#: Share of the library's points (at least 3) over which a track of peaks must recur to count.
TRACK_SHARE = 0.01
#: Share of a track's points inside an unknown phase's points at which the track is that phase's
#: (a weak peak shows only where the phase is strong: a subset of its points).
SAME_PHASE_OVERLAP = 0.8
#: Structures listed per unknown-phase candidate.
MATCHES = 5


def residual_peaks(
    q: np.ndarray,
    pattern: np.ndarray,
    model: np.ndarray,
    noise_sd: np.ndarray,
    sigma: tuple[float, float],
    model_peaks: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unexplained peaks of every point.

    Parameters
    ----------
    q : ndarray (L,)
    pattern : ndarray (N, L)
        Patterns less their fitted background.
    model : ndarray (N, L)
        The fitted phases.
    noise_sd : ndarray (N,)
        White-noise sd of each pattern (same units).
    sigma : (float, float)
        Peak sigma at both ends of the Q grid (nm⁻¹).
    model_peaks : list of ndarray, optional
        Per point, (M, 2): the stick positions (Q) of the phases it holds and their fitted
        shifts (:func:`held_peaks`).

    Returns
    -------
    flag : ndarray (N,) bool
    score : ndarray (N,)
    peaks : ndarray (M, 3): point, Q, height relative to the point's strongest peak.
    """
    n = pattern.shape[0]
    dq = float(np.median(np.diff(q))) if q.size > 1 else 1.0
    s = max(0.5 * (sigma[0] + sigma[1]) / dq, 0.5)  # smoothing sigma in grid points
    r = gaussian_filter1d(pattern - model, s, axis=1)
    m = gaussian_filter1d(model, s, axis=1)
    # White noise of sd v smoothed by a unit-sum Gaussian of sigma s keeps sd v / sqrt(2 sqrt(pi) s);
    # a Gaussian peak of the same width keeps 1 / sqrt(2) of its height.
    noise = noise_sd / np.sqrt(2 * np.sqrt(np.pi) * s)
    top = np.maximum(pattern.max(1), 1e-30)
    edge = int(np.ceil(3 * s))
    inner = np.zeros(q.size, dtype=bool)
    inner[edge : q.size - edge] = True
    is_max = np.zeros_like(r, dtype=bool)
    is_max[:, 1:-1] = (r[:, 1:-1] > r[:, :-2]) & (r[:, 1:-1] >= r[:, 2:])
    height = r * np.sqrt(2) / top[:, None]
    ok = (
        is_max & inner[None, :] & (r > UNEXPLAINED_Z * noise[:, None]) & (height >= PEAK_LEVEL) & (r > MISFIT_SHARE * m)
    )
    pts, idx = np.nonzero(ok)
    if model_peaks is not None and pts.size:
        near = np.zeros(pts.size, dtype=bool)
        tol = ON_MODEL_PEAK * np.interp(q[idx], [q[0], q[-1]], sigma)
        for i in np.unique(pts):
            rows = np.flatnonzero(pts == i)
            held = np.asarray(model_peaks[i], dtype=float).reshape(-1, 2)
            if held.size:
                room = tol[rows, None] + SHIFT_SLACK * held[None, :, 0]
                near[rows] = (np.abs(q[idx[rows], None] - (held[:, 0] * held[:, 1])[None, :]) <= room).any(1)
        pts, idx = pts[~near], idx[~near]
    peaks = np.column_stack([pts, q[idx], height[pts, idx]]) if pts.size else np.zeros((0, 3))
    score = np.zeros(n)
    np.maximum.at(score, pts, height[pts, idx])
    return score >= FLAG_LEVEL, score, peaks


def held_peaks(sticks_q: np.ndarray, sticks_i: np.ndarray, phase: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(M, 2): the peaks of the phases a point holds: each phase's sticks (padded (P, K) arrays,
    those at or above ``STICK_LEVEL`` of its strongest) and the phase's fitted shift."""
    out = [np.zeros((0, 2))]
    for p, s in zip(np.asarray(phase, dtype=int), np.asarray(shift, dtype=float)):
        inten = sticks_i[p]
        keep = (inten >= STICK_LEVEL * max(float(inten.max(initial=0.0)), 1e-30)) & (inten > 0)
        out.append(np.column_stack([sticks_q[p][keep], np.full(int(keep.sum()), s if np.isfinite(s) else 1.0)]))
    return np.concatenate(out)


def unknown_candidates(
    peaks: np.ndarray, edges: np.ndarray, n: int, q: np.ndarray, sigma: tuple[float, float]
) -> list[dict[str, Any]]:
    """Recurring unexplained peaks grouped into unknown-phase candidates (see the module).

    Returns
    -------
    list of dict
        ``peaks`` (median Q of each track), ``heights`` (median relative heights), ``points``
        (sorted point indices); largest first.
    """
    m = peaks.shape[0]
    if m == 0:
        return []
    pt = peaks[:, 0].astype(np.int64)
    tol = 2.0 * np.interp(peaks[:, 1], [q[0], q[-1]], sigma)
    parent = np.arange(m)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    by_point: dict[int, np.ndarray] = {}
    for i in np.unique(pt):
        by_point[int(i)] = np.flatnonzero(pt == i)
    for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        ia, ib = by_point.get(int(a)), by_point.get(int(b))
        if ia is None or ib is None:
            continue
        d = np.abs(peaks[ia, 1][:, None] - peaks[ib, 1][None, :])
        for u, v in zip(*np.nonzero(d <= np.minimum(tol[ia][:, None], tol[ib][None, :]))):
            ra, rb = find(int(ia[u])), find(int(ib[v]))
            if ra != rb:
                parent[ra] = rb
    roots = np.array([find(a) for a in range(m)])
    least = max(3, int(np.ceil(TRACK_SHARE * n)))
    tracks = []
    for root in np.unique(roots):
        rows = np.flatnonzero(roots == root)
        pts = set(pt[rows].tolist())
        if len(pts) >= least:
            tracks.append((pts, float(np.median(peaks[rows, 1])), float(np.median(peaks[rows, 2]))))
    tracks.sort(key=lambda t: -len(t[0]))
    groups: list[dict[str, Any]] = []
    for pts, qq, h in tracks:
        for g in groups:
            if len(pts & g["_pts"]) >= SAME_PHASE_OVERLAP * len(pts):
                g["_pts"] |= pts
                g["peaks"].append(qq)
                g["heights"].append(h)
                break
        else:
            groups.append({"_pts": set(pts), "peaks": [qq], "heights": [h]})
    out = []
    for g in groups:
        order = np.argsort(g["peaks"])
        out.append(
            {
                "peaks": [round(g["peaks"][k], 4) for k in order],
                "heights": [round(g["heights"][k], 4) for k in order],
                "points": sorted(int(v) for v in g["_pts"]),
            }
        )
    return out


def unexplained_signal(
    q: np.ndarray,
    pattern: np.ndarray,
    model: np.ndarray,
    noise_sd: np.ndarray,
    sigma: tuple[float, float],
    edges: np.ndarray,
    model_peaks: list[np.ndarray] | None = None,
) -> Unexplained:
    """Per-point unexplained peaks, score and flag, and the library's unknown-phase candidates
    (arguments as :func:`residual_peaks`'s; ``edges`` the composition graph)."""
    flag, score, peaks = residual_peaks(q, pattern, model, noise_sd, sigma, model_peaks)
    return Unexplained(flag, score, peaks, unknown_candidates(peaks, edges, pattern.shape[0], q, sigma))


def rank_structures(
    unexplained: Unexplained,
    q: np.ndarray,
    residual: np.ndarray,
    structures: PhaseLibrary,
    sigma: tuple[float, float],
    max_shift: float,
    step: float = 0.002,
) -> Unexplained:
    """Rank ``structures`` for each unknown-phase candidate (adds ``matches`` to each).

    A candidate's signal is the positive part of the mean residual over its points; each
    structure is rendered at every shift in ``1 ± max_shift`` (Gaussian peaks of ``sigma``)
    and scored by its best cosine similarity with that signal.
    """
    from ..core import render_peaks

    if not unexplained.candidates or len(structures) == 0:
        return unexplained
    shifts = 1.0 + step * np.arange(-int(max_shift / step), int(max_shift / step) + 1)
    profiles = []
    for ph in structures:
        centres = np.asarray(ph.q, dtype=float)[None, :] * shifts[:, None]
        heights = np.broadcast_to(np.asarray(ph.intensity, dtype=float), centres.shape)
        y = render_peaks(q, centres, heights, sigma)
        profiles.append(y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-30))
    for cand in unexplained.candidates:
        signal = np.clip(residual[cand["points"]].mean(0), 0.0, None)
        nrm = np.linalg.norm(signal)
        if nrm <= 0:
            cand["matches"] = []
            continue
        scores = np.array([float((p @ (signal / nrm)).max()) for p in profiles])
        order = np.argsort(-scores)[:MATCHES]
        cand["matches"] = [{"label": structures.labels[k], "score": round(float(scores[k]), 4)} for k in order]
    return unexplained


def rank_unknown_phases(solution: Solution, library: Library, structures: PhaseLibrary) -> Unexplained | None:
    """Rank ``structures`` (more candidates, e.g. a larger CIF folder) for each unknown-phase
    candidate of a solved library (:func:`rank_structures` on its residual); the solution's
    :attr:`~drnets.core.Solution.unexplained`, with ``matches``, or None where it has none."""
    if solution.unexplained is None or solution.reconstruction is None:
        return solution.unexplained
    scale = np.maximum(library.patterns.max(1), 1e-30)[:, None]
    residual = (library.patterns - solution.reconstruction) / scale
    meta = solution.metadata or {}
    sigma = tuple(float(v) for v in meta.get("sigma", np.asarray(solution.widths)[0]))
    max_shift = float(meta.get("parameters", {}).get("max_shift", MAX_SHIFT))
    return rank_structures(solution.unexplained, library.q, residual, structures, (sigma[0], sigma[-1]), max_shift)
