"""Structure derived from a library: its composition graph, per-point physical limits and simplex geometry."""

from ._graph import adjacency_lists, composition_graph, edges_from_adjacency
from ._rules import allowed_mask, gibbs_limits
from ._simplex import simplex_basis, simplex_coordinates

__all__ = [
    "adjacency_lists",
    "allowed_mask",
    "composition_graph",
    "edges_from_adjacency",
    "gibbs_limits",
    "simplex_basis",
    "simplex_coordinates",
]
