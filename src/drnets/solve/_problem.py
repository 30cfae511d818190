"""The problem every stage of the search reads: patterns, profiles, costs, limits, neighbours.

Built once by :func:`~drnets.solve._prepare.prepare`; frozen, so that no stage can change
what another sees. The per-phase costs are the one thing the search revises (after its
first round, see :func:`~drnets.solve._cost.misfit_scaled`): that makes a new problem
(:meth:`Problem.with_costs`), not an edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ._atoms import Atoms
from ._fit_cache import FitCache
from ._params import Params


@dataclass(frozen=True, eq=False)
class Problem:
    """One library, prepared for the search.

    Attributes
    ----------
    params : Params
        The solver's parameters.
    device : str
        Where the profiles and patterns live ('cpu', 'cuda', ...).
    n, p_n : int
        Points and candidate phases.
    q : ndarray (L,)
        The Q grid.
    sigma : (float, float)
        Base peak sigma at both ends of the grid.
    eta : float
        Lorentzian share of the pseudo-Voigt peaks (0: Gaussian).
    shifts : ndarray (S,)
        The shift grid.
    atoms : Atoms
        Every phase's profiles on the shift x width grid.
    x : Tensor (N, L)
        Patterns less their rough background, max-normalised (what the search fits).
    xn : ndarray (N, L)
        The same, as numpy.
    xraw : ndarray (N, L)
        Measured patterns, max-normalised (what the final fits see, background fitted jointly).
    basis : ndarray (L, B) or None
        Smooth background columns of the final fits.
    background : ndarray (N, L)
        The rough background taken off before the search (pattern units).
    scale : ndarray (N,)
        Each pattern's maximum.
    pen : ndarray (N,)
        Cost of one phase at each point.
    allowed : ndarray (N, P) of bool
        Which phase may appear where (element rule or the user's mask).
    limits : ndarray (N,)
        Gibbs limit per point (system phases).
    search_limits : ndarray (N,)
        Phases the search may put at a point (the Gibbs limit plus allowed substrates).
    substrate : ndarray (P,) of bool
        Phases outside the system.
    edges : ndarray (E, 2)
        The composition graph.
    nbrs : list of ndarray
        Each point's neighbours.
    comp, phase_comp : ndarray
        Point compositions (N, M) and phase cation fractions (P, M).
    history : list of dict
        The run's log, one entry per stage (appended to as the stages run).
    axis_factors : list or None
        Per phase, its texture axes and its sticks' March-Dollase factors along them
        (:func:`~drnets.solve._phase_texture.axis_factors`); None unless ``phase_texture``.
    phase_texture : PhaseTexture or None
        Each textured phase's axis and level per point, once estimated
        (:func:`~drnets.solve._phase_texture.estimate_phase_texture`).
    drawn : ndarray (N, P) of int or None
        With a texture, the dictionary row (of ``atoms``) that draws each phase at each
        point: the phase's own, or a textured copy's after the P phases.
    weights : ndarray (N, L) or None
        Each Q point's weight in the final fits (counting statistics,
        :func:`~drnets.solve._prepare.count_weights`); None: unweighted.
    prior_scale : float
        Factor on the shift prior: the share of the signal's energy the weights keep
        (:func:`~drnets.solve._prepare.kept_signal_share`; 1 without weights).
    fits : FitCache
        The final fits made so far (:meth:`fit_point`), shared with :meth:`with_costs`' problems.
    """

    params: Params
    device: str
    n: int
    p_n: int
    q: np.ndarray
    sigma: tuple[float, float]
    eta: float
    shifts: np.ndarray
    atoms: Atoms
    x: torch.Tensor
    xn: np.ndarray
    xraw: np.ndarray
    basis: np.ndarray | None
    background: np.ndarray
    scale: np.ndarray
    pen: np.ndarray
    allowed: np.ndarray
    limits: np.ndarray
    search_limits: np.ndarray
    substrate: np.ndarray
    edges: np.ndarray
    nbrs: list[Any]
    comp: np.ndarray
    phase_comp: np.ndarray
    history: list[dict[str, Any]]
    axis_factors: list[Any] | None = None
    phase_texture: Any = None
    drawn: np.ndarray | None = None
    weights: np.ndarray | None = None
    prior_scale: float = 1.0
    fits: FitCache = field(default_factory=FitCache, repr=False)

    def with_costs(self, pen: np.ndarray) -> Problem:
        """The same problem with other per-phase costs."""
        return replace(self, pen=pen)

    def with_texture(self, texture: Any) -> Problem:
        """The same problem with each phase's texture across the library (None: drawn as tabulated);
        its dictionary's rows mean other profiles, so its final fits start a cache of their own."""
        if texture is None:
            return replace(self, phase_texture=None, drawn=None, fits=FitCache())
        drawn, sq, si, keys = texture.variants(self.atoms.sq[: self.p_n], self.atoms.si[: self.p_n])
        atoms = self.atoms.with_variants(self.p_n, sq, si, keys)
        return replace(self, phase_texture=texture, drawn=drawn, atoms=atoms, fits=FitCache())

    def fit_point(
        self,
        i: int,
        phases: np.ndarray,
        shift_idx: np.ndarray,
        offsets: tuple[int, ...] | tuple[tuple[int, ...], ...] | None = None,
    ) -> dict[str, Any]:
        """The final fit of point i's measured pattern by ``phases`` around their grid shifts
        (:func:`~drnets.solve._search.group_fit`; ``offsets``, for all members or one tuple per
        member, default to ``shape_offsets``),
        texture variants included where the parameters ask for them. The NNLS of a repeated
        fit (same point, dictionary rows, shifts and offsets) comes from :attr:`fits`."""
        from ._search import group_fit

        p = self.params
        offsets = tuple(p.shape_offsets if offsets is None else offsets)
        rows = self.rows_of(i, phases)
        key = (int(i), tuple(np.asarray(rows).tolist()), tuple(np.asarray(shift_idx).tolist()), offsets)
        return group_fit(
            self.xraw[i],
            rows,
            shift_idx,
            self.atoms,
            offsets,
            self.basis,
            texture_cost=float(self.pen[i]) * p.texture_cost if p.texture else None,
            memo=lambda tag, solve: self.fits.get_or_fit((key, tag), solve),
            weight=None if self.weights is None else self.weights[i],
        )

    def rows_of(self, points: np.ndarray | int, phases: np.ndarray) -> np.ndarray:
        """The dictionary rows that draw ``phases`` at ``points`` (broadcast against each other):
        the phases themselves unless a texture draws them with a textured copy."""
        if self.drawn is None:
            return np.asarray(phases)
        return self.drawn[np.asarray(points), np.asarray(phases)]

    def prior(self, shift: np.ndarray) -> np.ndarray:
        """Shift prior of each member, in units of the per-phase cost (see :func:`shift_prior`)."""
        return shift_prior(self.params, shift) * self.prior_scale

    def composition_cost(self, i: int, phases: np.ndarray, heights: np.ndarray) -> float:
        """Soft composition rule at point i, in per-phase costs.

        The phases' cation compositions, weighted by their shares of the answer (peak-height
        fractions, a proxy for the lever rule's molar ones), should make up the point's
        composition: ``composition_weight`` times the squared distance over
        ``composition_scale``, capped at 1. Weighted by the shares, a trace of a phase
        cannot buy composition; capped, the rule breaks ties between phase sets the data
        explain alike (look-alikes) and never vetoes what the data show (solid solutions
        move a phase's composition away from its formula). Substrates do not count.
        """
        w = self.params.composition_weight
        if w <= 0:
            return 0.0
        ph = np.atleast_1d(np.asarray(phases, dtype=int))
        h = np.atleast_1d(np.asarray(heights, dtype=float))
        use = ~self.substrate[ph] & (h > 0)
        if not use.any():
            return 0.0
        mix = (h[use] / h[use].sum()) @ self.phase_comp[ph[use]]
        d = float(np.linalg.norm(mix - self.comp[i]))
        return w * min(d / self.params.composition_scale, 1.0) ** 2

    def fit_cost(
        self, i: int, phases: np.ndarray, fit: dict[str, Any], weight: np.ndarray | float = 1.0
    ) -> tuple[float, np.ndarray]:
        """Cost of point i's final fit ``fit`` (:meth:`fit_point`) of ``phases``: its residual
        plus the :meth:`cost` of the members it gives a height (``weight``: a number, or one
        per member of ``phases``), and which members those are."""
        kept = fit["height"] > 0
        w = weight if np.isscalar(weight) else np.asarray(weight)[kept]
        return float(
            fit["rss"] + self.cost(i, np.asarray(phases)[kept], fit["height"][kept], fit["shift"][kept], w)
        ), kept

    def cost(
        self, i: int, phases: np.ndarray, heights: np.ndarray, shift: np.ndarray, weight: np.ndarray | float = 1.0
    ) -> float:
        """Cost of point i's phases (peak ``heights``, at ``shift``): per-phase costs (times
        ``weight``), the shift prior (see :func:`phase_cost`) and the soft composition rule."""
        return phase_cost(
            self.params, float(self.pen[i]), shift, weight, self.composition_cost(i, phases, heights), self.prior_scale
        )


def shift_prior(params: Params, shift: np.ndarray) -> np.ndarray:
    """Shift prior of each member, in per-phase costs: ``shift_prior`` at a shift of
    ``max_shift``, growing with its square (a Gaussian prior centred on the tabulated lattice)."""
    return params.shift_prior * ((np.asarray(shift, dtype=float) - 1.0) / params.max_shift) ** 2


def phase_cost(
    params: Params,
    pen: float,
    shift: np.ndarray,
    weight: np.ndarray | float = 1.0,
    extra: float = 0.0,
    prior_scale: float = 1.0,
) -> float:
    """Cost of a point's phases: the per-phase cost ``pen`` times the members' ``weight`` plus
    their shift prior (times ``prior_scale``), plus ``extra`` per-phase costs for the set as a whole."""
    shift = np.asarray(shift, dtype=float)
    return float(
        pen * ((np.broadcast_to(weight, shift.shape) + prior_scale * shift_prior(params, shift)).sum() + extra)
    )
