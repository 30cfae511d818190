"""Spatial tiles of a library and their halos."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.structure import adjacency_lists, composition_graph, spatial_tiles, tile_halo


def _ternary(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(3), size=n)


@pytest.mark.parametrize("n_tiles, cap", [(1, None), (4, None), (3, 10), (2, 1)])
def test_tiles_cover_every_point_once_and_respect_the_cap(n_tiles, cap):
    comp = _ternary(57)
    tiles = spatial_tiles(comp, n_tiles, cap)
    allp = np.concatenate(tiles)
    assert np.array_equal(np.sort(allp), np.arange(57))
    assert len(tiles) >= n_tiles
    if cap is not None:
        assert max(t.size for t in tiles) <= cap
    assert all(np.array_equal(t, np.sort(t)) for t in tiles)
    # deterministic
    again = spatial_tiles(comp, n_tiles, cap)
    assert all(np.array_equal(a, b) for a, b in zip(tiles, again))


def test_tiles_are_regions_of_composition_space():
    # two tiles of a line of compositions are its two halves, whatever the points' order
    x = np.linspace(0, 1, 20)
    order = np.random.default_rng(1).permutation(20)
    comp = np.stack([x, 1 - x], 1)[order]
    a, b = spatial_tiles(comp, 2)
    assert {tuple(sorted(x[order][a] < 0.5)), tuple(sorted(x[order][b] < 0.5))} == {(False,) * 10, (True,) * 10}


def test_halo_is_the_neighbours_outside_the_tile():
    comp = _ternary(40, seed=2)
    nbrs = adjacency_lists(composition_graph(comp), 40)
    for t in spatial_tiles(comp, 4):
        h = tile_halo(t, nbrs)
        assert not set(h) & set(t)
        expected = {int(j) for i in t for j in nbrs[i]} - set(t.tolist())
        assert set(h.tolist()) == expected
