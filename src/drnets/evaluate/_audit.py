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

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.constants import AUDIT_THRESHOLD, COMPOSITION_TOLERANCE, RULES, SHIFT_TOLERANCE
from ..structure import alloying_breaks, broken_regions, composition_distance, gibbs_excess


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
    checked = {
        "gibbs": True,
        "alloying": shifts is not None,
        "connectivity": True,
        "composition": phase_compositions is not None,
    }
    # A substrate (no system element) is not part of the system's equilibrium.
    substrate = None
    if phase_compositions is not None:
        substrate = ~(np.asarray(phase_compositions, dtype=float).sum(axis=1) > 0)
    gibbs_points = np.flatnonzero(gibbs_excess(present, maxp, substrate) > 0)

    alloying_edges: list[list[Any]] = []
    if shifts is not None and edges.size:
        moved = alloying_breaks(present, np.asarray(shifts, dtype=float), edges, maxp, substrate, shift_tol)
        for e in np.flatnonzero(moved.any(axis=1)):
            alloying_edges.append([int(edges[e, 0]), int(edges[e, 1]), [names[k] for k in np.flatnonzero(moved[e])]])

    regions = [
        {
            "phases": [names[k] for k in r["phases"]],
            "components": int(r["components"]),
            "points": np.asarray(r["points"]).tolist(),
        }
        for r in broken_regions(present, edges)
    ]
    conn = sum(r["components"] - 1 for r in regions)

    comp_points: list[dict[str, Any]] = []
    if phase_compositions is not None:
        pc = np.asarray(phase_compositions, dtype=float)
        if pc.shape != (p, comp.shape[1]):
            raise ValueError(f"phase compositions have shape {pc.shape}, expected ({p}, {comp.shape[1]})")
        for pt in range(n):
            use = present[pt] & ~substrate
            if not use.any():
                continue
            dist = composition_distance(comp[pt], pc[use])
            if dist > composition_tol:
                comp_points.append(
                    {"point": pt, "phases": [names[k] for k in np.flatnonzero(use)], "distance": float(dist)}
                )

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
