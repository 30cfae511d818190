"""The simple alternative a user would try first: per-point non-negative least squares.

For every point, every allowed phase at every shift of a grid is one column of a
dictionary of max-normalised profiles (the solver's own :func:`build_dictionary`). One
non-negative least-squares fit per point over all those columns; each phase keeps its
largest coefficient (and that column's shift); the largest phases within the point's
Gibbs limit are kept; fractions are their amplitude shares. No neighbours, no
connectivity, no alloying rule, no refinement: this is the yardstick the solver must beat.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from scipy.optimize import nnls

from drnets.core import Library, PhaseLibrary, Solution
from drnets.evaluate import audit_solution
from drnets.solve._decoder import build_dictionary, padded_sticks
from drnets.structure import allowed_mask, composition_graph, gibbs_limits

__all__ = ["nnls_baseline"]


def _sigma(q: np.ndarray, patterns: np.ndarray, sigma: float | None) -> float:
    if sigma is not None:
        return float(sigma)
    try:  # the solver's estimator, when it is there
        from drnets.solve import estimate_sigma

        return float(estimate_sigma(q, patterns))
    except Exception:  # pragma: no cover - the solver is being rewritten
        return 0.25


def nnls_baseline(
    library: Library,
    phases: PhaseLibrary,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    *,
    max_shift: float = 0.08,
    shift_step: float = 0.002,
    sigma: float | None = 0.25,
    maxiter: int | None = None,
    combine: str = "profile",
) -> Solution:
    """Per-point NNLS over every allowed phase at every grid shift.

    Parameters
    ----------
    library, phases
        The library and its candidate phases.
    mask : ndarray (N, P) of bool, optional
        Allowed phases per point; default: the element rule.
    max_phases : ndarray (N,), optional
        Gibbs limit per point; default: elements present.
    max_shift, shift_step : float
        The shift grid ``1 - max_shift ... 1 + max_shift`` (multiplicative Q scale).
    sigma : float or None
        Gaussian peak sigma in nm⁻¹ (the same for every phase); None: estimated from the
        patterns with the solver's estimator.
    maxiter : int, optional
        Passed to :func:`scipy.optimize.nnls` (default: its own, 3 x columns).
    combine : {"profile", "column"}
        How a phase's contribution is read from its coefficients over the shift grid
        (NNLS spreads a phase over neighbouring shifts): ``"profile"`` sums its columns
        and takes the peak height of that summed profile (shift: the coefficient-weighted
        mean); ``"column"`` keeps only its single largest column.

    Returns
    -------
    Solution
        Fractions are shares of the kept phases' peak heights (max-normalised profiles);
        ``metadata`` holds ``method="nnls_baseline"``, ``wall_time_s`` and the settings.
    """
    t0 = time.perf_counter()
    q = library.q
    n, p_n = library.n_points, len(phases)
    allowed = allowed_mask(library, phases, override=mask)
    limits = np.asarray(max_phases if max_phases is not None else gibbs_limits(library.compositions), dtype=int)
    limits = np.broadcast_to(limits, (n,))
    sig = _sigma(q, library.patterns, sigma)
    widths = np.full((p_n, 2), sig)
    shifts = np.arange(1 - max_shift, 1 + max_shift + shift_step / 2, shift_step)
    s_n = shifts.size
    sq, si = padded_sticks(phases, q[0], q[-1], max_shift)
    dic = build_dictionary(q, sq, si, shifts, widths, device="cpu", dtype=torch.float64).numpy()  # (P, S, L)

    scale = np.maximum(library.patterns.max(axis=1), 1e-30)
    xn = library.patterns / scale[:, None]
    amp = np.zeros((n, p_n))
    best_shift = np.full((n, p_n), np.nan)
    recon = np.zeros_like(xn)
    kw: dict[str, Any] = {} if maxiter is None else {"maxiter": int(maxiter)}
    failures = 0
    for i in range(n):
        cand = np.flatnonzero(allowed[i])
        if cand.size == 0:
            continue
        a_mat = dic[cand].reshape(cand.size * s_n, -1).T  # (L, Pa*S)
        try:
            coef, _ = nnls(a_mat, xn[i], **kw)
        except RuntimeError:  # iteration limit: keep nothing at this point
            failures += 1
            continue
        coef = coef.reshape(cand.size, s_n)
        used = np.flatnonzero(coef.sum(axis=1) > 0)
        if combine == "column":
            k_best = coef[used].argmax(axis=1)
            top = coef[used, k_best]
            prof = dic[cand[used], k_best]  # (U, L)
            sh = shifts[k_best]
        else:
            prof = np.einsum("us,usl->ul", coef[used], dic[cand[used]])  # summed contribution
            top = prof.max(axis=1)
            prof = prof / np.maximum(top[:, None], 1e-30)
            sh = coef[used] @ shifts / coef[used].sum(axis=1)
        order = np.argsort(-top, kind="stable")[: max(int(limits[i]), 1)]
        order = order[top[order] > 0]
        for j in order:
            p = cand[used[j]]
            amp[i, p] = top[j]
            best_shift[i, p] = sh[j]
            recon[i] += top[j] * prof[j]
    total = amp.sum(axis=1, keepdims=True)
    fractions = np.divide(amp, total, out=np.zeros_like(amp), where=total > 0)
    recon *= scale[:, None]
    x = library.patterns
    residuals = np.linalg.norm(x - recon, axis=1) / np.maximum(np.linalg.norm(x, axis=1), 1e-30)
    edges = composition_graph(library.compositions)
    sol = Solution(
        labels=phases.labels,
        fractions=fractions,
        shifts=best_shift,
        amplitudes=amp * scale[:, None],
        widths=widths,
        reconstruction=recon,
        residuals=residuals,
        max_phases=np.asarray(limits, dtype=int),
        mask=allowed,
        edges=edges,
        metadata={
            "method": "nnls_baseline",
            "device": "cpu",
            "max_shift": float(max_shift),
            "shift_step": float(shift_step),
            "sigma": sig,
            "combine": combine,
            "nnls_failures": failures,
        },
    )
    sol.audit = audit_solution(sol, library, phases)
    sol.metadata["wall_time_s"] = time.perf_counter() - t0
    return sol
