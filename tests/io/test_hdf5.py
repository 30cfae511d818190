import h5py
import numpy as np
import pytest

from drnets.core import Dataset, InputError, Library, Phase, PhaseLibrary, Solution
from drnets.io import load, read_drnets, read_hdf5, save, write_hdf5
from tests.conftest import shared_path


def _same_library(a, b):
    assert a.elements == b.elements
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.patterns, b.patterns)
    np.testing.assert_allclose(a.compositions, b.compositions, rtol=0, atol=1e-15)
    assert list(a.metadata) == list(b.metadata)
    for k in a.metadata:
        assert a.metadata[k].dtype.kind == b.metadata[k].dtype.kind
        np.testing.assert_array_equal(a.metadata[k], b.metadata[k])


def _same_phases(a, b):
    assert a.labels == b.labels and a.elements == b.elements
    for p, r in zip(a, b):
        assert p.formula == r.formula and p.cell == r.cell and p.space_group == r.space_group
        np.testing.assert_array_equal(p.q, r.q)
        np.testing.assert_array_equal(p.intensity, r.intensity)
        assert (p.hkl is None) == (r.hkl is None)
        if p.hkl is not None:
            np.testing.assert_array_equal(p.hkl, r.hkl)


def test_alfe_round_trip(tmp_path, alfe_instance):
    drn = read_drnets(shared_path("al-li-fe", "drnets"))
    ds = Dataset(alfe_instance.library, alfe_instance.phases, drn.mask, drn.max_phases)
    write_hdf5(ds, tmp_path / "a.h5")
    back = read_hdf5(tmp_path / "a.h5")
    _same_library(ds.library, back.library)
    _same_phases(ds.phases, back.phases)
    np.testing.assert_array_equal(back.mask, ds.mask)
    np.testing.assert_array_equal(back.max_phases, ds.max_phases)
    assert back.solution is None and back.library.source == str(tmp_path / "a.h5")
    assert load(tmp_path / "a.h5").library.n_points == 231


def _small():
    lib = Library(
        ("Fe", "Ni"),
        [[1, 0], [0.5, 0.5], [0, 1]],
        [10.0, 10.5, 11.0],
        np.arange(9.0).reshape(3, 3),
        metadata={
            "x": np.array([0.1, 0.2, 0.3]),
            "file": np.array(["a", "bé", "c"]),
            "flag": np.array([True, False, True]),
            "odd/key": np.array([1, 2, 3]),
        },
    )
    ph = PhaseLibrary(
        [
            Phase(
                "FeO_1",
                "FeO",
                [10.2, 12.0],
                [1.0, 0.5],
                hkl=[[1, 1, 1], [2, 0, 0]],
                cell=(4.3, 4.3, 4.3, 90, 90, 90),
                space_group="Fm-3m",
            ),
            Phase("NiO_2", "NiO", [10.4], [2.0]),
        ],
        ("Fe", "Ni"),
    )
    nan = np.nan
    sol = Solution(
        labels=ph.labels,
        fractions=np.array([[1, 0], [0.4, 0.6], [0, 1.0]]),
        shifts=np.array([[1.01, nan], [0.99, 1.0], [nan, 1.002]]),
        amplitudes=np.array([[3.0, 0], [1, 2], [0, 5]]),
        widths=np.array([[0.2, 0.3], [0.25, 0.25]]),
        reconstruction=np.ones((3, 3)),
        residuals=np.array([0.01, 0.02, nan]),
        evidence=np.array([[5.0, 0], [0.5, 30.0], [0, 2.0]]),
        max_phases=np.array([1, 2, 1]),
        mask=np.array([[1, 0], [1, 1], [0, 1]], dtype=bool),
        edges=np.array([[0, 1], [1, 2]]),
        audit={"gibbs_violations": 0, "ok": True, "per_point": [1, 2, 1]},
        metadata={"seed": 7, "device": "cpu", "wall_s": 1.5, "params": {"lr": 0.01, "nan": nan}},
    )
    return Dataset(lib, ph, np.array([[1, 0], [1, 1], [0, 1]], bool), np.array([1, 2, 1]), sol)


def test_small_solution_round_trip(tmp_path):
    ds = _small()
    save(ds, tmp_path / "s.hdf5")
    back = read_hdf5(tmp_path / "s.hdf5")
    _same_library(ds.library, back.library)
    _same_phases(ds.phases, back.phases)
    a, b = ds.solution, back.solution
    assert a.labels == b.labels
    for name in (
        "fractions",
        "shifts",
        "amplitudes",
        "widths",
        "reconstruction",
        "residuals",
        "evidence",
        "max_phases",
        "mask",
        "edges",
    ):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y)  # NaN in the same places
    assert b.audit == a.audit
    assert b.metadata["params"]["lr"] == 0.01 and np.isnan(b.metadata["params"]["nan"]) and b.metadata["seed"] == 7


def test_save_by_extension(tmp_path, alfe_instance):
    ds = _small()
    written = save(ds, tmp_path / "lib.txt")
    assert [p.name for p in written] == ["lib.txt", "lib_sticks.csv"]
    back = load(tmp_path / "lib.txt", phases=tmp_path / "lib_sticks.csv")
    assert back.phases.labels == ds.phases.labels
    written = save(ds, tmp_path / "out_drnets")
    assert (tmp_path / "out_drnets" / "sticks_lib.npy") in written
    np.testing.assert_array_equal(load(tmp_path / "out_drnets").mask, ds.mask)
    (tmp_path / "existing").mkdir()
    save(ds, tmp_path / "existing")
    assert (tmp_path / "existing" / "XRD.npy").exists()
    with pytest.raises(InputError, match="cannot tell the output format"):
        save(ds, tmp_path / "x.json")


def test_hdf5_errors(tmp_path):
    p = tmp_path / "x.h5"
    p.write_text("not hdf5")
    with pytest.raises(InputError, match="not an HDF5 file"):
        read_hdf5(p)
    with h5py.File(p, "w") as f:
        f.attrs["x"] = 1
    with pytest.raises(InputError, match="not a drnets HDF5 file"):
        read_hdf5(p)
    write_hdf5(_small(), p)
    with h5py.File(p, "a") as f:
        del f["library/q"]
    with pytest.raises(InputError, match="x.h5: /library: malformed"):
        read_hdf5(p)
    write_hdf5(_small(), p)
    with h5py.File(p, "a") as f:
        f["library/patterns"][0, 0] = -1
    with pytest.raises(InputError, match="negative intensity"):
        read_hdf5(p)
