"""Structure derived from a library: its composition graph, per-point physical limits and simplex geometry."""

from ._graph import adjacency_lists, composition_graph, edges_from_adjacency
from ._regions import (
    alloying_breaks,
    broken_regions,
    components,
    composition_distance,
    extra_components,
    gibbs_excess,
    outside_main_region,
    phase_fields,
    pinned_edges,
    relative_jump,
    system_phase_count,
)
from ._rules import allowed_mask, gibbs_limits
from ._simplex import simplex_basis, simplex_coordinates
from ._tiles import spatial_tiles, tile_halo

__all__ = [
    "alloying_breaks",
    "broken_regions",
    "components",
    "composition_distance",
    "extra_components",
    "gibbs_excess",
    "outside_main_region",
    "phase_fields",
    "pinned_edges",
    "relative_jump",
    "system_phase_count",
    "adjacency_lists",
    "allowed_mask",
    "composition_graph",
    "edges_from_adjacency",
    "gibbs_limits",
    "simplex_basis",
    "simplex_coordinates",
    "spatial_tiles",
    "tile_halo",
]
