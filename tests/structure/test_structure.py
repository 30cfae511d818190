import numpy as np
import pytest

from drnets.structure import (
    allowed_mask,
    composition_graph,
    edges_from_adjacency,
    gibbs_limits,
    simplex_basis,
    simplex_coordinates,
)
from tests.conftest import shared_path


def test_graph_matches_drnets_edges(alfe_instance):
    ours = {tuple(e) for e in composition_graph(alfe_instance.library.compositions)}
    ref = {tuple(e) for e in edges_from_adjacency(np.load(shared_path("al-li-fe", "drnets", "edges.npy")))}
    assert ours == ref


def test_gibbs_and_mask_match_drnets(alfe_instance):
    lib, ph = alfe_instance.library, alfe_instance.phases
    dof = np.load(shared_path("al-li-fe", "drnets", "degree_of_freedom.npy"))
    np.testing.assert_array_equal(gibbs_limits(lib.compositions), dof)
    ours = allowed_mask(lib, ph)
    ref = np.load(shared_path("al-li-fe", "drnets", "sample_indicator.npy")) > 0
    # DRNets' mask is the element rule plus the 6 true phases everywhere (186 entries).
    assert not (ours & ~ref).any()
    assert (ref & ~ours).sum() == 186


def test_graph_degenerate_cases():
    line = np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0.25, 0.75, 0]], float)
    e = composition_graph(line)
    assert {tuple(x) for x in e} == {(0, 1), (1, 3), (2, 3)}
    dup = np.array([[1, 0], [1, 0], [0, 1]], float)
    e = composition_graph(dup)
    assert (0, 1) in {tuple(x) for x in e} and len(e) == 3
    quaternary = np.random.default_rng(0).dirichlet(np.ones(4), size=40)
    e = composition_graph(quaternary)
    deg = np.bincount(e.ravel(), minlength=40)
    assert deg.min() >= 3  # every point is in a tetrahedron


def test_substrate_allowed_everywhere(bicuv_instance):
    m = allowed_mask(bicuv_instance.library, bicuv_instance.phases)
    sub = bicuv_instance.phases.is_substrate
    assert sub.sum() == 1 and m[:, sub].all()


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_simplex_basis_is_a_regular_simplex(m):
    basis = simplex_basis(m)
    assert basis.shape == (m, m - 1)
    np.testing.assert_allclose(basis.T @ basis, np.eye(m - 1), atol=1e-12)  # orthonormal columns
    np.testing.assert_allclose(basis.sum(axis=0), 0.0, atol=1e-12)  # centred on the origin
    # Pure elements land on the corners of a regular simplex with edges sqrt(2) ...
    corners = simplex_coordinates(np.eye(m))
    d = np.linalg.norm(corners[:, None] - corners[None], axis=2)
    np.testing.assert_allclose(d[~np.eye(m, dtype=bool)], np.sqrt(2.0))
    # ... and distances between compositions are kept.
    c = np.random.default_rng(m).dirichlet(np.ones(m), size=20)
    x = simplex_coordinates(c)
    np.testing.assert_allclose(
        np.linalg.norm(x[:, None] - x[None], axis=2), np.linalg.norm(c[:, None] - c[None], axis=2), atol=1e-12
    )


def test_simplex_coordinates_with_drawn_corners():
    triangle = np.array([[0.5, np.sqrt(3.0) / 2.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(simplex_coordinates(np.eye(3), triangle), triangle)
    np.testing.assert_allclose(simplex_coordinates(np.full((1, 3), 1 / 3), triangle), [triangle.mean(axis=0)])
