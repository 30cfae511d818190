"""One measured lab pattern solved on its own: subset search on a grid, then refinement of the best few sets.

:func:`solve_pattern` is the route for a single 2θ pattern measured with a known radiation:

1. **Search.** The decoder's dictionary (:class:`~drnets.solve._atoms.Atoms`) holds every
   candidate with its Kα2 line (sticks doubled at ``Q * λ2 / λ1``) on a grid of lattice
   shifts and peak widths broad enough for nanocrystalline phases; a pool of the phases
   that explain most on their own is searched exhaustively up to ``max_phases``
   (:func:`~drnets.solve._search.best_subsets`) and the best sets get the coordinate
   descent of the library search. The physics below adds no dimension to this search.
2. **Refinement.** The best ``refine_top`` sets are refined continuously with the lab
   forward model (:func:`~drnets.solve._refine.refine_set`: zero offset, displacement,
   per-phase shifts, widths and texture), and the set with the lowest penalised misfit wins.
   Below ``max_phases``, the ``add_top`` phases that explain most of the winner's residual
   (cleaner than what the search saw) are each tried beside it, a local move, not a search.
3. **Support.** A phase stays only where its own reflections pay for it: leaving it out
   must raise the misfit by ``support`` effective residual variances; the weakest
   unsupported phase is dropped and the rest refined again.
4. **Weight fractions** from the refined amplitudes (:mod:`drnets.core._weights`) with
   standard errors propagated from the amplitudes' covariance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ..core import InputError, Library, Phase, PhaseLibrary, Solution
from ..core._radiation import Radiation
from ..core._weights import mass_factors
from ._atoms import Atoms, background_basis
from ._decoder import padded_sticks
from ._prepare import estimate_background, estimate_widths
from ._refine import Refinement, drop_one_rss, evaluate_start, own_support, reevaluate, refine_set
from ._search import best_subsets, coordinate_descent

#: Peak-width multipliers of the lab search grid: nanocrystalline phases are many times broader than the instrument.
LAB_WIDTH_SCALES = (1.0, 1.8, 3.2, 5.6, 10.0)


@dataclass
class PatternFit:
    """The answer for one pattern.

    Attributes
    ----------
    labels : list of str
        Labels of the phases present.
    indices : ndarray (k,)
        Their positions in the phase library.
    fractions : ndarray (k,)
        Peak-height shares (the ``fractions.csv`` convention).
    weight_fractions, weight_fraction_errors : ndarray (k,) or None
        Weight fractions and their standard errors (None when the phases carry no
        structure or RIR; ``weight_note`` says why).
    weight_note : str
        How the weight fractions were computed, or why there are none.
    refinement : Refinement
        The refined model (shifts, widths, texture, zero offset, displacement, profiles).
    q, reconstruction : ndarray (L,)
    candidates : list of (labels, penalised misfit)
        The refined sets and their scores, best first.
    wall_time_s : float
    cpu_seconds : dict of str to float
        Processor time of this process per stage (search, candidates, texture, final): unlike
        the wall time, it does not grow when other processes share the cores.
    """

    labels: list[str]
    indices: np.ndarray
    fractions: np.ndarray
    weight_fractions: np.ndarray | None
    weight_fraction_errors: np.ndarray | None
    weight_note: str
    refinement: Refinement
    q: np.ndarray
    reconstruction: np.ndarray
    candidates: list[tuple[list[str], float]] = field(default_factory=list)
    wall_time_s: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def with_lines(phases: PhaseLibrary, radiation: Radiation) -> PhaseLibrary:
    """The library with every stick repeated for each wavelength line (Kα2 at ``Q * λ2/λ1``, ratio ``ratio``)."""
    if len(radiation.q_lines) == 1:
        return phases
    out = []
    for p in phases:
        qs = np.concatenate([p.q * f for f, _ in radiation.q_lines])
        ints = np.concatenate([p.intensity * r for _, r in radiation.q_lines])
        hkl = None if p.hkl is None else np.concatenate([p.hkl] * len(radiation.q_lines))
        out.append(replace(p, q=qs, intensity=ints, hkl=hkl))
    return PhaseLibrary(out, phases.elements, phases.source, phases.substrates)


def _explained(atoms: Atoms, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Energy each phase explains of ``x`` on its own at its best grid shift and width, and that combination."""
    energy = np.zeros(atoms.n_phases)
    combo = np.zeros(atoms.n_phases, dtype=np.int64)
    for p in range(atoms.n_phases):
        g = atoms.phase(p).reshape(atoms.n_combos, -1) @ x
        e = torch.where(g > 0, g * g / atoms.norm2(p), torch.zeros_like(g))
        combo[p] = int(e.argmax())
        energy[p] = float(e.max())
    return energy, combo


#: Most points of the search grid and most grid shifts: the search is coarse, the refinement exact.
SEARCH_POINTS, SEARCH_SHIFTS = 3000, 15


def _search_grid(q: np.ndarray, sigma: float) -> int:
    """Decimation step of the search grid: about two grid points per sigma, at most :data:`SEARCH_POINTS`."""
    dq = float(np.median(np.diff(q)))
    return max(1, int(sigma / dq / 2.0), int(np.ceil(q.size / SEARCH_POINTS)))


def weight_fraction_errors(
    amplitudes: np.ndarray, cov: np.ndarray, areas: np.ndarray, factors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weight fractions (k,) and their standard errors from the amplitudes' covariance (delta method)."""
    u = np.asarray(amplitudes, float) * np.asarray(areas, float) * np.asarray(factors, float)
    tot = float(u.sum())
    if tot <= 0:
        return np.zeros_like(u), np.zeros_like(u)
    w = u / tot
    c = np.asarray(areas, float) * np.asarray(factors, float)
    # dW_i/da_j = (δ_ij c_i - w_i c_j) / tot
    jac = (np.diag(c) - w[:, None] * c[None, :]) / tot
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    return w, np.sqrt(np.clip(var, 0, None))


def solve_pattern(
    q: np.ndarray,
    y: np.ndarray,
    phases: PhaseLibrary,
    radiation: Radiation,
    *,
    max_phases: int = 3,
    max_shift: float = 0.015,
    pool_size: int = 12,
    extra_pool: int = 4,
    refine_top: int = 4,
    add_top: int = 3,
    support: float = 25.0,
    texture: bool = True,
    instrument: bool = True,
    sigma: tuple[float, float] | None = None,
    phase_widths: bool = True,
) -> PatternFit:
    """Solve one measured pattern (see the module doc).

    Parameters
    ----------
    q, y : ndarray (L,)
        Q grid (nm⁻¹, converted from 2θ with the radiation's first wavelength) and intensities.
    phases : PhaseLibrary
        Candidates with sticks at the radiation's wavelength (e.g. from CIFs).
    radiation : Radiation
    max_phases : int
        Largest number of phases in the answer.
    max_shift : float
        Largest relative lattice shift (searched on a grid, then refined).
    pool_size, extra_pool : int
        Phases searched exhaustively: those that explain most on their own, and twice
        ``extra_pool`` more that explain most of what the best set leaves.
    refine_top : int
        Sets refined with the lab model.
    add_top : int
        Phases tried beside the best refined set (those that explain most of its residual).
    support : float
        Misfit rise (in effective residual variances) a phase must cause when left out.
    texture, instrument : bool
        Refine preferred orientation, and the zero offset and sample displacement.
    phase_widths : bool
        Refine a peak-width factor per phase (otherwise one shared by the set's phases).
    sigma : (float, float), optional
        The instrument's Gaussian sigma at the grid ends; default estimated from the pattern.
    """
    t0 = time.perf_counter()
    cpu = {"start": time.process_time()}

    def lap(stage: str) -> None:
        now = time.process_time()
        cpu[stage] = now - cpu.pop("_last", cpu["start"])
        cpu["_last"] = now

    q = np.asarray(q, dtype=float)
    y = np.asarray(y, dtype=float)
    if q.shape != y.shape or q.size < 16:
        raise InputError(f"a pattern needs matching q and y of 16 points or more, got {q.shape} and {y.shape}")
    # the opening must be wider than the broadest phase's peaks (nanocrystalline ones too), or it eats them
    bg_width = 0.05 * float(q[-1] - q[0])
    if sigma is None:
        # a lab background under the peaks would put their half maxima too low: widths from the peaks alone
        # (where too few stand out, the estimate's default; the refinement's width factors and tilt adapt it)
        sig = estimate_widths(q, (y - estimate_background(q, y[None], bg_width)[0])[None])
    else:
        sig = (float(sigma[0]), float(sigma[1]))
    step = _search_grid(q, min(sig))
    qs, ys = q[::step], y[::step]
    x = ys - estimate_background(qs, ys[None], max(12.0 * max(sig), bg_width))[0]
    scale = max(float(x.max()), 1e-30)
    x = x / scale
    sets, atoms = _candidate_sets(
        qs, x, phases, radiation, sig, max_shift, max_phases, pool_size, extra_pool, refine_top
    )
    # candidate sets compared untextured on the search grid; the winner gets texture, then the full grid
    lap("search")
    basis_s = background_basis(qs, 12)
    refined: dict[tuple[int, ...], tuple[tuple[int, ...], Refinement]] = {}
    done: dict[tuple[int, ...], tuple[tuple[int, ...], Refinement]] = {}
    for members, sh, wd in sets:
        got, ref = _refine_supported(
            qs,
            ys,
            phases,
            list(members),
            radiation,
            sig,
            basis_s,
            sh,
            wd,
            max_shift,
            False,
            instrument,
            support,
            done=done,
            iterations=20,
            phase_widths=phase_widths,
        )
        refined.setdefault(tuple(sorted(got)), (got, ref))
    noise = min(r.noise for _, r in refined.values())
    scored = sorted(((r.rss / noise + support * len(m), m) for m, r in refined.values()), key=lambda t: t[0])
    members, ref = refined[tuple(sorted(scored[0][1]))]
    best_score = scored[0][0]
    # what the refined model leaves is cleaner than what the search saw: a weak phase the search
    # missed shows there; each of the few that explain most of it is tried beside the winner
    if len(members) < max_phases:
        left = torch.as_tensor(np.clip((ys - ref.reconstruction) / scale, 0, None), dtype=torch.float32)
        energy, combo = _explained(atoms, left)
        nw = atoms.n_widths
        tried = [int(p) for p in np.argsort(-energy, kind="stable") if int(p) not in members][:add_top]
        for p in tried:
            got, ref2 = _refine_supported(
                qs,
                ys,
                phases,
                [*members, p],
                radiation,
                sig,
                basis_s,
                np.append(ref.shifts, atoms.shifts[combo[p] // nw]),
                np.append(ref.width_factors, LAB_WIDTH_SCALES[combo[p] % nw]),
                max_shift,
                False,
                instrument,
                support,
                done=done,
                iterations=20,
                phase_widths=phase_widths,
            )
            sc = ref2.rss / noise + support * len(got)
            scored.append((sc, got))
            if sc < best_score:
                best_score, members, ref = sc, got, ref2
        scored.sort(key=lambda t: t[0])
    lap("candidates")
    if texture:
        members, ref = _refine_supported(
            qs,
            ys,
            phases,
            list(members),
            radiation,
            sig,
            basis_s,
            ref.shifts,
            ref.width_factors,
            max_shift,
            True,
            instrument,
            support,
            phase_widths=phase_widths,
        )
    lap("texture")
    best = reevaluate(q, y, [phases[int(i)] for i in members], radiation, ref, sigma=sig, basis=background_basis(q, 12))
    lap("final")
    cpu.pop("_last")
    cpu.pop("start")
    idx = np.array(members, dtype=np.int64)
    amps = best.amplitudes
    frac = amps / amps.sum() if amps.sum() > 0 else amps
    chosen = [phases[int(i)] for i in idx]
    factors, note = mass_factors(chosen)
    wf = we = None
    if factors is not None:
        wf, we = weight_fraction_errors(amps, best.amplitude_cov, best.areas, factors)
    return PatternFit(
        labels=[p.label for p in chosen],
        indices=idx,
        fractions=frac,
        weight_fractions=wf,
        weight_fraction_errors=we,
        weight_note=note,
        refinement=best,
        q=q,
        reconstruction=best.reconstruction,
        candidates=[([phases[int(i)].label for i in m], float(sc)) for sc, m in scored],
        wall_time_s=time.perf_counter() - t0,
        cpu_seconds={k: round(v, 3) for k, v in cpu.items()},
    )


def _candidate_sets(
    qs: np.ndarray,
    x: np.ndarray,
    phases: PhaseLibrary,
    radiation: Radiation,
    sig: tuple[float, float],
    max_shift: float,
    max_phases: int,
    pool_size: int,
    extra_pool: int,
    refine_top: int,
) -> tuple[list[tuple[tuple[int, ...], np.ndarray, np.ndarray]], Atoms]:
    """The best ``refine_top`` distinct phase sets of the subset search on the grid ``qs``, with each
    member's grid shift and width factor (step 1 of the module doc), and the dictionary; ``x`` is the
    pattern less its background, scaled to 1."""
    lined = with_lines(phases, radiation)
    sq, si = padded_sticks(lined, qs[0], qs[-1], max_shift)
    # grid shifts about two sigmas apart at mid-range: the refinement makes them continuous
    n_shift = min(SEARCH_SHIFTS, max(3, int(round(max_shift * np.mean(qs) / max(min(sig), 1e-6))) | 1))
    shifts = 1.0 + np.linspace(-max_shift, max_shift, n_shift)
    atoms = Atoms(qs, sq, si, shifts, sig, LAB_WIDTH_SCALES, device="cpu", dtype=torch.float32)
    xt = torch.as_tensor(x, dtype=torch.float32)
    energy, combo = _explained(atoms, xt)
    pool = list(np.argsort(-energy, kind="stable")[: min(pool_size, len(phases))])
    nw = atoms.n_widths
    pen = float(x @ x) * 1e-3
    kmax = torch.tensor([max_phases])
    # a weak or broad phase explains little beside a strong one: add the phases that best
    # explain what the best set leaves, as the library search's later rounds do
    for _ in range(2):
        pl = np.asarray(pool)
        prof = atoms.profiles(pl[None], (combo[pl] // nw)[None], (combo[pl] % nw)[None])
        mem, coef, _ = best_subsets(xt[None], prof, kmax, torch.full((1, pl.size), pen), 1)
        used = mem[0, 0] >= 0
        rec = (coef[0, 0, used].unsqueeze(-1) * prof[0, mem[0, 0, used]]).sum(0)
        e2, c2 = _explained(atoms, (xt - rec).clamp_min(0))
        added = [int(p) for p in np.argsort(-e2, kind="stable") if int(p) not in pool][:extra_pool]
        for p in added:
            combo[p] = c2[p]
        pool += added
    pl = np.asarray(pool)
    prof = atoms.profiles(pl[None], (combo[pl] // nw)[None], (combo[pl] % nw)[None])
    top = max(refine_top * 3, 8)
    mem, _, _ = best_subsets(xt[None], prof, kmax, torch.full((1, pl.size), pen), top)
    pool = pl
    mem = mem[0].numpy()
    present = mem >= 0
    ph_idx = np.where(present, pool[np.where(present, mem, 0)], pool[0])
    s_i, w_i, _, rss = coordinate_descent(
        xt[None].repeat(mem.shape[0], 1),
        ph_idx,
        combo[ph_idx] // nw,
        combo[ph_idx] % nw,
        present,
        atoms,
        sweeps=2,
    )
    score = rss.numpy() + pen * present.sum(1)
    order = np.argsort(score, kind="stable")
    sets: list[tuple[tuple[int, ...], np.ndarray, np.ndarray]] = []
    seen: set[tuple[int, ...]] = set()
    for b in order:
        members = tuple(int(v) for v in ph_idx[b][present[b]])
        key = tuple(sorted(members))
        if key in seen:
            continue
        seen.add(key)
        sets.append((members, shifts[s_i[b][present[b]]], np.asarray(LAB_WIDTH_SCALES)[w_i[b][present[b]]]))
        if len(sets) >= refine_top:
            break
    return sets, atoms


def _refine_supported(
    q: np.ndarray,
    y: np.ndarray,
    phases: PhaseLibrary,
    members: list[int],
    radiation: Radiation,
    sig: tuple[float, float],
    basis: np.ndarray,
    shifts: np.ndarray,
    widths: np.ndarray,
    max_shift: float,
    texture: bool,
    instrument: bool,
    support: float,
    axes: list[tuple[int, int, int] | None] | None = None,
    march: np.ndarray | None = None,
    done: dict[tuple[int, ...], tuple[tuple[int, ...], Refinement]] | None = None,
    iterations: int = 40,
    phase_widths: bool = True,
) -> tuple[tuple[int, ...], Refinement]:
    """Refine a set, then drop its weakest phase while leaving it out costs under ``support`` variances.

    ``done`` remembers the sets already refined (by sorted members): a set reached again,
    from another candidate, is not refined twice.
    """
    members, shifts, widths = list(members), np.asarray(shifts), np.asarray(widths)
    if axes is None and len(members) > 1:
        # a first look at the search's values: phases that buy nothing even there go before refining
        start = evaluate_start(
            q,
            y,
            [phases[int(i)] for i in members],
            radiation,
            sigma=sig,
            basis=basis,
            shifts=shifts,
            width_factors=widths,
        )
        rise = np.minimum(
            (drop_one_rss(y, start, basis) - start.rss) / max(start.noise, 1e-30), own_support(y, start)[0]
        )
        if rise.max() >= support:
            keep = [j for j in range(len(members)) if rise[j] >= support / 5]
            members, shifts, widths = [members[j] for j in keep], shifts[keep], widths[keep]
    while True:
        key = tuple(sorted(members))
        if done is not None and key in done:
            return done[key]
        chosen: list[Phase] = [phases[int(i)] for i in members]
        ref = refine_set(
            q,
            y,
            chosen,
            radiation,
            sigma=sig,
            basis=basis,
            shifts=shifts,
            width_factors=widths,
            max_shift=max_shift,
            texture=texture,
            instrument=instrument,
            support=support,
            axes=axes,
            march=march,
            iterations=iterations,
            phase_widths=phase_widths,
        )
        rise = (drop_one_rss(y, ref, basis) - ref.rss) / max(ref.noise, 1e-30)
        own, _ = own_support(y, ref)
        rise = np.minimum(rise, own)
        weak = int(np.argmin(rise))
        if len(members) == 1 or rise[weak] >= support:
            if done is not None:
                done[key] = (tuple(members), ref)
            return tuple(members), ref
        # the weakest goes; with it every phase that buys under a fifth of the support, as long as
        # a supported phase stays (two interchangeable phases each look useless given the other)
        drop = {weak} | ({int(j) for j in np.flatnonzero(rise < support / 5)} if rise.max() >= support else set())
        keep = [j for j in range(len(members)) if j not in drop]
        members, shifts, widths = [members[j] for j in keep], ref.shifts[keep], ref.width_factors[keep]
        if axes is not None:
            axes = [ref.axes[j] for j in keep]
            march = ref.march[keep]


def fits_to_solution(fits: list[PatternFit], phases: PhaseLibrary, patterns: np.ndarray) -> Solution:
    """Independent patterns' fits as one :class:`~drnets.core.Solution` aligned with ``phases``.

    ``patterns`` (N, L) are the measured intensities on the fits' common grid. Amplitudes,
    shifts and per-point width factors come from the refinements; ``widths`` holds the
    instrument sigma of the first fit; the refined zero offsets, displacements, Lorentzian
    shares and textures go to ``metadata["lab_refinement"]``.
    """
    n, p_n = len(fits), len(phases)
    frac, amp, wf, we = (np.zeros((n, p_n)) for _ in range(4))
    shf = np.full((n, p_n), np.nan)
    wsc = np.ones((n, p_n))
    recon = np.stack([f.reconstruction for f in fits])
    bg = np.stack([f.refinement.background for f in fits])
    notes, per_point = set(), []
    for i, f in enumerate(fits):
        ref = f.refinement
        frac[i, f.indices] = f.fractions
        amp[i, f.indices] = ref.amplitudes
        shf[i, f.indices] = ref.shifts
        wsc[i, f.indices] = ref.width_factors
        if f.weight_fractions is not None:
            wf[i, f.indices] = f.weight_fractions
            we[i, f.indices] = f.weight_fraction_errors
        notes.add(f.weight_note)
        per_point.append(
            {
                "zero_deg": ref.zero,
                "displacement_deg": ref.displacement,
                "eta": ref.eta,
                "texture": {
                    f.labels[j]: {"axis": list(ref.axes[j]), "march": float(ref.march[j])}
                    for j in range(len(f.labels))
                    if ref.axes[j] is not None
                },
                "candidates": f.candidates,
                "cpu_seconds": f.cpu_seconds,
            }
        )
    have = all(f.weight_fractions is not None for f in fits)
    res = np.linalg.norm(patterns - recon, axis=1) / np.maximum(np.linalg.norm(patterns, axis=1), 1e-30)
    sig = fits[0].refinement.sigma if fits else (0.0, 0.0)
    return Solution(
        labels=phases.labels,
        fractions=frac,
        shifts=shf,
        amplitudes=amp,
        widths=np.tile(np.asarray(sig, dtype=float), (p_n, 1)),
        width_scale=wsc,
        reconstruction=recon,
        background=bg,
        residuals=res,
        weight_fractions=wf if have else None,
        weight_fraction_errors=we if have else None,
        metadata={"weight_fractions": "; ".join(sorted(notes)), "lab_refinement": per_point},
    )


def solve_samples(
    library: Library,
    phases: PhaseLibrary,
    *,
    mask: np.ndarray | None = None,
    max_phases: np.ndarray | None = None,
    **options: Any,
) -> Solution:
    """Independent lab samples measured at a known wavelength, each solved by :func:`solve_pattern`.

    Parameters
    ----------
    library : Library
        The patterns on their common Q grid, with ``library.wavelength`` (its Kα1 converted
        2θ to Q; its Kα2, where there is one, is drawn).
    phases : PhaseLibrary
        The candidates (from CIFs at that wavelength for weight fractions).
    mask : ndarray (N, P) of bool, optional
        Allowed phases per sample; default all.
    max_phases : ndarray (N,), optional
        Largest number of phases per sample; default 3.
    **options
        Passed to :func:`solve_pattern`.

    Returns
    -------
    Solution
        As :func:`fits_to_solution` makes it, with the limits and mask used and the wall time.
    """
    if library.wavelength is None:
        raise InputError("lab samples need the wavelength they were measured with", source=library.source)
    t0 = time.perf_counter()
    radiation = Radiation.from_wavelength(library.wavelength)
    n, p_n = library.n_points, len(phases)
    allowed = np.ones((n, p_n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    limits = np.full(n, 3, dtype=int) if max_phases is None else np.asarray(max_phases, dtype=int)
    fits = []
    for i in range(n):
        keep = np.flatnonzero(allowed[i])
        sub = phases if keep.size == p_n else phases.subset(keep)
        fit = solve_pattern(
            library.q, library.patterns[i], sub, radiation, max_phases=int(max(limits[i], 1)), **options
        )
        if keep.size != p_n:
            fit.indices = keep[fit.indices]
        fits.append(fit)
    sol = fits_to_solution(fits, phases, library.patterns)
    sol.max_phases, sol.mask = limits, allowed
    sol.edges = np.zeros((0, 2), dtype=int)  # independent samples: no neighbours for the rules to act across
    sol.metadata = {
        **sol.metadata,
        "route": "lab samples (drnets.solve.solve_samples)",
        "seed": None,  # deterministic: nothing is drawn at random
        "device": "cpu",
        "radiation": radiation.name,
        "wall_time_s": round(time.perf_counter() - t0, 3),
        "library": library.source,
        "phases": phases.source,
    }
    return sol
