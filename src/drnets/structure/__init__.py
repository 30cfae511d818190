"""Structure derived from a library: its composition graph and per-point physical limits."""

from ._graph import adjacency_lists, composition_graph, edges_from_adjacency
from ._rules import allowed_mask, gibbs_limits

__all__ = [
    "adjacency_lists",
    "allowed_mask",
    "composition_graph",
    "edges_from_adjacency",
    "gibbs_limits",
]
