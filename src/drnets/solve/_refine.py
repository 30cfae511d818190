"""Local refinement of one chosen phase set against one measured pattern, with the lab physics.

The subset search picks phase sets on a grid of shifts and widths; this refines a chosen
set continuously with the forward model of :mod:`drnets.core._lab_forward`: the pattern's
zero offset and sample displacement (2θ), the peak shape's Lorentzian share, each phase's
lattice shift and peak-width factor, and, where a phase has Miller indices and a cell, a
March-Dollase texture along the best of a few low-index axes. Amplitudes and a smooth
background enter linearly and are solved by non-negative least squares inside every
evaluation (variable projection), so the nonlinear problem has 3 + 2-3 parameters per phase.

The amplitudes' covariance comes from the curvature of the misfit (``s² (XᵀX)⁻¹``), with
the residual variance inflated by the residual's correlation length: a misfit made of
model error is not white noise, and treating it as such would understate the errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares, minimize_scalar, nnls

from ..core import Phase
from ..core._lab_forward import draw_peaks, lab_peaks
from ..core._radiation import Radiation
from ..core._texture import MARCH_BOUNDS, TEXTURE_AXES, family_cosines, family_factors
from ..core._weights import unit_stick_area

#: Bounds of the pattern's zero offset and sample displacement (degrees 2θ).
ZERO_BOUND = 0.2
DISPLACEMENT_BOUND = 0.3
#: Bounds of a phase's peak-width factor relative to the instrument's sigma.
WIDTH_FACTOR_BOUNDS = (0.2, 12.0)
#: Bounds of the instrument sigma's ratio between the high and the low end of the grid (refined:
#: the estimate from the pattern can be far off where broad phases dominate one end).
TILT_BOUNDS = (0.2, 5.0)


@dataclass
class Refinement:
    """A refined phase set on one pattern.

    Attributes
    ----------
    members : list of int
        Indices of the phases (in the list given to :func:`refine_set`).
    amplitudes, amplitude_errors : ndarray (k,)
        Peak heights of the max-normalised profiles and their standard errors.
    amplitude_cov : ndarray (k, k)
        Their covariance.
    shifts, width_factors, march : ndarray (k,)
        Lattice shift (Q scale), peak-width factor and March-Dollase parameter (1: no texture).
    axes : list of tuple or None
        Texture axis per phase (None where untextured).
    zero, displacement, eta : float
        The pattern's zero offset and displacement (degrees 2θ) and the Lorentzian share.
    sigma : (float, float)
        The instrument's Gaussian sigma (nm⁻¹) at the ends of the grid, tilt applied.
    tilt : float
        Ratio of the instrument sigma at the high end of the grid to the low end (their mean
        is the ``sigma`` given).
    areas : ndarray (k,)
        :func:`~drnets.core._weights.unit_stick_area` of each phase (for weight fractions).
    profiles : ndarray (k, L)
        Max-normalised profiles.
    background, reconstruction : ndarray (L,)
    rss : float
        Residual sum of squares.
    noise : float
        Effective residual variance per grid point (inflated for correlation).
    """

    members: list[int]
    amplitudes: np.ndarray
    amplitude_errors: np.ndarray
    amplitude_cov: np.ndarray
    shifts: np.ndarray
    width_factors: np.ndarray
    march: np.ndarray
    axes: list[tuple[int, int, int] | None]
    zero: float
    displacement: float
    eta: float
    tilt: float
    sigma: tuple[float, float]
    areas: np.ndarray
    profiles: np.ndarray
    background: np.ndarray
    reconstruction: np.ndarray
    rss: float
    noise: float
    history: list[str] = field(default_factory=list)


class _Model:
    """The forward model of one set: parameters → profiles; linear parts solved inside."""

    def __init__(
        self,
        q: np.ndarray,
        y: np.ndarray,
        phases: Sequence[Phase],
        radiation: Radiation,
        sigma: tuple[float, float],
        basis: np.ndarray,
    ) -> None:
        self.q, self.y, self.phases, self.rad = q, y, list(phases), radiation
        self.sigma = np.asarray(sigma, dtype=float)
        self.basis = basis
        self.cos: list[np.ndarray | None] = [None] * len(self.phases)
        # a finite-difference step moves one phase's parameters: the others' profiles are reused
        self._cache: dict[tuple[float, ...], tuple[np.ndarray, float]] = {}

    def widths(self, tilt: float) -> tuple[float, float]:
        """The instrument sigma at the grid's ends for a tilt (their mean stays the given sigma's)."""
        mid = float(self.sigma.mean())
        return 2.0 * mid / (1.0 + tilt), 2.0 * mid * tilt / (1.0 + tilt)

    def peaks(self, i: int, shift: float, width: float, march: float, zero: float, disp: float, tilt: float = 1.0):  # noqa: ANN201
        p = self.phases[i]
        widths = self.widths(tilt)
        tex = None
        if march != 1.0 and self.cos[i] is not None:
            tex = family_factors(self.cos[i], march)
        return lab_peaks(
            p.q,
            p.intensity,
            self.q,
            self.rad,
            shift=shift,
            zero=zero,
            displacement=disp,
            widths=widths,
            width_factor=width,
            texture=tex,
        ), tex

    def profiles(self, v: dict[str, np.ndarray | float]) -> tuple[np.ndarray, np.ndarray]:
        """Max-normalised profiles (k, L) and their unit stick areas (k,)."""
        k = len(self.phases)
        out = np.zeros((k, self.q.size))
        areas = np.zeros(k)
        for i in range(k):
            key = (
                i,
                *(float(v[n][i]) for n in ("shift", "width", "march")),  # type: ignore[index]
                *(float(v[n]) for n in ("zero", "disp", "eta", "tilt")),  # type: ignore[arg-type]
            )
            if key not in self._cache:
                if len(self._cache) > 512:
                    self._cache.clear()
                pk, _ = self.peaks(i, *key[1:6], tilt=key[7])
                prof = draw_peaks(self.q, pk, key[6])
                c = float(prof.max()) if prof.size else 0.0
                area = 0.0
                if c > 0:
                    prof = prof / c
                    jac = self.rad.dq_d2theta(pk.centres)
                    area = unit_stick_area(pk.heights, pk.sigmas, pk.heights * pk.sigmas / jac, c, jac)
                self._cache[key] = (prof, area)
            out[i], areas[i] = self._cache[key]
        return out, areas

    def solve_linear(self, prof: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """NNLS of the data on the profiles and the background: (coefficients, design matrix, residual)."""
        design = np.concatenate([prof.T, self.basis], axis=1)
        norms = np.maximum(np.linalg.norm(design, axis=0), 1e-30)
        coef, _ = nnls(design / norms, self.y, maxiter=50 * design.shape[1])
        coef = coef / norms
        return coef, design, self.y - design @ coef


def _correlation_length(resid: np.ndarray) -> float:
    """1 + 2 Σ ρ_k over the positive lags of the residual's autocorrelation (at least 1)."""
    r = resid - resid.mean()
    var = float(r @ r)
    if var <= 0:
        return 1.0
    tau = 1.0
    for lag in range(1, min(200, r.size // 4)):
        rho = float(r[:-lag] @ r[lag:]) / var
        if rho <= 0.05:
            break
        tau += 2.0 * rho
    return tau


def refine_set(
    q: np.ndarray,
    y: np.ndarray,
    phases: Sequence[Phase],
    radiation: Radiation,
    *,
    sigma: tuple[float, float],
    basis: np.ndarray,
    shifts: Sequence[float] | None = None,
    width_factors: Sequence[float] | None = None,
    max_shift: float = 0.015,
    texture: bool = True,
    instrument: bool = True,
    eta: float | None = None,
    support: float = 25.0,
    axes: Sequence[tuple[int, int, int] | None] | None = None,
    march: Sequence[float] | None = None,
    iterations: int = 40,
    phase_widths: bool = True,
) -> Refinement:
    """Refine one phase set on one pattern (see the module doc).

    Parameters
    ----------
    q, y : ndarray (L,)
        The grid (nm⁻¹, from 2θ with the first wavelength) and the measured intensities.
    phases : sequence of Phase
        The set's phases (sticks: 2θ-integrated intensities at the radiation's wavelength).
    radiation : Radiation
    sigma : (float, float)
        The instrument's Gaussian sigma (nm⁻¹) at the ends of the grid.
    basis : ndarray (L, B)
        Non-negative background columns.
    shifts, width_factors : sequence of float, optional
        Starting values per phase (from the search); default 1.
    max_shift : float
        Bound on each phase's relative lattice shift.
    texture, instrument : bool
        Refine March-Dollase texture, and the zero offset and displacement.
    eta : float, optional
        Fix the Lorentzian share; default refined in [0, 1].
    support : float
        Misfit drop (in effective residual variances) a texture axis must buy to be kept.
    axes, march : sequence, optional
        Texture axes (None: untextured) and starting March-Dollase parameters, e.g. from a
        refinement on a coarser grid: then no axis is searched, only ``r`` refined.
    iterations : int
        Most evaluations of the model per least-squares fit (besides its Jacobians).
    phase_widths : bool
        Refine a width factor per phase; otherwise one factor shared by all phases.
    """
    k = len(phases)
    model = _Model(np.asarray(q, float), np.asarray(y, float), phases, radiation, sigma, basis)
    s0 = np.ones(k) if shifts is None else np.asarray(shifts, dtype=float)
    w0 = np.ones(k) if width_factors is None else np.asarray(width_factors, dtype=float)
    s0 = np.clip(s0, 1 - max_shift + 1e-9, 1 + max_shift - 1e-9)
    w0 = np.clip(w0, WIDTH_FACTOR_BOUNDS[0] * 1.001, WIDTH_FACTOR_BOUNDS[1] * 0.999)
    if not phase_widths:
        w0[:] = np.exp(np.mean(np.log(w0)))
    v: dict[str, np.ndarray | float] = {
        "shift": s0.copy(),
        "width": w0.copy(),
        "march": np.ones(k),
        "zero": 0.0,
        "disp": 0.0,
        "eta": 0.3 if eta is None else float(eta),
        "tilt": float(np.clip(sigma[1] / max(sigma[0], 1e-12), *TILT_BOUNDS)),
    }
    history: list[str] = []

    def fit(free_march: list[int]) -> float:
        names: list[tuple[str, int | None, float, float]] = []
        if instrument:
            names += [("zero", None, -ZERO_BOUND, ZERO_BOUND), ("disp", None, -DISPLACEMENT_BOUND, DISPLACEMENT_BOUND)]
        if eta is None:
            names.append(("eta", None, 0.0, 1.0))
        names.append(("tilt", None, *TILT_BOUNDS))
        for i in range(k):
            names.append(("shift", i, 1 - max_shift, 1 + max_shift))
            if phase_widths or i == 0:
                names.append(("width", i, *WIDTH_FACTOR_BOUNDS))
        for i in free_march:
            names.append(("march", i, *MARCH_BOUNDS))

        def get() -> np.ndarray:
            return np.array([v[n] if i is None else v[n][i] for n, i, _, _ in names])  # type: ignore[index]

        def put(x: np.ndarray) -> None:
            for (n, i, _, _), val in zip(names, x):
                if i is None:
                    v[n] = float(val)
                elif n == "width" and not phase_widths:
                    v[n][:] = float(val)  # type: ignore[index]
                else:
                    v[n][i] = float(val)  # type: ignore[index]

        def resid(x: np.ndarray) -> np.ndarray:
            put(x)
            prof, _ = model.profiles(v)
            return model.solve_linear(prof)[2]

        lo = np.array([b[2] for b in names])
        hi = np.array([b[3] for b in names])
        x0 = np.clip(get(), lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
        res = least_squares(resid, x0, bounds=(lo, hi), x_scale=(hi - lo) / 20.0, diff_step=1e-4, max_nfev=iterations)
        put(res.x)
        return float(res.cost * 2.0)

    if axes is not None:
        fixed = [
            i
            for i, ax in enumerate(axes)
            if ax is not None and phases[i].hkl is not None and phases[i].cell is not None
        ]
        for i in fixed:
            model.cos[i] = family_cosines(phases[i].hkl, phases[i].cell, axes[i])  # type: ignore[arg-type]
            v["march"][i] = float(np.clip(1.0 if march is None else march[i], *MARCH_BOUNDS))  # type: ignore[index]
        rss = fit(fixed)
        axes = [axes[i] if i in fixed else None for i in range(k)]
        history.append(f"rss {rss:.4g} with texture axes {axes}")
        texture = False
    else:
        rss = fit([])
        history.append(f"untextured rss {rss:.4g}")
    if texture:
        tau_var = rss / max(model.q.size - 3 * k, 1) * _correlation_length(model.solve_linear(model.profiles(v)[0])[2])
        axes: list[tuple[int, int, int] | None] = [None] * k
        textured = []
        for i, p in enumerate(phases):
            if p.hkl is None or p.cell is None:
                continue
            best = (rss, None, 1.0)
            for ax in TEXTURE_AXES:
                model.cos[i] = family_cosines(p.hkl, p.cell, ax)
                model._cache.clear()

                def one(log_r: float, i: int = i) -> float:
                    v["march"][i] = float(np.exp(log_r))  # type: ignore[index]
                    prof, _ = model.profiles(v)
                    r = model.solve_linear(prof)[2]
                    return float(r @ r)

                lo_b, hi_b = np.log(MARCH_BOUNDS[0]), np.log(MARCH_BOUNDS[1])
                m = minimize_scalar(one, bounds=(lo_b, hi_b), method="bounded", options={"xatol": 0.02})
                if m.fun < best[0]:
                    best = (float(m.fun), ax, float(np.exp(m.x)))
            v["march"][i] = 1.0  # type: ignore[index]
            model.cos[i] = None
            model._cache.clear()
            if best[1] is not None and rss - best[0] > support * tau_var:
                axes[i] = best[1]
                model.cos[i] = family_cosines(p.hkl, p.cell, best[1])
                model._cache.clear()
                v["march"][i] = best[2]  # type: ignore[index]
                textured.append(i)
                history.append(f"phase {p.label}: texture along {best[1]}, r {best[2]:.2f}")
        if textured:
            rss = fit(textured)
            history.append(f"textured rss {rss:.4g}")
    elif axes is None:
        axes = [None] * k
    return _finish(model, v, axes, history)


def _finish(
    model: _Model,
    v: dict[str, np.ndarray | float],
    axes: list[tuple[int, int, int] | None],
    history: list[str],
    errors: bool = True,
) -> Refinement:
    """The refinement at parameters ``v``: amplitudes, their covariance (unless not ``errors``), the reconstruction."""
    k = len(model.phases)
    basis = model.basis
    prof, areas = model.profiles(v)
    coef, design, r = model.solve_linear(prof)
    rss = float(r @ r)
    n_par = 3 + 3 * k + basis.shape[1]
    noise = rss / max(model.q.size - n_par, 1) * _correlation_length(r)
    active = coef > 0
    # the amplitudes' covariance with the nonlinear parameters free too: their derivatives join
    # the design matrix (a width or a texture traded against an amplitude widens its error)
    cov_full = np.zeros((design.shape[1], design.shape[1]))
    if active.any() and errors:
        deriv = _nonlinear_derivatives(model, v, coef[:k], axes)
        a = np.concatenate([design[:, active], deriv], axis=1)
        norms = np.maximum(np.linalg.norm(a, axis=0), 1e-30)
        g = (a / norms).T @ (a / norms)
        inv = np.linalg.pinv(g) / np.outer(norms, norms)
        n_act = int(active.sum())
        cov_full[np.ix_(active, active)] = noise * inv[:n_act, :n_act]
    cov = cov_full[:k, :k]
    return Refinement(
        members=list(range(k)),
        amplitudes=coef[:k].copy(),
        amplitude_errors=np.sqrt(np.clip(np.diag(cov), 0, None)),
        amplitude_cov=cov,
        shifts=np.asarray(v["shift"], float).copy(),
        width_factors=np.asarray(v["width"], float).copy(),
        march=np.asarray(v["march"], float).copy(),
        axes=axes,
        zero=float(v["zero"]),
        displacement=float(v["disp"]),
        eta=float(v["eta"]),
        tilt=float(v["tilt"]),
        sigma=model.widths(float(v["tilt"])),
        areas=areas,
        profiles=prof,
        background=basis @ coef[k:],
        reconstruction=design @ coef,
        rss=rss,
        noise=noise,
        history=history,
    )


def _nonlinear_derivatives(
    model: _Model, v: dict[str, np.ndarray | float], amplitudes: np.ndarray, axes: list[tuple[int, int, int] | None]
) -> np.ndarray:
    """Central-difference derivatives (L, m) of the phases' sum ``Σ a_i p_i`` w.r.t. the nonlinear parameters."""
    steps: list[tuple[str, int | None, float]] = [
        ("zero", None, 1e-3),
        ("disp", None, 1e-3),
        ("eta", None, 1e-2),
        ("tilt", None, 1e-3),
    ]
    for i in range(len(model.phases)):
        steps += [("shift", i, 1e-5), ("width", i, 1e-3)]
        if axes[i] is not None:
            steps.append(("march", i, 1e-3))
    cols = []
    for name, i, h in steps:
        vals = []
        for sign in (1.0, -1.0):
            w = {kk: (vv.copy() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
            if i is None:
                w[name] = float(w[name]) + sign * h
            else:
                w[name][i] = float(w[name][i]) + sign * h  # type: ignore[index]
            prof, _ = model.profiles(w)
            vals.append(amplitudes @ prof)
        cols.append((vals[0] - vals[1]) / (2.0 * h))
    return np.stack(cols, axis=1)


def evaluate_start(
    q: np.ndarray,
    y: np.ndarray,
    phases: Sequence[Phase],
    radiation: Radiation,
    *,
    sigma: tuple[float, float],
    basis: np.ndarray,
    shifts: Sequence[float],
    width_factors: Sequence[float],
) -> Refinement:
    """The set at its starting values (a search's grid shifts and widths), amplitudes solved, nothing
    refined and no errors: a cheap first look that shows which phases cannot matter."""
    model = _Model(np.asarray(q, float), np.asarray(y, float), phases, radiation, sigma, basis)
    v: dict[str, np.ndarray | float] = {
        "shift": np.asarray(shifts, dtype=float).copy(),
        "width": np.clip(np.asarray(width_factors, dtype=float), *WIDTH_FACTOR_BOUNDS),
        "march": np.ones(len(phases)),
        "zero": 0.0,
        "disp": 0.0,
        "eta": 0.3,
        "tilt": float(np.clip(sigma[1] / max(sigma[0], 1e-12), *TILT_BOUNDS)),
    }
    return _finish(model, v, [None] * len(phases), ["starting values"], errors=False)


def reevaluate(
    q: np.ndarray,
    y: np.ndarray,
    phases: Sequence[Phase],
    radiation: Radiation,
    ref: Refinement,
    *,
    sigma: tuple[float, float],
    basis: np.ndarray,
) -> Refinement:
    """A refinement's parameters applied to another grid (e.g. the full one after a refinement on every
    second point): profiles, amplitudes, background and errors recomputed there, nothing refined."""
    model = _Model(np.asarray(q, float), np.asarray(y, float), phases, radiation, sigma, basis)
    for i, ax in enumerate(ref.axes):
        if ax is not None and phases[i].hkl is not None and phases[i].cell is not None:
            model.cos[i] = family_cosines(phases[i].hkl, phases[i].cell, ax)  # type: ignore[arg-type]
    v: dict[str, np.ndarray | float] = {
        "shift": ref.shifts.copy(),
        "width": ref.width_factors.copy(),
        "march": ref.march.copy(),
        "zero": ref.zero,
        "disp": ref.displacement,
        "eta": ref.eta,
        "tilt": ref.tilt,
    }
    return _finish(model, v, list(ref.axes), [*ref.history, "re-evaluated on another grid"])


def drop_one_rss(y: np.ndarray, ref: Refinement, basis: np.ndarray) -> np.ndarray:
    """The residual sum of squares (k,) with each phase left out, the others' profiles kept (amplitudes refitted)."""
    k = len(ref.members)
    out = np.zeros(k)
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        design = np.concatenate([ref.profiles[keep].T, basis], axis=1)
        norms = np.maximum(np.linalg.norm(design, axis=0), 1e-30)
        coef, _ = nnls(design / norms, y, maxiter=50 * design.shape[1])
        r = y - (design / norms) @ coef
        out[i] = float(r @ r)
    return out


def own_support(y: np.ndarray, ref: Refinement) -> tuple[np.ndarray, np.ndarray]:
    """What each phase's own reflections buy: (misfit rise, share of its signal) where it dominates.

    A phase's own region is where its contribution exceeds 5 % of its peak and the other
    phases' sum: there no other phase can stand in for it. The rise is how much the squared
    residual there grows when the phase is left out (in effective residual variances); the
    share is the part of the phase's squared signal that lies there. A phase that only
    adjusts the intensities of others' peaks has little of either.
    """
    contrib = ref.amplitudes[:, None] * ref.profiles
    total = contrib.sum(0)
    r = y - ref.reconstruction
    rise = np.zeros(len(contrib))
    share = np.zeros(len(contrib))
    for i, c in enumerate(contrib):
        own = (c > 0.05 * max(float(c.max()), 1e-300)) & (c > total - c)
        signal = float(c @ c)
        if signal <= 0:
            continue
        share[i] = float(c[own] @ c[own]) / signal
        rise[i] = float(((r[own] + c[own]) ** 2 - r[own] ** 2).sum()) / max(ref.noise, 1e-30)
    return rise, share
