"""Matplotlib figures of a solution (PNG): phase map, fraction and shift maps, path heat map, one point."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.spatial import Delaunay, QhullError, cKDTree

from ..core.constants import PHASE_THRESHOLD
from ._layout import hex_to_rgb, plane_coordinates, project_view, tetra_coordinates, tetra_vertices

#: Above this many points the phase map colours by dominant phase instead of drawing pies.
PIE_LIMIT = 600


def short_label(label: str, width: int = 34) -> str:
    """A phase label cut to ``width`` characters (with an ellipsis)."""
    return label if len(label) <= width else label[: width - 1] + "…"


def _nearest_spacing(xy: np.ndarray) -> float:
    """Median nearest-neighbour distance of 2-D points (1 when undefined)."""
    if len(xy) < 2:
        return 1.0
    d, _ = cKDTree(xy).query(xy, k=2)
    d = d[:, 1]
    d = d[d > 1e-12]
    return float(np.median(d)) if d.size else 1.0


class _Map:
    """A composition map: mpltern for ternaries, a projected tetrahedron for quaternaries,
    plain axes on plane coordinates otherwise."""

    def __init__(self, fig: Figure, spec, elements: Sequence[str], *, fontsize: float = 11, ticks: bool = True):
        self.m = len(elements)
        self.ternary = self.m == 3
        self.tetra = self.m == 4
        spec = tuple(spec) if isinstance(spec, (tuple, list)) else (spec,)
        if self.ternary:
            import mpltern  # noqa: F401  (registers the projection)

            self.ax = fig.add_subplot(*spec, projection="ternary")
            for axis, lab in ((self.ax.taxis, elements[0]), (self.ax.laxis, elements[1]), (self.ax.raxis, elements[2])):
                axis.set_label_position("corner")
                axis.set_label_rotation_mode("horizontal")
                axis.set_label_text(lab)
                axis.label.set_fontsize(fontsize)
                axis.label.set_fontweight("bold")
            self.ax.grid(alpha=0.25)
            if not ticks:  # grid lines only (small multiples: faster, less clutter)
                for axis in (self.ax.taxis, self.ax.laxis, self.ax.raxis):
                    axis.set_tick_params(label1On=False, label2On=False)
            self.ax.tick_params(labelsize=max(6, fontsize - 4))
        elif self.tetra:
            self.ax = fig.add_subplot(*spec)
            self.ax.set_aspect("equal")
            self.ax.set_axis_off()
            vd = project_view(tetra_vertices(), depth=True)
            v = vd[:, :2]
            hidden = int(np.argmax(vd[:, 2]))  # the corner farthest from the viewer: its edges dotted
            for a in range(4):
                for b in range(a + 1, 4):
                    ls = ":" if hidden in (a, b) else "-"
                    self.ax.plot(v[[a, b], 0], v[[a, b], 1], color="0.35", lw=0.9, ls=ls, zorder=1)
            centre = v.mean(axis=0)
            for a in range(4):
                d = v[a] - centre
                d = d / max(np.linalg.norm(d), 1e-9)
                self.ax.text(
                    *(v[a] + 0.07 * d), elements[a], ha="center", va="center", fontsize=fontsize, fontweight="bold"
                )
            pad = 0.14
            self.ax.set_xlim(v[:, 0].min() - pad, v[:, 0].max() + pad)
            self.ax.set_ylim(v[:, 1].min() - pad, v[:, 1].max() + pad)
        else:
            self.ax = fig.add_subplot(*spec)
            self.ax.set_aspect("equal" if self.m > 2 else "auto")
            self.ax.set_xlabel(elements[-1] if self.m == 2 else "simplex coordinate 1")
            if self.m > 2:
                self.ax.set_ylabel("simplex coordinate 2")
            else:
                self.ax.set_yticks([])

    def xy(self, comp: np.ndarray) -> np.ndarray:
        """2-D positions in the map's own layout (side-1 triangle or projected tetrahedron)."""
        if self.tetra:
            return project_view(tetra_coordinates(comp))
        return plane_coordinates(comp)

    def _args(self, comp: np.ndarray):
        comp = np.asarray(comp, dtype=float)
        if self.ternary:
            return comp[:, 0], comp[:, 1], comp[:, 2]
        xy = self.xy(comp)
        return xy[:, 0], xy[:, 1]

    def scatter(self, comp: np.ndarray, **kw):
        return self.ax.scatter(*self._args(comp), **kw)

    def fill(self, comp: np.ndarray, **kw):
        return self.ax.fill(*self._args(comp), **kw)

    def plot(self, comp: np.ndarray, *a, **kw):
        return self.ax.plot(*self._args(comp), *a, **kw)

    def points_per_unit(self, fig: Figure) -> float:
        """Typographic points per unit of map distance (approximate, from the axes box)."""
        bb = self.ax.get_position()
        w_in, h_in = bb.width * fig.get_figwidth(), bb.height * fig.get_figheight()
        if self.ternary:
            return 72.0 * min(w_in, h_in / (np.sqrt(3) / 2))
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        return 72.0 * min(w_in / max(x1 - x0, 1e-9), h_in / max(y1 - y0, 1e-9))

    def marker_area(
        self, fig: Figure, comp: np.ndarray, fill: float = 0.8, lo: float = 4.0, hi: float = 400.0
    ) -> float:
        """A scatter size (points²) whose diameter is ``fill`` × the typical point spacing."""
        d = _nearest_spacing(self.xy(comp)) * self.points_per_unit(fig) * fill
        return float(np.clip(d * d, lo, hi))


def _wedge_marker(a0: float, a1: float, steps: int = 36) -> np.ndarray:
    t = np.linspace(a0, a1, max(3, int(steps * (a1 - a0) / (2 * np.pi)) + 2))
    return np.vstack([[0.0, 0.0], np.column_stack([np.cos(t), np.sin(t)]), [0.0, 0.0]])


def _triangles(comp: np.ndarray) -> np.ndarray:
    """Delaunay triangles of a ternary library, without long triangles across gaps or the hull."""
    if comp.shape[1] != 3 or len(comp) < 3:
        return np.zeros((0, 3), dtype=int)
    xy = plane_coordinates(comp)
    tri = None
    for opts in (None, "QJ"):
        try:
            tri = Delaunay(xy, qhull_options=opts).simplices
            break
        except QhullError:
            continue
    if tri is None:
        return np.zeros((0, 3), dtype=int)
    p = xy[tri]
    edge = np.max(np.linalg.norm(p - np.roll(p, 1, axis=1), axis=2), axis=1)
    return tri[edge <= 2.5 * _nearest_spacing(xy)]


def region_cells(comp: np.ndarray, present: np.ndarray):
    """Phase regions of a ternary library as polygons in composition space.

    Each point owns a quarter-kite of every Delaunay triangle it is a corner of (corner, edge
    midpoints, centroid). Returns ``cells`` as a dict of phase-set tuple to a list of (4, 3)
    polygons, and ``borders``, the (2, 3) segments between points with different phase sets.
    """
    cells: dict[tuple[int, ...], list[np.ndarray]] = {}
    borders: list[np.ndarray] = []
    for tri in _triangles(comp):
        g = comp[tri].mean(axis=0)
        for j in range(3):
            a, b, c = tri[j], tri[(j + 1) % 3], tri[(j + 2) % 3]
            mab, mac = (comp[a] + comp[b]) / 2, (comp[a] + comp[c]) / 2
            ks = tuple(int(k) for k in np.flatnonzero(present[a]))
            if ks:
                cells.setdefault(ks, []).append(np.stack([comp[a], mab, g, mac]))
            if not np.array_equal(present[a], present[b]):
                borders.append(np.stack([mab, g]))
    return cells, borders


def set_color(ks, labels: Sequence[str], colors: dict[str, str]) -> tuple[float, float, float]:
    """The mean colour of a phase set (RGB in 0-1)."""
    return tuple(np.mean([hex_to_rgb(colors[labels[k]]) for k in ks], axis=0))


def _shade_regions(m: _Map, comp: np.ndarray, present: np.ndarray, labels, colors) -> None:
    """Shade each point's cells in the mean colour of its phase set and draw the borders
    between points with different phase sets (the phase-region borders)."""
    cells, borders = region_cells(comp, present)
    for ks, polys in cells.items():
        col = set_color(ks, labels, colors)
        for poly in polys:
            m.fill(poly, facecolor=col, alpha=0.3, edgecolor="none", zorder=0)
    if borders:
        nan = np.full((1, comp.shape[1]), np.nan)
        m.plot(np.concatenate([np.vstack([b, nan]) for b in borders]), color="0.25", lw=0.8, zorder=1)


def _legend_rows(fig: Figure, handles: list, ncol: int, fontsize: float = 8) -> float:
    """Put a legend under the axes; returns the figure fraction it takes."""
    if not handles:
        return 0.0
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=ncol,
        fontsize=fontsize,
        frameon=False,
        bbox_to_anchor=(0.5, 0.005),
        columnspacing=1.2,
        handlelength=1.4,
    )
    rows = (len(handles) + ncol - 1) // ncol
    return (rows * fontsize * 1.55 + 10) / (72.0 * fig.get_figheight())


def phase_map(
    path: Path,
    elements: Sequence[str],
    compositions: np.ndarray,
    fractions: np.ndarray,
    labels: Sequence[str],
    colors: dict[str, str],
    *,
    threshold: float = PHASE_THRESHOLD,
    title: str = "phase map",
    pies: bool | None = None,
) -> Path:
    """Pie glyph (or dominant-phase colour) per point over phase-region shading."""
    comp = np.asarray(compositions, dtype=float)
    f = np.nan_to_num(np.asarray(fractions, dtype=float))
    present = f > threshold
    order = np.argsort(-f.sum(axis=0), kind="stable")
    active = [int(k) for k in order if present[:, k].any()]
    pies = len(f) <= PIE_LIMIT if pies is None else pies
    ncol = 2 if max((len(labels[k]) for k in active), default=0) > 22 else 3
    n_rows = (len(active) + ncol - 1) // ncol
    fig = Figure(figsize=(8.0, 7.4 + 0.22 * n_rows), dpi=120)
    m = _Map(fig, 111, elements)
    legend_h = _legend_rows(fig, [Patch(color=colors[labels[k]], label=labels[k]) for k in active], ncol)
    fig.subplots_adjust(left=0.1, right=0.9, bottom=legend_h + 0.08, top=0.85)
    if m.ternary:
        _shade_regions(m, comp, present, labels, colors)
    size = m.marker_area(fig, comp, fill=0.66 if not m.tetra else 0.5)
    if m.ternary:  # tick labels clear of the pies that overhang the triangle's sides
        m.ax.tick_params(pad=0.5 * np.sqrt(size) + 3)
    # Far points first (quaternary view), so nearer pies are drawn on top.
    seq = np.argsort(-project_view(tetra_coordinates(comp), depth=True)[:, 2]) if m.tetra else np.arange(len(f))
    z0 = {int(i): 3 + n / max(len(f), 1) for n, i in enumerate(seq)}
    if pies:
        for i in seq:
            ks = np.flatnonzero(present[i])
            if ks.size == 0:
                m.scatter(
                    comp[i : i + 1],
                    s=size * 0.5,
                    facecolor="white",
                    edgecolor="0.5",
                    lw=0.5,
                    zorder=z0[i],
                    clip_on=False,
                )
                continue
            share = f[i, ks] / f[i, ks].sum()
            a = np.pi / 2
            for k, s in zip(ks, share):
                if ks.size == 1:
                    m.scatter(
                        comp[i : i + 1],
                        marker="o",
                        s=size,
                        color=colors[labels[k]],
                        edgecolor="white",
                        lw=0.4,
                        zorder=z0[i],
                        clip_on=False,
                    )
                else:
                    m.scatter(
                        comp[i : i + 1],
                        marker=_wedge_marker(a, a + 2 * np.pi * s),
                        s=size,
                        color=colors[labels[k]],
                        edgecolor="white",
                        lw=0.3,
                        zorder=z0[i],
                        clip_on=False,
                    )
                a += 2 * np.pi * s
    else:
        dom = np.argmax(f, axis=1)
        none = ~present.any(axis=1)
        cols = [colors[labels[k]] if not none[i] else "white" for i, k in enumerate(dom)]
        m.scatter(comp, s=size, c=cols, edgecolor="0.3", lw=0.3, zorder=3)
    sub = "pie: phase fractions" if pies else "colour: dominant phase"
    if m.ternary:
        sub += "; shading: phase regions, lines: their borders"
    elif m.tetra:
        sub += "; tetrahedron seen from one side, far edges dotted; rotatable in report.html"
    fig.suptitle(f"{title}\n", fontsize=13, y=0.985)
    fig.text(0.5, 0.94, f"({sub})", ha="center", va="center", fontsize=9, color="0.3")
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
    centre: float | None = None,
) -> Path:
    """One small map per phase of a per-point value (fraction or shift); absent points greyed.

    With ``vmin`` and ``vmax`` all panels share one colour bar; otherwise each panel has
    its own (symmetric about ``centre`` when given).
    """
    comp = np.asarray(compositions, dtype=float)
    phases = list(phases)
    n = max(len(phases), 1)
    ncol = min(3, n)
    nrow = (n + ncol - 1) // ncol
    shared = vmin is not None and vmax is not None
    pw, ph = (4.2, 3.7) if len(elements) != 4 else (4.2, 3.3)
    cb_w = 1.3 if shared else 0.0
    fig = Figure(figsize=(pw * ncol + cb_w, ph * nrow + 0.6), dpi=100)
    top = 1.0 - 0.95 / fig.get_figheight()
    right = 1.0 - (cb_w / fig.get_figwidth() if shared else 0.02)
    gs = fig.add_gridspec(nrow, ncol, left=0.05, right=right, bottom=0.04, top=top, hspace=0.38, wspace=0.45)
    sc = None
    for j, k in enumerate(phases):
        m = _Map(fig, (gs[j // ncol, j % ncol],), elements, fontsize=10, ticks=False)
        m.ax.tick_params(labelsize=6)
        on = present[:, k] & np.isfinite(values[:, k])
        cax = None
        if not shared and present[:, k].any():
            from matplotlib.colorbar import make_axes

            cax, _ = make_axes(m.ax, shrink=0.62, pad=0.1, aspect=18)
        size = m.marker_area(fig, comp, fill=0.75, hi=120.0)
        m.scatter(comp[~on], s=size * 0.25, c="0.8", lw=0, zorder=1, clip_on=False)
        v = values[on, k]
        if on.any():
            if shared:
                lo, hi = vmin, vmax
            else:
                lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
                if centre is not None:
                    r = max(abs(lo - centre), abs(hi - centre), 5e-4)
                    lo, hi = centre - r, centre + r
                elif hi - lo < 1e-9:
                    lo, hi = lo - 0.005, hi + 0.005
            sc = m.scatter(
                comp[on], s=size, c=v, cmap=cmap, vmin=lo, vmax=hi, edgecolor="0.35", lw=0.3, zorder=2, clip_on=False
            )
            if cax is not None:
                cb = fig.colorbar(sc, cax=cax)
                cb.ax.tick_params(labelsize=6)
                cb.formatter.set_useOffset(False)
                cb.update_ticks()
        m.ax.set_title(
            short_label(labels[k], 40),
            fontsize=9,
            color=(colors or {}).get(labels[k], "black"),
            pad=16 if m.ternary else 4,
            fontweight="bold",
        )
    if not phases:
        fig.text(0.5, 0.5, "no phase present", ha="center")
    if shared and sc is not None:
        cax = fig.add_axes([1.0 - 0.8 / fig.get_figwidth(), 0.25, 0.18 / fig.get_figwidth(), 0.5])
        cb = fig.colorbar(sc, cax=cax)
        cb.ax.tick_params(labelsize=8)
    fig.suptitle(what, fontsize=13, y=1.0 - 0.12 / fig.get_figheight(), va="top")
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
    used = sorted({k for _, k, _, _ in sticks})
    ncol = 2 if max((len(labels[k]) for k in used), default=0) > 24 else 3
    fig = Figure(figsize=(10.5, 7.0 + 0.2 * ((len(used) + ncol - 1) // ncol)), dpi=100)
    ax = fig.add_subplot(111)
    ax.imshow(
        img,
        aspect="auto",
        origin="lower",
        cmap="Greys",
        extent=(q[0], q[-1], -0.5, len(order) - 0.5),
        interpolation="nearest",
        vmin=0,
        vmax=float(img.max()) or 1.0,
    )
    by_phase: dict[int, tuple[list, list, list]] = {}
    for row, k, pos, h in sticks:
        xs, ys, ss = by_phase.setdefault(k, ([], [], []))
        xs.extend(pos)
        ys.extend([row] * len(pos))
        ss.extend(3 + 14 * np.asarray(h))
    for k, (xs, ys, ss) in sorted(by_phase.items()):
        ax.scatter(xs, ys, s=ss, marker="|", color=colors[labels[k]], lw=0.9, alpha=0.8)
    ax.set_xlim(q[0], q[-1])
    ax.set_ylim(-0.5, len(order) - 0.5)
    ax.set_xlabel("Q (nm⁻¹)")
    ax.set_ylabel("row along the library path")
    handles = [
        Line2D([], [], color=colors[labels[k]], marker="|", ls="none", markersize=12, mew=2, label=labels[k])
        for k in used
    ]
    legend_h = _legend_rows(fig, handles, ncol)
    ax.set_title("patterns along a path through the library (√ intensity) with the fitted sticks", fontsize=11)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.94, bottom=legend_h + 0.09)
    fig.savefig(path)
    return path


def stick_layout(measured: np.ndarray, reconstruction: np.ndarray) -> tuple[float, float, float, float]:
    """(top, residual offset, stick base, stick height) of a point plot, so nothing overlaps:
    the residual sits below zero and the sticks below the residual's lowest value."""
    top = max(float(np.max(measured, initial=0)), float(np.max(reconstruction, initial=0)), 1e-12)
    res = np.asarray(measured, dtype=float) - np.asarray(reconstruction, dtype=float)
    rmax = float(np.max(res, initial=0.0))
    rmin = float(np.min(res, initial=0.0))
    off = -0.06 * top - max(rmax, 0.02 * top)
    base = off + rmin - 0.06 * top - 0.2 * top
    return top, off, base, 0.2 * top


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
    fig = Figure(figsize=(10, 6.0), dpi=100)
    ax = fig.add_subplot(111)
    top, off, base, sh = stick_layout(measured, reconstruction)
    handles = []
    for k, c in contributions.items():
        ax.fill_between(q, 0, c, color=colors[labels[k]], alpha=0.35, lw=0)
        handles.append(Patch(color=colors[labels[k]], alpha=0.6, label=labels[k] + " (contribution, sticks)"))
    ax.plot(q, measured, color="black", lw=1.2)
    ax.plot(q, reconstruction, color="crimson", lw=1.0, ls="--")
    ax.axhline(off, color="0.8", lw=0.6)
    ax.plot(q, measured - reconstruction + off, color="0.35", lw=0.8)
    for k, (pos, h) in sticks.items():
        ax.vlines(pos, base, base + sh * np.asarray(h), color=colors[labels[k]], lw=1.3)
    ax.axhline(base, color="0.8", lw=0.6)
    handles = [
        Line2D([], [], color="black", lw=1.2, label="measured"),
        Line2D([], [], color="crimson", lw=1.0, ls="--", label="reconstruction"),
        Line2D([], [], color="0.35", lw=0.8, label="residual (offset)"),
    ] + handles
    ax.set_xlabel("Q (nm⁻¹)")
    ax.set_ylabel("intensity")
    ax.set_ylim(base - 0.04 * top, 1.06 * top)
    ax.set_xlim(q[0], q[-1])
    ax.set_title(title, fontsize=10)
    legend_h = _legend_rows(fig, handles, 2)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=legend_h + 0.1)
    fig.savefig(path)
    return path
