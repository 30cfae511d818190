"""Exact rule audit of a final answer: Gibbs, alloying, connectivity and composition rules.

The solver enforces these rules softly while it searches; this module counts, exactly and
on the thresholded answer, how many times each rule is broken and where.

Rules
-----
gibbs
    A point may hold at most ``max_phases[i]`` phases (fraction above ``threshold``);
    substrate phases (no system element; known when phase compositions are given) do
    not count.
alloying
    Along a composition-graph edge, a phase present at both ends may change its shift
    (relative difference above ``shift_tol``) only if it has a degree of freedom left,
    i.e. not when both points already hold their full phase count (``max_phases``) and
    have the same number of elements present (a point on a lower-order face of the
    composition simplex pins the phase's composition differently) and the same phase set
    (across a phase-field boundary the composition of a phase may jump).
    Counted per edge (an edge with several alloying phases counts once).
connectivity
    Each phase's points, and the points of each phase field (an exact set of two or more
    coexisting phases), should form one connected region of the composition graph; every
    extra connected component counts as one violation.
composition
    A point's composition must lie in the cone (equivalently, for compositions on the
    simplex, the convex hull) of its present phases' cation compositions, within
    ``composition_tol`` (Euclidean distance of the non-negative least-squares fit).
    Substrate phases (no system element) are ignored; points holding none of the system's
    phases are not checked.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.optimize import nnls
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..core.constants import AUDIT_THRESHOLD, COMPOSITION_TOLERANCE, RULES, SHIFT_TOLERANCE


def _components(points: np.ndarray, edges: np.ndarray, n_points: int) -> int:
    """Number of connected components of the subgraph induced by ``points``."""
    if points.size == 0:
        return 0
    inside = np.zeros(n_points, dtype=bool)
    inside[points] = True
    if edges.size:
        keep = inside[edges[:, 0]] & inside[edges[:, 1]]
        e = edges[keep]
    else:
        e = np.zeros((0, 2), dtype=int)
    local = -np.ones(n_points, dtype=int)
    local[points] = np.arange(points.size)
    k = points.size
    g = coo_matrix((np.ones(len(e)), (local[e[:, 0]], local[e[:, 1]])), shape=(k, k))
    n, _ = connected_components(g, directed=False)
    return int(n)


def audit(
    solution_fractions: np.ndarray,
    shifts: np.ndarray | None,
    compositions: np.ndarray,
    edges: np.ndarray | None,
    max_phases: np.ndarray | None,
    phase_compositions: np.ndarray | None,
    *,
    threshold: float = AUDIT_THRESHOLD,
    shift_tol: float = SHIFT_TOLERANCE,
    composition_tol: float = COMPOSITION_TOLERANCE,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Count rule violations of a phase-mapping answer exactly.

    Parameters
    ----------
    solution_fractions : ndarray of shape (N, P)
        Phase fractions per point.
    shifts : ndarray of shape (N, P), optional
        Multiplicative shifts (NaN where absent); without them the alloying rule is skipped.
    compositions : ndarray of shape (N, M)
        Element fractions per point.
    edges : ndarray of shape (E, 2), optional
        Composition graph; computed with :func:`drnets.structure.composition_graph` if None.
    max_phases : ndarray of shape (N,), optional
        Gibbs limit per point; :func:`drnets.structure.gibbs_limits` if None.
    phase_compositions : ndarray of shape (P, M), optional
        Cation fractions per phase (zero rows = substrate); without them the
        composition rule is skipped.
    threshold : float
        Fraction above which a phase counts as present.
    shift_tol : float
        Relative shift difference above which a shared phase counts as alloying.
    composition_tol : float
        Distance from the present phases' cone above which a point breaks the composition rule.
    labels : sequence of str, optional
        Phase labels, used in the per-rule lists (phase indices otherwise).

    Returns
    -------
    dict
        JSON-ready: ``gibbs_violations``, ``alloying_violations``,
        ``connectivity_violations``, ``composition_violations`` and ``total_violations``
        (ints); ``gibbs_points``, ``alloying_edges`` (``[i, j, [phases]]``),
        ``connectivity_regions`` (``{"phases", "components", "points"}`` per broken
        phase or phase field), ``composition_points`` (``{"point", "phases", "distance"}``);
        and the settings used (``threshold``, ``shift_tol``, ``composition_tol``,
        ``points``, ``checked``: which rules could be checked).
    """
    frac = np.asarray(solution_fractions, dtype=float)
    n, p = frac.shape
    comp = np.asarray(compositions, dtype=float)
    if comp.shape[0] != n:
        raise ValueError(f"compositions have {comp.shape[0]} rows, fractions {n}")
    if edges is None:
        from ..structure import composition_graph

        edges = composition_graph(comp)
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    if max_phases is None:
        from ..structure import gibbs_limits

        max_phases = gibbs_limits(comp)
    maxp = np.broadcast_to(np.asarray(max_phases, dtype=int), (n,))
    names: list[Any] = list(labels) if labels is not None else list(range(p))
    if len(names) != p:
        raise ValueError(f"{len(names)} labels for {p} phases")

    present = frac > threshold
    count = present.sum(axis=1)
    checked = {"gibbs": True, "alloying": shifts is not None, "connectivity": True,
               "composition": phase_compositions is not None}

    # Gibbs: a substrate (no system element) is not part of the system's equilibrium.
    chem = present
    if phase_compositions is not None:
        chem = present & (np.asarray(phase_compositions, dtype=float).sum(axis=1) > 0)[None, :]
    gibbs_points = np.flatnonzero(chem.sum(axis=1) > maxp)

    # Alloying.
    alloying_edges: list[list[Any]] = []
    if shifts is not None and edges.size:
        sh = np.asarray(shifts, dtype=float)
        i, j = edges[:, 0], edges[:, 1]
        ccount = chem.sum(axis=1)  # a substrate is not part of the count, as in Gibbs
        # Both points at their full count, and with the same elements present: a point on a
        # lower-order face (an element absent) fixes the phase's composition differently.
        full = (ccount[i] >= maxp[i]) & (ccount[j] >= maxp[j]) & (maxp[i] == maxp[j])
        # ... and in the same phase field: an edge across a field boundary may jump.
        full &= (present[i] == present[j]).all(axis=1)
        both = present[i] & present[j]
        si, sj = sh[i], sh[j]
        ok = np.isfinite(si) & np.isfinite(sj)
        denom = np.where(ok, 0.5 * (np.abs(si) + np.abs(sj)), 1.0)
        denom = np.where(denom > 0, denom, 1.0)
        rel = np.where(ok, np.abs(np.where(ok, si - sj, 0.0)) / denom, 0.0)
        moved = both & ok & (rel > shift_tol) & full[:, None]
        for e in np.flatnonzero(moved.any(axis=1)):
            alloying_edges.append([int(i[e]), int(j[e]), [names[k] for k in np.flatnonzero(moved[e])]])

    # Connectivity: each phase, then each phase field of two or more phases.
    regions: list[dict[str, Any]] = []
    conn = 0
    for k in range(p):
        pts = np.flatnonzero(present[:, k])
        c = _components(pts, edges, n)
        if c > 1:
            conn += c - 1
            regions.append({"phases": [names[k]], "components": c, "points": pts.tolist()})
    multi = np.flatnonzero(count >= 2)
    if multi.size:
        sets, inverse = np.unique(present[multi], axis=0, return_inverse=True)
        inverse = inverse.ravel()
        for s in range(len(sets)):
            pts = multi[inverse == s]
            c = _components(pts, edges, n)
            if c > 1:
                conn += c - 1
                regions.append({"phases": [names[k] for k in np.flatnonzero(sets[s])], "components": c,
                                "points": pts.tolist()})

    # Composition.
    comp_points: list[dict[str, Any]] = []
    if phase_compositions is not None:
        pc = np.asarray(phase_compositions, dtype=float)
        if pc.shape != (p, comp.shape[1]):
            raise ValueError(f"phase compositions have shape {pc.shape}, expected ({p}, {comp.shape[1]})")
        real = pc.sum(axis=1) > 0
        for pt in range(n):
            use = present[pt] & real
            if not use.any():
                continue
            a = pc[use].T  # (M, k)
            _, dist = nnls(a, comp[pt])
            if dist > composition_tol:
                comp_points.append({"point": pt, "phases": [names[k] for k in np.flatnonzero(use)],
                                    "distance": float(dist)})

    out: dict[str, Any] = {
        "gibbs_violations": int(gibbs_points.size),
        "alloying_violations": len(alloying_edges),
        "connectivity_violations": int(conn),
        "composition_violations": len(comp_points),
    }
    out["total_violations"] = int(sum(out.values()))
    out.update(
        gibbs_points=[int(v) for v in gibbs_points],
        alloying_edges=alloying_edges,
        connectivity_regions=regions,
        composition_points=comp_points,
        threshold=float(threshold),
        shift_tol=float(shift_tol),
        composition_tol=float(composition_tol),
        points=int(n),
        phases_used=int(present.any(axis=0).sum()),
        checked=checked,
    )
    return out


def audit_solution(solution, library, phases=None, **kwargs: Any) -> dict[str, Any]:
    """:func:`audit` of a :class:`~drnets.core.Solution` against its library and phases.

    Uses the solution's own ``edges`` and ``max_phases`` when it has them, else derives
    them from the library; ``phases`` (a PhaseLibrary aligned with the solution's labels)
    enables the composition rule. Keyword arguments go to :func:`audit`.
    """
    pc = None
    if phases is not None:
        if list(phases.labels) != list(solution.labels):
            pc = np.stack([phases.compositions[phases.index(lbl)] for lbl in solution.labels])
        else:
            pc = phases.compositions
    kwargs.setdefault("labels", solution.labels)
    return audit(
        solution.fractions,
        solution.shifts,
        library.compositions,
        solution.edges,
        solution.max_phases,
        pc,
        **kwargs,
    )


def audit_summary(result: dict[str, Any]) -> dict[str, int]:
    """Just the violation counts of an :func:`audit` result."""
    return {f"{r}_violations": int(result.get(f"{r}_violations", 0)) for r in RULES} | {
        "total_violations": int(result.get("total_violations", 0))
    }
