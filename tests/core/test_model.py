import numpy as np
import pytest

from drnets.core import InputError, Library, Phase, PhaseLibrary


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
