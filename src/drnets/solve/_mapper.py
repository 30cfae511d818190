"""The phase mapper: which phases, how much and how shifted, at every point of a library.

:meth:`PhaseMapper.fit` is the pipeline, one stage per module, in the order the data flow:
prepare (:mod:`._prepare`), screen and pool (:mod:`._screen`), search each point
(:mod:`._point_search`), reason across points (:mod:`._cost`, :mod:`._reasoning`), repair
the rules (:mod:`._repairs`), then the answer and its evidence (:mod:`._evidence`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core import Library, PhaseLibrary, Solution
from ._checkpoint import fingerprint, load_checkpoint, save_checkpoint
from ._confidence import confidence
from ._cost import misfit_scaled
from ._evidence import evidence
from ._params import Params, parameter_table
from ._phase_texture import settle_phase_texture
from ._polish import polish
from ._prepare import prepare
from ._problem import Problem
from ._reasoning import prune, settle
from ._repairs import tidy
from ._screen import round_pools, screen
from ._state import State
from ._tiled_search import close_search, round_search
from ._weight_fractions import attach_weight_fractions

Callback = Callable[[str, int, int, dict], None]

#: Parameters that change how fast an answer comes, not the answer: a resume may change them.
_RUN_ONLY = (
    "device",
    "verbose",
    "chunk_points",
    "memory_budget_gb",
    "net_checkpoint_every",
    "confidence",
    "presence_level",
    "workers",
    "tile_memory_gb",
)


@dataclass
class PhaseMapper(Params):
    """Phase mapping with the physics built in (Gibbs, alloying, connectivity).

    Every point's answer is searched exactly over subsets of a candidate pool within the
    point's Gibbs limit, each phase at its own grid shift and peak width; the reasoning
    rules act across points: candidates come from the neighbours' answers, phases that
    never clearly show anywhere are pruned library-wide, and islands cut off from a
    phase's region are re-solved without it. The rules are then enforced exactly.
    With ``engine="network"`` the answer comes instead from DRNets' encoder network trained
    on the library (:mod:`drnets.solve.network`), then the same pruning and rules.

    Parameters
    ----------
    {parameters}
    callback : callable or None
        ``callback(stage, done, total, info)`` after each stage (for progress bars).

    Attributes
    ----------
    solution_ : Solution
        The answer, with run metadata (its rule audit is the caller's to ask for:
        :func:`drnets.evaluate.audit_solution`).
    fractions_, shifts_, amplitudes_, widths_, reconstruction_, residuals_ : ndarray
        Shortcuts into ``solution_``.
    history_ : list of dict
        One entry per stage.
    network_ : drnets.solve.network.Trainer or None
        With ``engine="network"``: the trained network (``network_.answer()`` is its raw
        latent space, before the rules are enforced).
    set_costs_ : SetCosts or None
        Each point's competing phase sets and their costs (the probabilities' raw material;
        None when ``confidence`` is off).
    """

    callback: Callback | None = field(default=None, repr=False)
    history_: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)
    network_: Any = field(default=None, init=False, repr=False)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters (with ``callback``), as scikit-learn's estimators give them."""
        return {**super().get_params(deep), "callback": self.callback}

    def set_params(self, **params: Any) -> PhaseMapper:
        """Set parameters by name; returns self."""
        if "callback" in params:
            self.callback = params.pop("callback")
        super().set_params(**params)
        return self

    def fit(
        self,
        library: Library,
        phases: PhaseLibrary,
        *,
        mask: np.ndarray | None = None,
        max_phases: np.ndarray | None = None,
        edges: np.ndarray | None = None,
        resume: bool = False,
    ) -> PhaseMapper:
        """Solve a library.

        Parameters
        ----------
        library : Library
        phases : PhaseLibrary
        mask : ndarray (N, P) of bool, optional
            Allowed phases per point; default: the element rule.
        max_phases : ndarray (N,), optional
            Gibbs limit per point; default: elements present.
        edges : ndarray (E, 2) of int, optional
            Neighbour pairs; default: the composition graph. An empty array makes the
            points independent samples (no neighbours: each is searched on its own, and
            the connectivity and alloying rules have nothing to act on).
        resume : bool
            Continue from ``checkpoint`` (the rounds it holds are not searched again).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self.validate()
        self.network_ = None
        total = (self.net_epochs if self.engine == "network" else self.rounds) + 2
        self._report("prepare", 0, total, {})
        torch.manual_seed(self.seed)
        params = Params(**super().get_params())
        pb = prepare(library, phases, params, mask=mask, max_phases=max_phases, edges=edges)
        self.history_ = pb.history
        state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
        keep = pb.allowed.copy()
        start = 0
        checkpoint = None if self.checkpoint is None else Path(self.checkpoint)
        # Hashing the patterns costs a pass over them: only a run that keeps a checkpoint needs it.
        print_ = ""
        if checkpoint is not None:
            kept = {k: v for k, v in params.recorded().items() if k not in _RUN_ONLY}
            print_ = fingerprint(library, phases, pb.allowed, pb.limits, kept)
        if self.engine == "network":
            from .network import fit_network

            state, interrupted, self.network_ = fit_network(
                pb, checkpoint=checkpoint, print_=print_, resume=resume, report=self._report, total=total
            )
            return self._finish(library, phases, pb, state, t0, interrupted)
        if resume and checkpoint is not None and checkpoint.exists():
            state, keep, start, pen, texture = load_checkpoint(checkpoint, print_)
            pb = pb.with_costs(pen).with_texture(texture)  # the costs and texture the finished rounds left
            self.history_.append({"resumed_after_round": start})
        interrupted = False
        search_round = round_search(params)  # `search` itself, or its tiles on Ray (workers, ray_address)
        try:
            own = screen(pb, pb.x, keep)
            self._report("screen", 1, total, {})
            for rnd in range(start, self.rounds):
                rec = torch.as_tensor(state.rec, dtype=pb.x.dtype, device=pb.x.device)
                left = screen(pb, (pb.x - rec).clamp_min(0), keep) if rnd > 0 else own
                state = search_round(pb, np.arange(pb.n), round_pools(pb, state, rnd > 0, keep, own, left), state)
                state = polish(pb, state, keep)  # single moves the subset search did not reach
                if rnd == 0 and self.misfit_penalty > 0:
                    pb = pb.with_costs(misfit_scaled(pb, state))
                # each phase drawn as the library shows it (texture, reflection factors, substrate)
                estimate = self.phase_texture or self.reflection_factors > 1.0 or self.substrate_intensities
                if estimate and rnd < self.rounds - 1:
                    pb, state = settle_phase_texture(pb, state)
                if (rnd > 0 or self.rounds == 1) and self.min_peak_fraction > 0:  # not after the first of several
                    keep = prune(pb, state, keep)
                self._log(rnd, pb, state, time.perf_counter() - t0)
                if checkpoint is not None:
                    save_checkpoint(checkpoint, state, keep, rnd + 1, print_, pb.pen, pb.phase_texture)
                self._report("search", rnd + 2, total, self.history_[-1])
            state = settle(pb, state, keep)
            self._report("repair", total, total, {})
        except KeyboardInterrupt:
            if not state.present.any():
                raise
            interrupted = True
        finally:
            close_search(search_round)
        return self._finish(library, phases, pb, state, t0, interrupted)

    # ------------------------------------------------------------------ helpers
    def _finish(
        self, library: Library, phases: PhaseLibrary, pb: Problem, state: State, t0: float, interrupted: bool
    ) -> PhaseMapper:
        self.solution_ = self._answer(library, phases, pb, state, t0, interrupted)
        sol = self.solution_
        self.fractions_, self.shifts_, self.amplitudes_ = sol.fractions, sol.shifts, sol.amplitudes
        self.widths_, self.reconstruction_, self.residuals_ = sol.widths, sol.reconstruction, sol.residuals
        return self

    def _report(self, stage: str, done: int, total: int, info: dict) -> None:
        if self.callback is not None:
            self.callback(stage, done, total, info)

    def _log(self, rnd: int, pb: Problem, state: State, elapsed: float) -> None:
        rel = np.linalg.norm(pb.xn - state.rec, axis=1) / np.maximum(np.linalg.norm(pb.xn, axis=1), 1e-30)
        entry = {
            "round": rnd,
            "mean_rel_l2": float(rel.mean()),
            "phases_used": int(np.unique(state.phase[state.present]).size),
            "elapsed_s": round(elapsed, 2),
        }
        self.history_.append(entry)
        if self.verbose:
            print(
                f"round {rnd + 1}/{self.rounds}: mean relative L2 residual {rel.mean():.4f}, "
                f"{entry['phases_used']} phases, {elapsed:.1f} s"
            )

    def _answer(
        self, library: Library, phases: PhaseLibrary, pb: Problem, state: State, t0: float, interrupted: bool
    ) -> Solution:
        """The answer as reported: thresholds and Gibbs once more, in pattern units, with evidence."""
        n, p_n = pb.n, pb.p_n
        state = tidy(pb, state)
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
        bg = state.bg * pb.scale[:, None]
        recon = state.rec * pb.scale[:, None] + bg
        res = np.linalg.norm(library.patterns - recon, axis=1) / np.maximum(
            np.linalg.norm(library.patterns, axis=1), 1e-30
        )
        ev = evidence(pb, state)
        t1 = time.perf_counter()
        sure = confidence(pb, state, frac, self.presence_level) if self.confidence else (None, None, None, None)
        if self.confidence:
            self.history_.append({"stage": "confidence", "elapsed_s": round(time.perf_counter() - t1, 3)})
        self.set_costs_ = sure[3]
        # The final fits' NNLS solved, and those a repeated fit took from the solve's cache (Problem.fits).
        self.history_.append({"stage": "final fits", "solves": pb.fits.misses, "repeats": pb.fits.hits})
        from .. import __version__

        metadata = {
            "version": __version__,
            "seed": self.seed,
            "device": pb.device,
            "device_name": torch.cuda.get_device_name(0) if pb.device.startswith("cuda") else "cpu",
            "wall_time_s": round(time.perf_counter() - t0, 3),
            "interrupted": interrupted,
            "sigma": list(pb.sigma),
            "eta": float(pb.eta),
            "shift_step": float(pb.shifts[1] - pb.shifts[0]) if pb.shifts.size > 1 else 0.0,
            "parameters": self.recorded(),
            "history": self.history_,
            "library": library.source,
            "phases": phases.source,
        }
        solution = Solution(
            labels=phases.labels,
            fractions=frac,
            shifts=shf,
            amplitudes=amp * pb.scale[:, None],
            widths=np.tile(np.asarray(pb.sigma, dtype=float), (p_n, 1)),
            width_scale=wsc,
            eta=float(pb.eta),
            reconstruction=recon,
            background=bg if np.any(bg) else None,
            residuals=res,
            evidence=ev,
            max_phases=pb.limits,
            mask=pb.allowed,
            edges=pb.edges,
            probabilities=sure[0],
            alternatives=sure[1],
            unexplained=sure[2],
            metadata=metadata,
        )
        return attach_weight_fractions(solution, phases, library.q)


PhaseMapper.__doc__ = (PhaseMapper.__doc__ or "").replace("{parameters}", parameter_table().replace("\n", "\n    "))
