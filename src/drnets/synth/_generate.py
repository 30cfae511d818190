"""Synthetic combinatorial XRD libraries with exact ground truth.

The chemical system is one of the built-in ones (``ternary``, ``quaternary``) or, with
``system="random"``, drawn whole from the seed (:mod:`drnets.synth._random_system`:
elements, stable phases from structure prototypes, solid solutions, look-alikes). The
physics, in order:

1. **Phase diagram at fixed temperature.** Every stable phase of the chemical system is
   one vertex on the composition simplex (a line compound) or two (a solid solution:
   the segment from its host to its far end is a one-phase field). The simplex is split
   into tie-simplices by a Delaunay triangulation of these vertices. A sample point holds
   the phases of its tie-simplex in lever-rule proportions (its barycentric coordinates;
   a solid solution's two vertices add up to one phase). So the Gibbs phase rule holds
   (at most as many phases as elements present) and every phase region is connected.
2. **Vegard's law.** A solid solution's composition along its segment, ``t`` in [0, 1],
   is the far vertex's share of the phase's weight; its peaks sit at ``q * (1 + t*delta)``
   with ``delta = shift_sign * max_shift``.
3. **Measurement.** Pseudo-Voigt peaks whose Gaussian sigma grows linearly with Q (the
   forward model of :mod:`drnets.core`), optional March-Dollase texture (per point and
   reflection, smooth across composition; each stick's factor is the mean over its
   reflection family's planes of the factor set by the angle between the plane normal and
   the texture axis), a smooth background, optional substrate everywhere,
   optional impurity outside the candidate library, and Poisson or Gaussian noise at a
   chosen signal-to-noise ratio.

Truth conventions (shared with the solver and the evaluator): each phase's profile is
rendered with maximum 1 on the grid; its contribution is ``a_p * profile_p``; its fraction
is ``a_p / sum(a)`` over the candidate phases (the substrate included, the impurity not);
shifts are multiplicative Q scales (1 = tabulated), NaN where a phase is absent.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core import (
    Dataset,
    InputError,
    Library,
    Phase,
    PhaseLibrary,
    Solution,
    gaussian,
    render_peaks,
)
from ..core._texture import family_cosines, family_factors
from ..structure import broken_regions, composition_graph, outside_main_region, simplex_coordinates
from ._diagram import Diagram, barycentric, build_diagram
from ._presets import PRESETS, Preset, draw_preset
from ._random_system import draw_system
from ._systems import RANDOM, SYSTEMS, ChemicalSystem

_DATA = Path(__file__).with_name("data") / "builtin_phases.json"


# --------------------------------------------------------------------------- truth


@dataclass(eq=False)
class Truth:
    """The exact answer for a synthetic library.

    Attributes
    ----------
    labels : list of str
        The P candidate phase labels, in the phase library's order.
    fractions : ndarray of shape (N, P)
        Peak-height shares ``a_p / sum(a)`` (substrate included, impurity excluded).
    shifts : ndarray of shape (N, P)
        Multiplicative Q scale of each present phase; NaN where absent.
    amplitudes : ndarray of shape (N, P)
        Peak height ``a_p`` of each max-normalised phase profile in the pattern's units.
    widths : ndarray of shape (P, 2)
        Gaussian sigma (nm⁻¹) at the low and high ends of the Q grid.
    eta : float
        Pseudo-Voigt Lorentzian share of every peak.
    texture : dict of str to ndarray
        Per-point, per-reflection intensity factors (N, K) of the textured phases.
    background : ndarray of shape (N, L)
        The smooth background added to each pattern (before noise).
    clean : ndarray of shape (N, L)
        The noiseless pattern (phases + impurity + background).
    impurity : str or None
        Label of the impurity phase (not a candidate), if any.
    impurity_amplitudes : ndarray of shape (N,)
        Peak height of the impurity's contribution (0 where absent).
    meta : dict
        Preset, seed, system, parameters, diagram (JSON-ready).
    """

    labels: list[str]
    fractions: np.ndarray
    shifts: np.ndarray
    amplitudes: np.ndarray
    widths: np.ndarray
    eta: float
    texture: dict[str, np.ndarray]
    background: np.ndarray
    clean: np.ndarray
    impurity: str | None
    impurity_amplitudes: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def present(self, threshold: float = 0.0) -> np.ndarray:
        """Boolean (N, P): phases whose fraction exceeds ``threshold``."""
        return self.fractions > threshold

    def as_solution(self) -> Solution:
        """The truth as a :class:`~drnets.core.Solution` (for the evaluator and reports)."""
        return Solution(
            labels=list(self.labels),
            fractions=self.fractions,
            shifts=self.shifts,
            amplitudes=self.amplitudes,
            widths=self.widths,
            eta=float(self.eta),
            reconstruction=self.clean,
            metadata={
                "synthetic_truth": True,
                **{k: self.meta[k] for k in ("preset", "seed", "system") if k in self.meta},
            },
        )


# --------------------------------------------------------------------------- built-in phases


@lru_cache(maxsize=1)
def _builtin_raw() -> dict[str, dict]:
    with open(_DATA, encoding="utf-8") as fh:
        return json.load(fh)["phases"]


def builtin_phase(label: str) -> Phase:
    """One built-in phase (sticks computed with pymatgen, see ``_make_builtin.py``)."""
    raw = _builtin_raw()
    if label not in raw:
        raise InputError(f"no built-in phase {label!r}", source=str(_DATA))
    d = raw[label]
    return Phase(
        label,
        d["formula"],
        np.array(d["q"]),
        np.array(d["intensity"]),
        np.array(d["hkl"]),
        tuple(d["cell"]),
        d.get("space_group"),
    )


def _texture_factors(phase: Phase, axis: tuple[int, int, int], r: np.ndarray) -> np.ndarray:
    """March-Dollase factor (N, K) of each reflection family at each point's parameter ``r`` (N,).

    A stick stands for a whole family of planes, so its factor is the mean over the
    family's members (:func:`~drnets.core.family_texture`), as in a textured powder.
    """
    if phase.hkl is None or phase.cell is None:
        return np.ones((r.size, phase.q.size))
    return family_factors(family_cosines(phase.hkl, phase.cell, axis), r)


# --------------------------------------------------------------------------- geometry


def _grid_compositions(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``n`` points of the finest triangular/tetrahedral grid with at least ``n``.

    The surplus points (if any) are dropped at random, like bad spots on a wafer; the
    corners are kept unless fewer points than corners are asked for.
    """
    div = 1
    while math.comb(div + m - 1, m - 1) < n:
        div += 1
    pts = [c for c in _compositions(m, div)]
    grid = np.array(pts, dtype=float) / div
    surplus = grid.shape[0] - n
    if surplus > 0:
        corners = np.flatnonzero(grid.max(axis=1) == 1.0)
        others = np.setdiff1d(np.arange(grid.shape[0]), corners)
        pool = others if others.size >= surplus else np.arange(grid.shape[0])
        drop = rng.choice(pool, size=surplus, replace=False)
        grid = np.delete(grid, drop, axis=0)
    return grid


def _compositions(m: int, total: int):
    """All M-tuples of non-negative integers summing to ``total`` (lexicographic, descending)."""
    if m == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(m - 1, total - first):
            yield (first, *rest)


def _random_compositions(m: int, n: int, rng: np.random.Generator, floor: float = 0.02) -> np.ndarray:
    """``n`` uniform points on the simplex; components under ``floor`` are snapped to 0."""
    x = rng.dirichlet(np.ones(m), size=n)
    x[x < floor] = 0.0
    x[x.sum(axis=1) == 0, 0] = 1.0
    return x / x.sum(axis=1, keepdims=True)


def _jitter_grid(comp: np.ndarray, rng: np.random.Generator, amount: float = 0.3) -> np.ndarray:
    """Move grid points off the exact lattice (a deposition gradient is not one).

    Each non-zero component moves by up to ``amount`` grid steps, so points stay on their
    face of the simplex but no longer sit exactly on tie-lines through lattice points.
    """
    step = comp[comp > 0].min()
    moved = np.where(comp > 0, comp + rng.uniform(-amount, amount, size=comp.shape) * step, 0.0)
    return moved / moved.sum(axis=1, keepdims=True)


def _connected_sample(comp: np.ndarray, dia: Diagram, rounds: int = 20) -> np.ndarray:
    """Drop the points the composition graph cuts off from their phase's or phase field's region.

    The regions are connected on the simplex, but a point near the tip of a thin wedge
    (a minor phase near a phase boundary) can have no neighbour in its own region. Such
    points are dropped, like bad spots on a wafer, until every phase region and phase
    field is one piece of the graph, so the truth obeys the connectivity rule it is audited by.
    """
    for _ in range(rounds):
        simplex, w = barycentric(dia, comp)
        present = np.zeros((comp.shape[0], int(dia.vertex_phase.max()) + 1), dtype=bool)
        verts = dia.simplices[simplex]
        for j in range(verts.shape[1]):
            hit = w[:, j] > 0
            present[np.flatnonzero(hit), dia.vertex_phase[verts[hit, j]]] = True
        edges = composition_graph(comp)
        drop: set[int] = set()
        for region in broken_regions(present, edges):
            drop.update(outside_main_region(region["points"], edges, comp.shape[0]).tolist())
        if not drop:
            return comp
        comp = np.delete(comp, sorted(drop), axis=0)
    raise InputError("could not sample the random system's phase regions connectedly")  # pragma: no cover


def _smooth_field(x: np.ndarray, rng: np.random.Generator, terms: int = 3, scale: float = 2.5) -> np.ndarray:
    """A smooth random field in [-1, 1] over simplex coordinates ``x`` (N, D)."""
    k = rng.normal(0.0, scale, size=(terms, x.shape[1]))
    phase = rng.uniform(0.0, 2.0 * math.pi, size=terms)
    amp = rng.uniform(0.5, 1.0, size=terms)
    return (np.cos(x @ k.T + phase) @ amp) / amp.sum()


# --------------------------------------------------------------------------- generate


def _resolve(
    preset: str | Preset | None,
    points: int | None,
    q_points: int | None,
    system: str | None,
    sampling: str | None,
    chem_seed: np.random.SeedSequence,
    knob_seed: np.random.SeedSequence,
) -> tuple[Preset, ChemicalSystem]:
    """The knobs and the chemical system; a random system and its knobs come from the seeds."""
    if system is not None and system not in SYSTEMS and system != RANDOM:
        choices = ", ".join([*SYSTEMS, RANDOM])
        raise InputError(f"unknown system {system!r}; choose from {choices}", where="system")
    if isinstance(preset, Preset):
        p = preset
    elif preset is None and system == RANDOM:
        p = draw_preset(np.random.default_rng(knob_seed))
    else:
        preset = "standard" if preset is None else preset
        if preset not in PRESETS:
            raise InputError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}", where="preset")
        p = PRESETS[preset]
    changes: dict[str, Any] = {}
    if points is not None:
        if int(points) < 1:
            raise InputError(f"points must be positive, got {points}", where="points")
        changes["points"] = int(points)
    if q_points is not None:
        if int(q_points) < 2:
            raise InputError(f"q_points must be at least 2, got {q_points}", where="q_points")
        changes["q_points"] = int(q_points)
    if system is not None:
        changes["system"] = system
    if sampling is not None:
        changes["sampling"] = sampling
    p = replace(p, **changes)
    if p.sampling not in ("grid", "random"):
        raise InputError(f"sampling must be 'grid' or 'random', got {p.sampling!r}", where="sampling")
    if p.noise not in ("poisson", "gaussian"):
        raise InputError(f"noise must be 'poisson' or 'gaussian', got {p.noise!r}", where="noise")
    if p.system == RANDOM:
        return p, draw_system(np.random.default_rng(chem_seed))
    if p.system not in SYSTEMS:
        raise InputError(f"unknown system {p.system!r}; choose from {', '.join([*SYSTEMS, RANDOM])}", where="system")
    return p, SYSTEMS[p.system]


def _phase(system: ChemicalSystem, label: str) -> Phase:
    """A phase of the system: its own (a random system's) or a built-in one."""
    return system.phases[label] if label in system.phases else builtin_phase(label)


def generate(
    preset: str | Preset | None = None,
    *,
    points: int | None = None,
    q_points: int | None = None,
    seed: int = 0,
    system: str | None = None,
    sampling: str | None = None,
    conditions: dict[str, Any] | None = None,
) -> tuple[Dataset, Truth]:
    """Make a synthetic library, its candidate phases and the exact answer.

    Parameters
    ----------
    preset : {"easy", "standard", "hard"} or Preset, optional
        The difficulty (see :data:`PRESETS`). Default: ``"standard"``, or, with
        ``system="random"``, measurement conditions drawn from the seed (see
        ``draw_preset``: 100-1,000 points, signal-to-noise 10-100, eta 0-1, ...).
    points : int, optional
        Number of sample points (default: the preset's).
    q_points : int, optional
        Number of Q grid points (default: the preset's, 800 over 15–75 nm⁻¹).
    seed : int
        Random seed; the same seed gives the same library, bit for bit.
    system : {"ternary", "quaternary", "random"}, optional
        Override the preset's chemical system. ``"random"`` draws a whole system from the
        seed: 3 or 4 cation elements, stable phases from structure prototypes, solid
        solutions, look-alike distractors, substrate and impurity (see
        :func:`drnets.synth._random_system.draw_system`).
    sampling : {"grid", "random"}, optional
        Override the preset's composition sampling.
    conditions : dict, optional
        Override any other measurement condition of the preset (or of the one drawn for a
        random system), by :class:`Preset` field name, e.g. ``{"substrate": 0.3,
        "substrate_texture": 2.0}``; the other draws stay as they are.

    Returns
    -------
    dataset : Dataset
        The library (patterns, compositions) and the candidate phases (stable phases,
        distractors and the substrate, in alphabetical order).
    truth : Truth
        Fractions, shifts, amplitudes, widths and the rest of the answer.
    """
    # Independent streams, so that changing one knob leaves the other draws alone; the
    # last draws a random system and its knobs.
    seqs = np.random.SeedSequence(int(seed)).spawn(8)
    chem_seed, knob_seed, sample_seed = seqs[7].spawn(3)
    p, sysm = _resolve(preset, points, q_points, system, sampling, chem_seed, knob_seed)
    if conditions:
        unknown = sorted(set(conditions) - ({f.name for f in fields(Preset)} - {"name", "system"}))
        if unknown:
            raise ValueError(f"conditions: not measurement conditions of a preset: {', '.join(unknown)}")
        p = replace(p, **conditions)
    elements = sysm.elements
    m = len(elements)
    r_comp, r_width, r_thick, r_tex, r_bg, r_noise, r_sub = (np.random.default_rng(s) for s in seqs[:7])

    # --- compositions and the diagram -----------------------------------------------
    if p.sampling == "grid":
        comp = _grid_compositions(m, p.points, r_comp)
    else:
        comp = _random_compositions(m, p.points, r_comp)
    dia = build_diagram(sysm)
    if p.system == RANDOM:
        if p.sampling == "grid":
            comp = _jitter_grid(comp, np.random.default_rng(sample_seed))
        comp = _connected_sample(comp, dia)
    n = comp.shape[0]
    x = simplex_coordinates(comp)
    simplex, w = barycentric(dia, comp)
    verts = dia.simplices[simplex]  # (N, M)
    n_stable = len(sysm.stable)
    phase_frac = np.zeros((n, n_stable))
    far_w = np.zeros((n, n_stable))
    for j in range(m):
        v = verts[:, j]
        np.add.at(phase_frac, (np.arange(n), dia.vertex_phase[v]), w[:, j])
        far_w[np.arange(n), dia.vertex_phase[v]] += np.where(dia.vertex_far[v], w[:, j], 0.0)
    t_ss = np.divide(far_w, phase_frac, out=np.zeros_like(far_w), where=phase_frac > 0)
    deltas = np.array([sp.shift_sign * p.max_shift if sp.far is not None else 0.0 for sp in sysm.stable])
    stable_shift = 1.0 + t_ss * deltas

    # --- candidates --------------------------------------------------------------------
    stable_labels = [sp.label for sp in sysm.stable]
    distractors = list(sysm.distractors) if p.n_distractors is None else list(sysm.distractors[: p.n_distractors])
    substrate = sysm.substrate if p.substrate > 0 else None
    cand = stable_labels + distractors + ([substrate] if substrate else [])
    labels = sorted(cand)
    col = {lbl: i for i, lbl in enumerate(labels)}
    phases = PhaseLibrary([_phase(sysm, lbl) for lbl in labels], elements, source=f"drnets.synth {p.name} seed {seed}")
    n_p = len(labels)

    # --- per-phase widths, per-point intensity --------------------------------------
    jitter = (
        r_width.uniform(1.0 - p.width_jitter, 1.0 + p.width_jitter, size=n_p) if p.width_jitter > 0 else np.ones(n_p)
    )
    widths = np.outer(jitter, np.asarray(p.width, dtype=float))
    unit = float(p.snr) ** 2 if p.snr else 1.0  # counts of a full single-phase peak
    thick = 1.0 + p.thickness * _smooth_field(x, r_thick) if p.thickness > 0 else np.ones(n)

    amplitudes = np.zeros((n, n_p))
    shifts = np.full((n, n_p), np.nan)
    for i, lbl in enumerate(stable_labels):
        c = col[lbl]
        amplitudes[:, c] = unit * thick * phase_frac[:, i]
        shifts[:, c] = np.where(phase_frac[:, i] > 0, stable_shift[:, i], np.nan)
    if substrate:
        sub_field = 1.0 + 0.3 * _smooth_field(x, r_sub)
        amplitudes[:, col[substrate]] = unit * p.substrate * sub_field
        shifts[:, col[substrate]] = 1.0

    # --- texture factors ----------------------------------------------------------------
    texture: dict[str, np.ndarray] = {}
    if p.texture > 0:
        for sp in sysm.stable:
            ph = phases[sp.label]
            r = np.exp(p.texture * _smooth_field(x, r_tex))  # (N,)
            texture[sp.label] = _texture_factors(ph, sp.texture_axis, r)
    if substrate and p.substrate_texture > 0:
        texture[substrate] = _texture_factors(phases[substrate], (0, 0, 1), np.full(n, np.exp(-p.substrate_texture)))

    # --- rendering ------------------------------------------------------------------------
    q = np.linspace(p.q_range[0], p.q_range[1], p.q_points)
    clean = np.zeros((n, q.size))
    for lbl in labels:
        c = col[lbl]
        here = np.flatnonzero(amplitudes[:, c] > 0)
        if here.size == 0:
            continue
        ph = phases[lbl]
        s = np.nan_to_num(shifts[here, c], nan=1.0)
        tex = texture.get(lbl)
        heights = ph.intensity[None, :] * (tex[here] if tex is not None else 1.0)
        if np.all(s == s[0]) and tex is None:
            prof = np.broadcast_to(
                render_peaks(q, ph.q[None, :] * s[0], ph.intensity[None, :], widths[c], p.eta), (here.size, q.size)
            )
        else:
            prof = render_peaks(
                q, ph.q[None, :] * s[:, None], np.broadcast_to(heights, (here.size, ph.q.size)), widths[c], p.eta
            )
        clean[here] += amplitudes[here, c, None] * prof

    imp_label = sysm.impurity if p.impurity > 0 else None
    imp_amp = np.zeros(n)
    if imp_label:
        k = elements.index(sysm.impurity_element)
        imp_amp = unit * p.impurity * thick * np.clip((comp[:, k] - 0.4) / 0.6, 0.0, 1.0)
        imp = _phase(sysm, imp_label)
        imp_w = np.asarray(p.width, dtype=float) * 1.3
        clean += imp_amp[:, None] * render_peaks(q, imp.q[None, :], imp.intensity[None, :], imp_w, p.eta)

    background = np.zeros((n, q.size))
    if p.background > 0:
        u = (q - q[0]) / (q[-1] - q[0])
        f1 = 1.0 + 0.3 * _smooth_field(x, r_bg)
        f2 = 1.0 + 0.5 * _smooth_field(x, r_bg)
        decay = np.exp(-u / 0.25)
        hump = gaussian((q - (q[0] + 0.15 * (q[-1] - q[0]))) / (0.08 * (q[-1] - q[0])))
        shape = f1[:, None] * decay[None, :] + 0.6 * f2[:, None] * hump[None, :] + 0.3
        background = unit * p.background * thick[:, None] * shape / 1.3
        clean += background

    if p.snr:
        if p.noise == "poisson":
            patterns = r_noise.poisson(clean).astype(float)
        else:
            patterns = np.clip(clean + r_noise.normal(0.0, unit / p.snr, size=clean.shape), 0.0, None)
    else:
        patterns = clean.copy()

    total = amplitudes.sum(axis=1, keepdims=True)
    fractions = np.divide(amplitudes, total, out=np.zeros_like(amplitudes), where=total > 0)

    library = Library(elements, comp, q, patterns, source=f"drnets.synth {p.name} seed {seed}")
    meta = {
        "generator": "drnets.synth",
        "preset": p.name,
        "seed": int(seed),
        "system": sysm.name,
        "system_key": p.system,
        "elements": list(elements),
        "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items()},
        "labels": labels,
        "stable_phases": [
            {
                "label": sp.label,
                "host": sp.host,
                "far": sp.far,
                "delta": float(sp.shift_sign * p.max_shift) if sp.far is not None else 0.0,
                "texture_axis": list(sp.texture_axis),
            }
            for sp in sysm.stable
        ],
        "distractors": distractors,
        "substrate": substrate,
        "impurity": imp_label,
        "widths": {lbl: [float(a), float(b)] for lbl, (a, b) in zip(labels, widths)},
        "eta": p.eta,
        "unit_amplitude": unit,
        "tie_simplices": [sorted({stable_labels[dia.vertex_phase[v]] for v in s}) for s in dia.simplices],
        "conventions": {
            "fractions": "a_p / sum(a) over candidate phases; each phase profile has max 1 on the Q grid; "
            "the substrate counts as a phase, the impurity does not",
            "shifts": "multiplicative Q scale (1 = tabulated sticks); empty where the phase is absent",
            "peaks": "pseudo-Voigt, (1-eta)*Gaussian + eta*Lorentzian of equal FWHM; Gaussian sigma linear "
            "in Q between widths[0] at q_min and widths[1] at q_max, taken at the peak centre",
            "points": "0-based, in library order",
        },
    }
    if p.system == RANDOM:
        # The drawn system's phases that are in this library (candidates and impurity).
        shown = set(labels) | ({imp_label} if imp_label else set())
        meta["system_details"] = {"phases": {k: v for k, v in sysm.extra["phases"].items() if k in shown}}
        meta["points_dropped"] = int(p.points - n)
    truth = Truth(
        labels,
        fractions,
        shifts,
        amplitudes,
        widths,
        float(p.eta),
        texture,
        background,
        clean,
        imp_label,
        imp_amp,
        meta,
    )
    return Dataset(library, phases), truth


# --------------------------------------------------------------------------- writing


def _write_table(path: Path, labels: list[str], values: np.ndarray, fmt: str = "%.8g") -> None:
    from ..io import atomic_text

    with atomic_text(path) as fh:
        fh.write(",".join(["point", *labels]) + "\n")
        for i, row in enumerate(values):
            fh.write(",".join([str(i), *("" if not np.isfinite(v) else fmt % v for v in row)]) + "\n")


_README = """\
Ground truth of a drnets.synth library.

fractions.csv   point, then one column per candidate phase label: a_p / sum(a), where each
                phase's profile has maximum 1 on the Q grid and contributes a_p * profile_p.
                The substrate (if any) counts as a phase; the impurity does not.
shifts.csv      same layout: multiplicative Q scale (1 = tabulated sticks); empty where absent.
amplitudes.csv  same layout: a_p in the pattern's units (counts).
impurity.csv    point, <impurity label>: its peak height (only when the library has one;
                the impurity is not among the candidate phases).
meta.json       preset, seed, system, all parameters, peak widths, tie-simplices, conventions.
Points are 0-based, in library order.
"""


def write_synthetic(
    out_dir: str | os.PathLike[str],
    preset: str | Preset | None = None,
    *,
    points: int | None = None,
    q_points: int | None = None,
    seed: int = 0,
    system: str | None = None,
    sampling: str | None = None,
) -> list[Path]:
    """Generate a synthetic library and write it with its truth.

    Layout of ``out_dir``: ``instance.txt`` (Phase-Mapper instance text), ``sticks.csv``
    (candidate phases), ``library.h5`` (native file with the phases) and ``truth/``
    (``fractions.csv``, ``shifts.csv``, ``amplitudes.csv``, ``impurity.csv`` when there is
    an impurity, ``meta.json``, ``README.txt``). The same arguments give the same bytes.

    Parameters
    ----------
    out_dir : path-like
        The output folder (created if needed; files in it are replaced).
    preset, points, q_points, seed, system, sampling
        As for :func:`generate`.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..io import atomic_text, write_hdf5, write_instance, write_sticks_csv

    ds, truth = generate(preset, points=points, q_points=q_points, seed=seed, system=system, sampling=sampling)
    out = Path(out_dir)
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    written = [out / "instance.txt", out / "sticks.csv", out / "library.h5"]
    write_instance(ds.library, written[0])
    write_sticks_csv(ds.phases, written[1])
    write_hdf5(ds, written[2])
    _write_table(tdir / "fractions.csv", truth.labels, truth.fractions)
    _write_table(tdir / "shifts.csv", truth.labels, truth.shifts)
    _write_table(tdir / "amplitudes.csv", truth.labels, truth.amplitudes)
    written += [tdir / "fractions.csv", tdir / "shifts.csv", tdir / "amplitudes.csv"]
    if truth.impurity:
        _write_table(tdir / "impurity.csv", [truth.impurity], truth.impurity_amplitudes[:, None])
        written.append(tdir / "impurity.csv")
    with atomic_text(tdir / "meta.json") as fh:
        json.dump(truth.meta, fh, indent=1, sort_keys=False)
        fh.write("\n")
    with atomic_text(tdir / "README.txt") as fh:
        fh.write(_README)
    written += [tdir / "meta.json", tdir / "README.txt"]
    return written
