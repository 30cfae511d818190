"""Preferred orientation decided per phase across the library: one axis, a smooth March-Dollase r.

Thin films are textured, and a phase drawn with its tabulated intensities leaves a residual
that a look-alike or an extra phase then explains. Letting every point's fit choose a
texture of its own gives each phase free intensities, and then one phase draws another's
peaks (measured: :mod:`~drnets.solve._texture`). Here the texture is a property of the
phase in its region, as it is in a deposited film: after a search round each phase that
the answer holds gets

- one axis for the whole library (of ``VARIANT_AXES``, the one whose best March-Dollase
  parameter explains most of the phase's part of the residual, summed over its points);
- at each point a parameter r from a grid of ``R_LEVELS``: the one that best explains the
  point's pattern less the other phases, then the median over the point and its
  neighbours that hold the phase (a smooth field; points without the phase take the
  nearest holder's value in composition).

A phase keeps its texture only where the summed gain over its points exceeds
``phase_texture_cost`` per-phase costs per point; the final fits
(:meth:`~drnets.solve._problem.Problem.fit_point`) then draw it textured.

A phase given as sticks only (no Miller indices and cell, as ICDD tables are) has no
axis to order its reflections by. It gets instead one intensity factor per reflection,
bounded to [1/``reflection_factors``, ``reflection_factors``], fitted over all its points
at once: still a property of the phase across the library, never bought point by point.

A substrate (``substrate_intensities``) is a single crystal or an oriented film under every
point, not a powder: of its reflections only a few may show, at intensities no powder table
gives. Its intensities are its own, estimated from a low quantile (``SUBSTRATE_QUANTILE``)
over the library of what the answer leaves (the substrate's part put back), and kept where
they explain ``ORIENTED_RATIO`` times what the tabulated ones do and more than them by
``phase_texture_cost`` per-phase costs per reflection changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core import PhaseLibrary
from ._decoder import decoder_sigma, render_windows, window_size
from ._texture import VARIANT_AXES

#: March-Dollase parameters a phase may take at a point: geometric steps from 0.5 to 2 (1 included).
R_LEVELS = tuple(float(v) for v in np.round(np.exp(np.linspace(np.log(0.5), np.log(2.0), 11)), 4))
_ONE = R_LEVELS.index(1.0)
#: Reflection factors (``reflection_factors``) closer to 1 than this are taken as 1: tabulated
#: intensities are not known better, and on data drawn as tabulated the fit's small
#: departures only follow the peak shape's misfit.
FACTOR_TOLERANCE = 0.05
#: Fewest points a phase must hold to take reflection factors: at one or two points they
#: would be a texture bought by those points' patterns, not a property of the phase.
MIN_HOLDERS = 3
#: Largest relative shift of a substrate's estimated pattern: its lattice is not alloyed, only
#: the instrument's offsets (sample height, zero) move its reflections.
SUBSTRATE_SHIFT = 0.01
#: Quantile over the points of what the answer leaves that a substrate's pattern is fitted to:
#: the substrate is under (nearly) every point, a phase of the film is not.
SUBSTRATE_QUANTILE = 0.1
#: A substrate takes intensities of its own only where they explain at least this many times
#: what its tabulated ones do (an oriented film or a crystal, not a powder whose table fits).
ORIENTED_RATIO = 2.0
_CHUNK = 128  # points per block (memory: points x sticks x Q profiles, points x holders distances)
#: Points x reflections x Q values per block of the reflection-factor fit (128 MiB per array).
_BLOCK_VALUES = 2**24


def axis_factors(
    phases: PhaseLibrary, reachable: list[np.ndarray], k: int
) -> list[tuple[tuple[tuple[int, int, int], ...], np.ndarray] | None]:
    """Per phase, its distinct texture axes and the March-Dollase factors (A, V, k) of its padded
    sticks along each at every level of ``R_LEVELS``, or None.

    A stick stands for a reflection family; its factor is the mean over the family's
    members (:func:`~drnets.core.family_texture`), so axes that a phase's symmetry makes
    equivalent give equal factors and are kept once. Axes along which no reflection
    changes by more than 5 % at the extreme levels are left out; phases without Miller
    indices and a cell get None.
    """
    from ..core._texture import family_cosines, family_factors

    out: list[tuple[tuple[tuple[int, int, int], ...], np.ndarray] | None] = []
    for ph, keep in zip(phases, reachable):
        if ph.hkl is None or ph.cell is None or keep.sum() < 2:
            out.append(None)
            continue
        axes, tables = [], []
        for axis in VARIANT_AXES:
            cos = family_cosines(ph.hkl[keep], ph.cell, axis)
            table = np.ones((len(R_LEVELS), k))  # padding sticks have no intensity
            table[:, : cos.shape[0]] = family_factors(cos, np.asarray(R_LEVELS))
            shape = table / table.max(1, keepdims=True)
            if np.ptp(shape[[0, -1]], axis=1).max() < 0.05 or any(
                np.abs(shape - t / t.max(1, keepdims=True)).max() < 1e-3 for t in tables
            ):
                continue
            axes.append(axis)
            tables.append(table)
        out.append((tuple(axes), np.array(tables)) if tables else None)
    return out


@dataclass(frozen=True)
class PhaseTexture:
    """The texture of each textured phase: its axis and a level of ``R_LEVELS`` at every point.

    Attributes
    ----------
    axis : dict of int to int
        Phase index -> index of its axis among its :func:`axis_factors` axes.
    factors : dict of int to ndarray (V, K)
        Phase index -> intensity factor of every padded stick at every level.
    level : ndarray (N, P) of int
        Level index per point and phase (-1: drawn untextured).
    """

    axis: dict[int, int]
    factors: dict[int, np.ndarray]
    level: np.ndarray

    def variants(self, sq: np.ndarray, si: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """The textured copies the levels use, as dictionary rows after the P phases.

        Parameters
        ----------
        sq, si : ndarray (P, K)
            The phases' padded sticks.

        Returns
        -------
        drawn : ndarray (N, P) of int
            The dictionary row that draws each phase at each point (its own row, or a copy's).
        sq_extra, si_extra : ndarray (C, K)
            The copies' sticks.
        keys : list of (phase, axis, level)
            What each copy is (equal keys, equal sticks).
        """
        n, p_n = self.level.shape
        drawn = np.broadcast_to(np.arange(p_n), (n, p_n)).copy()
        rows, cols = np.nonzero((self.level >= 0) & (self.level != _ONE))
        pairs, inv = np.unique(np.stack([cols, self.level[rows, cols]], 1), axis=0, return_inverse=True)
        drawn[rows, cols] = p_n + inv.ravel()
        sq_extra = sq[pairs[:, 0]] if pairs.size else sq[:0]
        si_extra = np.array([si[p] * self.factors[int(p)][int(v)] for p, v in pairs]).reshape(-1, si.shape[1])
        keys = [(int(p), self.axis[int(p)], int(v)) for p, v in pairs]
        return drawn, sq_extra, si_extra, keys


def _stick_profiles(atoms, p: int, s_idx: np.ndarray, w_idx: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Each padded stick of phase p alone, at unit height, at each point's grid shift and width: (n, K, L)."""
    n, k = s_idx.size, atoms.sq.shape[1]
    cen = (atoms.sq[p][None, :] * atoms.shifts[s_idx][:, None]).reshape(n * k, 1)
    sig = decoder_sigma(cen, (atoms.sigma_lo, atoms.sigma_hi), atoms.q, 1.0) * np.repeat(
        np.asarray(atoms.widths)[w_idx], k
    ).reshape(-1, 1)
    win = window_size(atoms.q, max(atoms.sigma_lo, atoms.sigma_hi) * max(atoms.widths), eta=atoms.eta)
    y = render_windows(
        atoms.qt,
        torch.as_tensor(cen, dtype=atoms.dtype, device=atoms.device),
        torch.ones((n * k, 1), dtype=atoms.dtype, device=atoms.device),
        torch.as_tensor(sig, dtype=atoms.dtype, device=atoms.device),
        win,
        atoms.eta,
    )
    return y.cpu().numpy().reshape(n, k, -1)


def _own_parts(atoms, p: int, s_idx, w_idx, now, coef, block: int, sticks=None):  # noqa: ANN001, ANN201
    """Phase p's own part at each of its holders as the current fit draws it, ``block``
    points at a time: what the estimates below put back into what the other phases leave.

    Yields ``(sl, g, scale, own)``: the holders' slice, the unit stick profiles ``g`` (c, k, L)
    of ``sticks`` (default: every padded stick), the sticks summed at the current texture
    ``now`` (n, K) as ``own`` (c, L), and ``scale`` (c,): the fit's part is ``scale * own``,
    its maximum the height ``coef``.
    """
    sticks = np.arange(atoms.sq.shape[1]) if sticks is None else sticks
    si = atoms.si[p][sticks]
    for a in range(0, s_idx.size, block):
        sl = slice(a, a + block)
        g = _stick_profiles(atoms, p, s_idx[sl], w_idx[sl])[:, sticks].astype(float)
        own = np.einsum("ck,ckl->cl", si * now[sl][:, sticks], g)
        yield sl, g, coef[sl] / np.maximum(own.max(1), 1e-30), own


def _level_fits(atoms, p: int, s_idx, w_idx, now, coef, rest, fac) -> np.ndarray:  # noqa: ANN001
    """How much of each point's signal phase p explains at every axis and level: (n, A, V).

    The target is what the other phases leave with the phase's own part (at its current
    texture ``now`` (n, K) and height ``coef``) put back; the measure is the squared
    projection of the target on the textured profile (one free scale, none negative).
    """
    a_n, v_n, k = fac.shape
    out = np.empty((s_idx.size, a_n, v_n))
    heights = atoms.si[p] * fac.reshape(a_n * v_n, k)  # (A*V, K)
    for sl, g, scale, own in _own_parts(atoms, p, s_idx, w_idx, now, coef, _CHUNK):
        target = rest[sl] + scale[:, None] * own
        y = np.einsum("vk,ckl->cvl", heights, g)
        dot = np.einsum("cl,cvl->cv", target, y)
        fit = np.where(dot > 0, dot * dot / np.maximum((y * y).sum(-1), 1e-30), 0.0)
        out[sl] = fit.reshape(-1, a_n, v_n)
    return out


def _reflection_factor_fit(atoms, p: int, s_idx, w_idx, now, coef, rest, bound: float):  # noqa: ANN001
    """Library-wide intensity factors of phase p's reflections, in [1/bound, bound]: (K,), and
    the squared residual they take off against the tabulated intensities, over the holders.

    The model at a holder is its height times the phase's sticks at the factors, over the
    maximum of its current profile; the target is what the other phases leave with the
    phase's own part put back (as in :func:`_level_fits`). The least squares is gathered as
    normal equations a block of points at a time (memory: a block x sticks x Q).
    """
    from scipy.optimize import lsq_linear

    f = np.ones(atoms.sq.shape[1])
    own_sticks = np.flatnonzero(atoms.si[p] > 0)  # the padding of longer phases stays out
    si = atoms.si[p][own_sticks]
    k = own_sticks.size
    hess, lin, tt = np.zeros((k, k)), np.zeros(k), 0.0
    block = int(np.clip(_BLOCK_VALUES // max(k * atoms.q.size, 1), 1, _CHUNK))  # long patterns: fewer points
    for sl, g, scale, own in _own_parts(atoms, p, s_idx, w_idx, now, coef, block, own_sticks):
        target = rest[sl] + scale[:, None] * own
        design = ((scale[:, None, None] * si[None, :, None]) * g).transpose(1, 0, 2).reshape(k, -1)
        hess += design @ design.T  # (k, k) by BLAS: an einsum here took seconds per phase
        lin += design @ target.ravel()
        tt += float((target * target).sum())
    act = np.diag(hess) > 1e-12 * max(float(np.diag(hess).max(initial=0.0)), 1e-300)
    if act.sum() == 0:
        return f, 0.0
    h, b = hess[np.ix_(act, act)], lin[act]
    chol = np.linalg.cholesky(h + 1e-9 * np.trace(h) / h.shape[0] * np.eye(h.shape[0]))
    fit = np.ones(k)
    fit[act] = lsq_linear(chol.T, np.linalg.solve(chol, b), bounds=(1.0 / bound, bound)).x
    fit[np.abs(fit - 1.0) < FACTOR_TOLERANCE] = 1.0  # within what a tabulated intensity tells
    f[own_sticks] = fit

    def rss(v: np.ndarray) -> float:
        return tt - 2.0 * float(lin @ v) + float(v @ hess @ v)

    return f, rss(np.ones(k)) - rss(fit)


def settle_phase_texture(pb, state):  # noqa: ANN001, ANN201 (Problem, State: import cycle)
    """Estimate the texture and refit the answer with it.

    Returns the problem with the estimate and the refitted state (the state as it was
    when no phase gains from texture).
    """
    from ._state import refit

    pb = pb.with_texture(estimate_phase_texture(pb, state))
    if pb.phase_texture is not None:
        state = state.copy()
        refit(pb, state, np.flatnonzero(state.present.any(1)))
    return pb, state


def estimate_phase_texture(pb, state) -> PhaseTexture | None:  # noqa: ANN001 (Problem, State: import cycle)
    """Each phase's texture from the current answer (see the module doc); None if no phase gains."""
    tables = pb.axis_factors
    bound = pb.params.reflection_factors
    substrates = set()
    if pb.params.substrate_intensities:
        substrates = {int(p) for p in np.flatnonzero(pb.substrate & (pb.allowed.sum(0) >= MIN_HOLDERS))}
    if tables is None and bound <= 1.0 and not substrates:
        return None
    atoms = pb.atoms
    old = pb.phase_texture
    level = np.full((pb.n, pb.p_n), -1, dtype=np.int64)
    axis: dict[int, int] = {}
    factors: dict[int, np.ndarray] = {}
    report = {}
    rest = pb.xraw - state.rec - state.bg
    log_r = np.log(np.asarray(R_LEVELS))
    held = {int(p) for p in np.unique(state.phase[state.present & (state.coef > 0)])}
    for p in sorted(held | substrates):
        rows, slots = np.nonzero(state.present & (state.phase == p) & (state.coef > 0))
        s_idx, w_idx = state.shift[rows, slots], state.width[rows, slots]
        # The phase's own part as the current fit draws it, put back into what the others leave.
        now = np.ones((rows.size, atoms.sq.shape[1]))
        if old is not None and p in old.axis:
            lv = old.level[rows, p]
            on = (lv >= 0) & (lv != _ONE)
            now[on] = old.factors[p][lv[on]]
        coef = state.coef[rows, slots]
        # a substrate's own intensities first; else (no March-Dollase table) bounded factors
        free = _substrate_intensities(pb, p, rows, s_idx, w_idx, now, coef, rest) if p in substrates else None
        no_table = tables is None or tables[p] is None
        if free is None and no_table and bound > 1.0 and rows.size >= MIN_HOLDERS:
            free = _free_reflections(pb, p, rows, s_idx, w_idx, now, coef, rest[rows], bound)
        if free is not None:
            # axis -1, every level's row the factors (so the tables stack), level 0 everywhere
            axis[p], factors[p], report[p] = -1, np.repeat(free[0][None, :], len(R_LEVELS), 0), free[1]
            level[:, p] = 0
            continue
        if no_table or rows.size == 0:  # nothing more to estimate (a substrate the answer does not hold)
            continue
        axes, fac = tables[p]
        a_n, v_n = fac.shape[:2]  # fac: (A, V, K)
        fit = _level_fits(atoms, p, s_idx, w_idx, now, coef, rest[rows], fac)
        gain = fit - fit[:, :, _ONE : _ONE + 1]  # (n, A, V), >= 0 at the best level
        best_a = int(np.argmax(gain.max(-1).sum(0)))
        pick = np.argmax(gain[:, best_a], -1)  # (n,)
        # A smooth field: the median of log r over each holder and its neighbours that hold the phase.
        where = {int(i): m for m, i in enumerate(rows)}
        smooth = np.empty(rows.size, dtype=np.int64)
        for m, i in enumerate(rows):
            near = [m] + [where[int(j)] for j in pb.nbrs[int(i)] if int(j) in where]
            smooth[m] = int(np.argmin(np.abs(log_r - np.median(log_r[pick[near]]))))
        total = float(gain[np.arange(rows.size), best_a, smooth].sum())
        cost = pb.params.phase_texture_cost * float(pb.pen[rows].sum())
        if total <= cost or np.all(smooth == _ONE):
            continue
        axis[p], factors[p] = best_a, fac[best_a]
        # Points without the phase take the level of the nearest holder (in composition),
        # a block of points at a time (the distances are points x holders).
        held = pb.comp[rows]
        for a in range(0, pb.n, _CHUNK):
            d = ((pb.comp[a : a + _CHUNK, None, :] - held[None, :, :]) ** 2).sum(-1)
            level[a : a + _CHUNK, p] = smooth[np.argmin(d, axis=1)]
        level[rows, p] = smooth
        report[p] = {
            "axis": list(axes[best_a]),
            "r_median": float(np.exp(np.median(log_r[smooth]))),
            "gain_over_cost": round(total / max(cost, 1e-30), 2),
            "consistency": round(total / max(float(gain[np.arange(rows.size), best_a, pick].sum()), 1e-30), 3),
            "points": int(rows.size),
        }
    pb.history.append({"stage": "phase texture", "phases": {str(k): v for k, v in report.items()}})
    if not axis:
        return None
    return PhaseTexture(axis=axis, factors=factors, level=level)


def _free_reflections(pb, p, rows, s_idx, w_idx, now, coef, rest, bound) -> tuple[np.ndarray, dict] | None:  # noqa: ANN001
    """A phase the March-Dollase texture cannot draw (no Miller indices and cell, or
    ``phase_texture`` off): its reflections' intensity factors across the whole library
    (:func:`_reflection_factor_fit`) and their report, or None where they do not take off
    more than ``phase_texture_cost`` per-phase costs per reflection changed."""
    atoms = pb.atoms
    f, gain = _reflection_factor_fit(atoms, p, s_idx, w_idx, now, coef, rest, bound)
    moved = np.flatnonzero(f != 1.0)
    cost = pb.params.phase_texture_cost * moved.size * float(np.median(pb.pen[rows]))
    if moved.size == 0 or gain <= cost:
        return None
    return f, {
        "reflections": int(moved.size),
        "factor_range": [round(float(f.min()), 3), round(float(f.max()), 3)],
        # each changed reflection's tabulated position (nm⁻¹) and factor, for the user's record
        "factors": [[round(float(atoms.sq[p][m]), 4), round(float(f[m]), 3)] for m in moved],
        "gain_over_cost": round(gain / max(cost, 1e-30), 2),
        "points": int(rows.size),
    }


def _substrate_intensities(pb, p, rows, s_idx, w_idx, now, coef, rest) -> tuple[np.ndarray, dict] | None:  # noqa: ANN001
    """A substrate's own reflection intensities, as factors on its tabulated ones (K,), and
    their report; None where they do not explain more than the tabulated intensities by
    ``phase_texture_cost`` per-phase costs per reflection changed.

    The substrate lies under every point where it is allowed, so its pattern is what is
    common to them: the ``SUBSTRATE_QUANTILE`` over those points of what the other phases leave (the
    substrate's own part put back at the points ``rows`` that hold it, drawn at its current
    factors ``now`` and heights ``coef``), fitted by its reflections (non-negative
    heights) at the one grid shift and width that fit it best.
    """
    from scipy.optimize import nnls

    atoms = pb.atoms
    pts = np.flatnonzero(pb.allowed[:, p])
    target = rest[pts].copy()
    own_sticks = np.flatnonzero(atoms.si[p] > 0)
    si = atoms.si[p][own_sticks]
    at = np.searchsorted(pts, rows)  # the holders among pts (a phase is held only where allowed)
    for sl, _, scale, own in _own_parts(atoms, p, s_idx, w_idx, now, coef, _CHUNK, own_sticks):
        target[at[sl]] += scale[:, None] * own
    common = np.quantile(target, SUBSTRATE_QUANTILE, axis=0)
    # every grid width and shift within SUBSTRATE_SHIFT, a block at a time (combos x sticks x Q profiles)
    n_w = atoms.n_widths
    near = np.flatnonzero(np.abs(np.asarray(atoms.shifts) - 1.0) <= SUBSTRATE_SHIFT)
    if near.size == 0:
        near = np.array([int(np.argmin(np.abs(np.asarray(atoms.shifts) - 1.0)))])
    combos = (near[:, None] * n_w + np.arange(n_w)[None, :]).ravel()
    block = int(np.clip(_BLOCK_VALUES // max(own_sticks.size * atoms.q.size, 1), 1, _CHUNK))
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for a in range(0, combos.size, block):
        cb = combos[a : a + block]
        g = _stick_profiles(atoms, p, cb // n_w, cb % n_w)[:, own_sticks].astype(float)
        for m in range(cb.size):
            h, r = nnls(g[m].T, common)
            if best is None or r < best[0]:
                best = (r, h, g[m])
    assert best is not None
    _, heights, g = best
    if heights.max(initial=0.0) <= 0:
        return None
    fit = heights / heights.max() / si  # factors on the tabulated intensities
    fit[np.abs(fit - 1.0) < FACTOR_TOLERANCE] = 1.0  # within what a tabulated intensity tells
    f = np.ones(atoms.sq.shape[1])
    f[own_sticks] = fit

    def explained(y: np.ndarray) -> float:  # what one non-negative scale per point explains
        dot = np.clip(target @ y, 0.0, None)
        return float((dot * dot).sum() / max(float(y @ y), 1e-30))

    e_own, e_tab = explained((fit * si) @ g), explained(si @ g)
    gain = e_own - e_tab
    moved = int((fit != 1.0).sum())
    cost = pb.params.phase_texture_cost * moved * float(np.median(pb.pen[pts]))
    if moved == 0 or gain <= cost or e_own < ORIENTED_RATIO * e_tab:
        return None
    return f, {
        "substrate": True,
        "reflections": moved,
        "factor_range": [round(float(fit.min()), 3), round(float(fit.max()), 3)],
        "factors": [[round(float(atoms.sq[p][m]), 4), round(float(f[m]), 3)] for m in own_sticks if f[m] != 1.0],
        "gain_over_cost": round(gain / max(cost, 1e-30), 2),
        "over_tabulated": round(e_own / max(e_tab, 1e-30), 2),
        "points": int(pts.size),
    }
