"""The at-a-glance summary of a dataset that ``drnets info`` prints."""

from __future__ import annotations

import numpy as np

from .core import Dataset
from .structure import allowed_mask, composition_graph, gibbs_limits


def summarize(ds: Dataset) -> dict:
    """Facts a scientist checks before solving: sizes, ranges, graph and limits."""
    lib = ds.library
    independent = bool(getattr(ds, "independent", False))
    edges = np.zeros((0, 2), dtype=int) if independent else composition_graph(lib.compositions)
    degree = np.bincount(edges.ravel(), minlength=lib.n_points) if len(edges) else np.zeros(lib.n_points, int)
    limits = ds.max_phases if ds.max_phases is not None else gibbs_limits(lib.compositions)
    steps = np.diff(lib.q)
    out = {
        "source": lib.source,
        "points": lib.n_points,
        "elements": list(lib.elements),
        "composition_range": {
            e: [float(lib.compositions[:, k].min()), float(lib.compositions[:, k].max())]
            for k, e in enumerate(lib.elements)
            if not independent  # a placeholder there, not a composition
        },
        "q_points": int(lib.q.size),
        "q_min": float(lib.q[0]),
        "q_max": float(lib.q[-1]),
        "q_step": float(np.median(steps)),
        "q_step_uniform": bool(np.allclose(steps, steps[0], rtol=1e-3)),
        "intensity_max": float(lib.patterns.max()),
        "graph_edges": int(len(edges)),
        "graph_degree": [int(degree.min()), int(degree.max())],
        "points_per_gibbs_limit": {int(k): int(v) for k, v in zip(*np.unique(limits, return_counts=True))},
        "metadata": sorted(lib.metadata),
    }
    if independent:
        out["independent_samples"] = True
    if lib.wavelength is not None:
        out["wavelength"] = lib.wavelength.describe()
    if ds.phases is not None:
        mask = allowed_mask(lib, ds.phases, override=ds.mask)
        out["phases"] = len(ds.phases)
        out["phases_allowed_somewhere"] = int(mask.any(axis=0).sum())
        out["substrate_phases"] = [p.label for p, s in zip(ds.phases, ds.phases.is_substrate) if s]
        out["mask"] = "user-supplied" if ds.mask is not None else "element rule"
    if ds.solution is not None:
        out["solution"] = {
            "active_phases": int(len(ds.solution.active())),
            **{k: v for k, v in ds.solution.metadata.items() if k in ("version", "seed", "device", "wall_time_s")},
        }
    return out
