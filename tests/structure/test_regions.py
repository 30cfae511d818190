"""The rules on an answer, on hand-made graphs whose answers are known."""

import numpy as np

from drnets.structure import (
    alloying_breaks,
    broken_regions,
    components,
    composition_distance,
    extra_components,
    gibbs_excess,
    outside_main_region,
    pinned_edges,
)

# A path 0-1-2-3-4-5.
PATH = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])


def test_components_and_islands_on_a_path():
    lab = components(np.array([0, 1, 3, 4, 5]), PATH, 6)
    assert lab[0] == lab[1] and lab[2] == lab[3] == lab[4] and lab[0] != lab[2]
    # The larger piece is the main region; the other is the island.
    assert outside_main_region(np.array([0, 1, 3, 4, 5]), PATH, 6).tolist() == [0, 1]
    assert outside_main_region(np.array([2, 3]), PATH, 6).size == 0
    assert components(np.zeros(0, int), PATH, 6).size == 0


def test_broken_regions_counts_phases_and_fields():
    present = np.zeros((6, 2), bool)
    present[[0, 1, 4, 5], 0] = True  # phase 0 in two pieces
    present[[0, 5], 1] = True  # phase 1 and field {0, 1} in two pieces each
    regions = broken_regions(present, PATH)
    assert extra_components(present, PATH) == 3
    assert sorted(tuple(r["phases"]) for r in regions) == [(0,), (0, 1), (1,)]


def test_gibbs_excess_ignores_substrates():
    present = np.array([[1, 1, 1], [1, 0, 1]], bool)
    substrate = np.array([False, False, True])
    assert gibbs_excess(present, np.array([1, 1]), substrate).tolist() == [1, 0]
    assert gibbs_excess(present, np.array([1, 1]), None).tolist() == [2, 1]


def test_alloying_only_inside_a_full_phase_field():
    edges = np.array([[0, 1], [1, 2]])
    present = np.array([[1, 1], [1, 1], [1, 0]], bool)
    limits = np.array([2, 2, 2])
    assert pinned_edges(present, edges, limits, None).tolist() == [True, False]
    shifts = np.array([[1.00, 1.0], [1.03, 1.0], [1.06, np.nan]])
    moved = alloying_breaks(present, shifts, edges, limits, None, 0.01)
    # Edge 0-1: phase 0 jumps 3 % with no degree of freedom: broken. Edge 1-2 crosses a
    # field boundary: the phase may change there.
    assert moved.tolist() == [[True, False], [False, False]]
    assert not alloying_breaks(present, shifts, edges, limits, None, 0.05).any()


def test_composition_distance_is_zero_inside_the_cone():
    phases = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert composition_distance(np.array([0.3, 0.7]), phases) < 1e-12
    assert composition_distance(np.array([0.3, 0.7]), phases[:1]) > 0.6


def test_points_without_neighbours_break_no_region():
    """Independent samples (no edges at all) hold phases at many points without a broken region; a point
    without neighbours beside a connected library is no island either."""
    present = np.ones((4, 2), bool)
    none = np.zeros((0, 2), int)
    assert extra_components(present, none) == 0 and broken_regions(present, none) == []
    assert outside_main_region(np.arange(4), none, 4).size == 0
    # Points 0-1 and 3-4 joined, point 2 alone: phase 0 at 0, 2, 4 is still two pieces (0 and 4), not three.
    edges = np.array([[0, 1], [3, 4]])
    present = np.zeros((5, 1), bool)
    present[[0, 2, 4], 0] = True
    assert extra_components(present, edges) == 1
    assert outside_main_region(np.array([0, 2, 4]), edges, 5).tolist() == [4]
