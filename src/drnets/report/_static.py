"""Matplotlib figures of a solution (PNG): phase map, fraction and shift maps, path heat map, one point."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.spatial import Delaunay, QhullError

from ._layout import hex_to_rgb, plane_coordinates

#: Above this many points the phase map colours by dominant phase instead of drawing pies.
PIE_LIMIT = 600


class _Map:
    """A composition map: mpltern for ternaries, plain axes on plane coordinates otherwise."""

    def __init__(self, fig: Figure, spec, elements: Sequence[str]):
        self.ternary = len(elements) == 3
        if self.ternary:
            import mpltern  # noqa: F401  (registers the projection)

            self.ax = fig.add_subplot(spec, projection="ternary")
            self.ax.set_tlabel(elements[0])
            self.ax.set_llabel(elements[1])
            self.ax.set_rlabel(elements[2])
            self.ax.grid(alpha=0.3)
        else:
            self.ax = fig.add_subplot(spec)
            self.ax.set_aspect("equal" if len(elements) > 2 else "auto")
            self.ax.set_xlabel(elements[-1] if len(elements) == 2 else "simplex coordinate 1")
            if len(elements) > 2:
                self.ax.set_ylabel("simplex coordinate 2")
            else:
                self.ax.set_yticks([])

    def _args(self, comp: np.ndarray):
        if self.ternary:
            return comp[:, 0], comp[:, 1], comp[:, 2]
        xy = plane_coordinates(comp)
        return xy[:, 0], xy[:, 1]

    def scatter(self, comp: np.ndarray, **kw):
        return self.ax.scatter(*self._args(comp), **kw)

    def fill(self, comp: np.ndarray, **kw):
        return self.ax.fill(*self._args(comp), **kw)


def _wedge_marker(a0: float, a1: float, steps: int = 24) -> np.ndarray:
    t = np.linspace(a0, a1, max(3, int(steps * (a1 - a0) / (2 * np.pi)) + 2))
    return np.vstack([[0.0, 0.0], np.column_stack([np.cos(t), np.sin(t)]), [0.0, 0.0]])


def _triangles(comp: np.ndarray) -> np.ndarray:
    xy = plane_coordinates(comp)
    if comp.shape[1] != 3 or len(comp) < 3:
        return np.zeros((0, 3), dtype=int)
    try:
        return Delaunay(xy).simplices
    except QhullError:
        try:
            return Delaunay(xy, qhull_options="QJ").simplices
        except QhullError:
            return np.zeros((0, 3), dtype=int)


def phase_map(
    path: Path,
    elements: Sequence[str],
    compositions: np.ndarray,
    fractions: np.ndarray,
    labels: Sequence[str],
    colors: dict[str, str],
    *,
    threshold: float = 1e-3,
    title: str = "phase map",
    pies: bool | None = None,
) -> Path:
    """Pie glyph (or dominant-phase colour) per point over phase-field shading."""
    f = np.nan_to_num(np.asarray(fractions, dtype=float))
    present = f > threshold
    active = np.flatnonzero(present.any(axis=0))
    pies = len(f) <= PIE_LIMIT if pies is None else pies
    fig = Figure(figsize=(8.5, 7.0), dpi=110)
    m = _Map(fig, 111, elements)
    # Phase-field shading: triangles whose three corners share a phase set, in the mean colour.
    for tri in _triangles(compositions):
        sets = present[tri]
        if not (sets[0] == sets[1]).all() or not (sets[0] == sets[2]).all() or not sets[0].any():
            continue
        rgb = np.mean([hex_to_rgb(colors[labels[k]]) for k in np.flatnonzero(sets[0])], axis=0)
        m.fill(compositions[tri], facecolor=rgb, alpha=0.22, edgecolor="none", zorder=0)
    size = float(np.clip(9000.0 / max(len(f), 1), 18.0, 160.0))
    if pies:
        for i in range(len(f)):
            ks = np.flatnonzero(present[i])
            if ks.size == 0:
                m.scatter(compositions[i : i + 1], s=size, facecolor="white", edgecolor="0.5", lw=0.5, zorder=3)
                continue
            share = f[i, ks] / f[i, ks].sum()
            a = np.pi / 2
            for k, s in zip(ks, share):
                verts = _wedge_marker(a, a + 2 * np.pi * s)
                m.scatter(compositions[i : i + 1], marker=verts, s=size, color=colors[labels[k]], lw=0, zorder=3)
                a += 2 * np.pi * s
    else:
        dom = np.argmax(f, axis=1)
        none = ~present.any(axis=1)
        cols = [colors[labels[k]] if not none[i] else "white" for i, k in enumerate(dom)]
        m.scatter(compositions, s=size * 0.6, c=cols, edgecolor="0.3", lw=0.3, zorder=3)
    handles = [Patch(color=colors[labels[k]], label=labels[k]) for k in active]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.suptitle(title + (" (pie: phase fractions)" if pies else " (colour: dominant phase)"))
    fig.subplots_adjust(bottom=0.08 + 0.03 * ((len(active) + 1) // 2), top=0.88)
    fig.savefig(path)
    return path


def value_maps(
    path: Path,
    elements: Sequence[str],
    compositions: np.ndarray,
    values: np.ndarray,
    labels: Sequence[str],
    phases: Sequence[int],
    *,
    present: np.ndarray,
    what: str,
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
    colors: dict[str, str] | None = None,
) -> Path:
    """One small map per phase of a per-point value (fraction or shift); absent points greyed."""
    phases = list(phases)
    n = max(len(phases), 1)
    ncol = min(3, n)
    nrow = (n + ncol - 1) // ncol
    fig = Figure(figsize=(4.2 * ncol, 3.9 * nrow), dpi=100)
    size = float(np.clip(4000.0 / max(len(compositions), 1), 6.0, 80.0))
    for j, k in enumerate(phases):
        m = _Map(fig, (nrow, ncol, j + 1), elements)
        on = present[:, k]
        m.scatter(compositions[~on], s=size * 0.4, c="0.85", lw=0, zorder=1)
        v = values[on, k]
        if on.any():
            lo = vmin if vmin is not None else float(np.nanmin(v))
            hi = vmax if vmax is not None else float(np.nanmax(v))
            if hi - lo < 1e-9:
                lo, hi = lo - 0.005, hi + 0.005
            sc = m.scatter(compositions[on], s=size, c=v, cmap=cmap, vmin=lo, vmax=hi, lw=0, zorder=2)
            cb = fig.colorbar(sc, ax=m.ax, shrink=0.6, pad=0.12)
            cb.ax.tick_params(labelsize=7)
        title = labels[k] if len(labels[k]) <= 34 else labels[k][:32] + "…"
        m.ax.set_title(title, fontsize=8, color=(colors or {}).get(labels[k], "black"), pad=18)
        m.ax.tick_params(labelsize=6)
    if not phases:
        fig.text(0.5, 0.5, "no phase present", ha="center")
    fig.suptitle(what)
    fig.subplots_adjust(hspace=0.55, wspace=0.45, top=0.86 if nrow == 1 else 0.9)
    fig.savefig(path)
    return path


def path_heatmap(
    path: Path,
    q: np.ndarray,
    patterns: np.ndarray,
    order: np.ndarray,
    sticks: list[tuple[int, int, np.ndarray, np.ndarray]],
    labels: Sequence[str],
    colors: dict[str, str],
) -> Path:
    """Patterns (sqrt scale) along the library path with the solution's shifted sticks on top.

    ``sticks`` holds (row in ``order``, phase, positions, relative heights) tuples.
    """
    img = np.sqrt(np.clip(patterns[order], 0, None))
    fig = Figure(figsize=(10, 6.5), dpi=100)
    ax = fig.add_subplot(111)
    ax.imshow(img, aspect="auto", origin="lower", cmap="Greys", extent=(q[0], q[-1], -0.5, len(order) - 0.5),
              interpolation="nearest")
    used: set[int] = set()
    by_phase: dict[int, tuple[list, list, list]] = {}
    for row, k, pos, h in sticks:
        xs, ys, ss = by_phase.setdefault(k, ([], [], []))
        xs.extend(pos)
        ys.extend([row] * len(pos))
        ss.extend(4 + 16 * h)
    for k, (xs, ys, ss) in by_phase.items():
        ax.scatter(xs, ys, s=ss, marker="|", color=colors[labels[k]], lw=1.0, alpha=0.85)
        used.add(k)
    ax.set_xlim(q[0], q[-1])
    ax.set_xlabel("Q (nm⁻¹)")
    ax.set_ylabel("position along the library path")
    handles = [Line2D([], [], color=colors[labels[k]], marker="|", ls="none", markersize=10, label=labels[k])
               for k in sorted(used)]
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.8)
    ax.set_title("patterns along a path through the library (√ intensity) with fitted sticks")
    fig.tight_layout()
    fig.savefig(path)
    return path


def point_figure(
    path: Path,
    q: np.ndarray,
    measured: np.ndarray,
    reconstruction: np.ndarray,
    contributions: dict[int, np.ndarray],
    sticks: dict[int, tuple[np.ndarray, np.ndarray]],
    labels: Sequence[str],
    colors: dict[str, str],
    title: str,
) -> Path:
    """One point: measured, reconstruction, each phase's contribution, residual and sticks."""
    fig = Figure(figsize=(10, 5.5), dpi=100)
    ax = fig.add_subplot(111)
    top = max(float(measured.max(initial=0)), float(reconstruction.max(initial=0)), 1e-12)
    ax.plot(q, measured, color="black", lw=1.2, label="measured")
    ax.plot(q, reconstruction, color="crimson", lw=1.0, ls="--", label="reconstruction")
    for k, c in contributions.items():
        ax.fill_between(q, 0, c, color=colors[labels[k]], alpha=0.35, lw=0, label=labels[k])
    off = -0.25 * top
    ax.plot(q, measured - reconstruction + off, color="0.4", lw=0.8, label="residual (offset)")
    for k, (pos, h) in sticks.items():
        ax.vlines(pos, off * 2.0, off * 2.0 + 0.2 * top * h, color=colors[labels[k]], lw=1.2)
    ax.set_xlabel("Q (nm⁻¹)")
    ax.set_ylabel("intensity")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    return path
