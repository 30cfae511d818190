import numpy as np
import pytest

from drnets.core import Dataset, InputError, Library, Phase, PhaseLibrary


def _lib(**kw):
    args = dict(
        elements=("A", "B"),
        compositions=np.array([[1.0, 0.0], [0.5, 0.5]]),
        q=np.linspace(10, 20, 5),
        patterns=np.ones((2, 5)),
    )
    args.update(kw)
    return Library(**args)


def test_library_valid():
    lib = _lib()
    assert lib.n_points == 2 and lib.n_elements == 2


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"q": np.array([10, 12, 11, 13, 14.0])}, "ascending"),
        ({"compositions": np.array([[1.0, 0.2], [0.5, 0.5]])}, "sums to"),
        ({"patterns": -np.ones((2, 5))}, "negative"),
        ({"patterns": np.full((2, 5), np.nan)}, "non-finite"),
        ({"patterns": np.ones((3, 5))}, "shape"),
        ({"compositions": np.zeros((0, 2)), "patterns": np.zeros((0, 5))}, "empty"),
        ({"q": np.linspace(-1, 20, 5)}, "Q: negative Q -1"),
        (
            {"patterns": np.full((2, 5), 1.7e308)},
            "patterns: intensity 1.7e\\+308 at point 0, Q index 0 is over 1e\\+100",
        ),
        ({"patterns": np.ones((2, 5)) + 1j}, "patterns: expected real numbers, got complex128 values"),
        ({"q": np.array(["a", "b", "c", "d", "e"])}, "Q: expected real numbers"),
    ],
)
def test_library_rejects(kw, message):
    with pytest.raises(InputError, match=message):
        _lib(**kw)


def test_phase_library_duplicate_and_substrate():
    p1 = Phase("a", "FeO", [10.0, 12.0], [0.5, 2.0])
    assert p1.intensity.max() == 1.0
    sub = Phase("s", "SnO2", [11.0], [1.0])
    lib = PhaseLibrary([p1, sub], ("Fe", "Al"))
    assert lib.is_substrate.tolist() == [False, True]
    assert lib.index("s") == 1
    with pytest.raises(InputError, match="duplicate"):
        PhaseLibrary([p1, p1], ("Fe", "Al"))


def test_foreign_cations_need_a_substrate_declaration():
    fe, cufe = Phase("a", "FeO", [10.0], [1.0]), Phase("c", "CuFe2O4", [11.0], [1.0])
    with pytest.raises(InputError, match="phase 'c': formula 'CuFe2O4' holds Cu, outside the system Fe-Al"):
        PhaseLibrary([fe, cufe], ("Fe", "Al"))
    lib = PhaseLibrary([fe, cufe], ("Fe", "Al"), substrates=["c"])
    assert lib.is_substrate.tolist() == [False, True] and lib.warnings == []
    assert lib.subset([1]).substrates == ("c",)
    with pytest.raises(InputError, match="substrates: substrate 'x' is not a phase label"):
        PhaseLibrary([fe], ("Fe", "Al"), substrates=["x"])


def test_dataset_refuses_an_empty_mask_and_clamps_max_phases():
    lib = _lib(elements=("Fe", "Al"))
    ph = PhaseLibrary([Phase("a", "FeO", [12.0], [1.0]), Phase("s", "SnO2", [14.0], [1.0])], ("Fe", "Al"))
    with pytest.raises(InputError, match="mask: the mask allows no phase at any point"):
        Dataset(lib, ph, mask=np.zeros((2, 2)))
    ds = Dataset(lib, ph, max_phases=np.array([1, 7]))
    assert ds.max_phases.tolist() == [1, 2]
    assert ds.warnings == [
        "max_phases above the number of phases (2) at 1 of 2 points (up to 7): taken as 2",
        ph.warnings[0],
    ]
    with pytest.raises(InputError, match="max_phases 1e\\+300 is not a number of phases"):
        Dataset(lib, ph, max_phases=np.array([1, 1e300]))
