"""Structure derived from a library: its composition graph and per-point physical limits."""

from ._graph import adjacency_lists, composition_graph, edges_from_adjacency
from ._rules import PRESENCE_THRESHOLD, allowed_mask, gibbs_limits

__all__ = [
    "PRESENCE_THRESHOLD",
    "adjacency_lists",
    "allowed_mask",
    "composition_graph",
    "edges_from_adjacency",
    "gibbs_limits",
]
