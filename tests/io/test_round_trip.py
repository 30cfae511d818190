"""Every writer round-trips through its reader: save then load gives the same library and phases."""

import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import load, read_drnets, save, write_drnets
from drnets.synth import generate


@pytest.fixture(scope="module")
def small():
    ds, _ = generate("hard", points=12, q_points=150, seed=3)  # "hard" has an SnO2 substrate
    return ds


# output name, how to load it back, tolerance of the written numbers (relative, sticks absolute)
FORMATS = {
    "hdf5": ("lib.h5", lambda p: load(p), 0.0, 0.0),
    "instance text + sticks CSV": ("lib.txt", lambda p: load(p, phases=p.with_name("lib_sticks.csv")), 1e-7, 1e-6),
    "DRNets folder": ("lib_drnets", lambda p: load(p), 1e-6, 1e-5),  # float32, as DRNets stores them
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_save_then_load_gives_the_same(tmp_path, small, fmt):
    name, read, rtol, stick_atol = FORMATS[fmt]
    save(small, tmp_path / name)
    back = read(tmp_path / name)
    a, b = small.library, back.library
    assert b.elements == a.elements
    np.testing.assert_allclose(b.q, a.q, rtol=rtol)
    np.testing.assert_allclose(b.patterns, a.patterns, rtol=rtol, atol=rtol * a.patterns.max())
    np.testing.assert_allclose(b.compositions, a.compositions, rtol=0, atol=1e-9)
    assert back.phases.labels == small.phases.labels
    assert [p.formula for p in back.phases] == [p.formula for p in small.phases]
    np.testing.assert_array_equal(back.phases.is_substrate, small.phases.is_substrate)
    np.testing.assert_allclose(back.phases.compositions, small.phases.compositions, atol=1e-12)
    for p, r in zip(small.phases, back.phases):
        np.testing.assert_allclose(r.q, p.q, rtol=rtol, atol=stick_atol)
        np.testing.assert_allclose(r.intensity, p.intensity, atol=max(stick_atol, 1e-7))


def test_drnets_folder_without_formulas_names_the_fix(tmp_path, small):
    """A folder written before bases_formula.npy: a label that starts with no formula is refused clearly."""
    write_drnets(small, tmp_path / "d")
    (tmp_path / "d" / "bases_formula.npy").unlink()
    with pytest.raises(InputError) as err:
        read_drnets(tmp_path / "d")
    assert str(err.value) == (
        f"{tmp_path / 'd' / 'bases_name.npy'}: phase 'gamma-Al2O3_spinel': cannot parse formula 'gamma-Al2O3' at "
        "'gamma-Al2O3' (without bases_formula.npy a formula is the phase name up to its first '_')"
    )


def test_declared_substrates_round_trip(tmp_path, small):
    from drnets.core import Dataset, PhaseLibrary

    ph = small.phases
    declared = PhaseLibrary(ph.phases, ph.elements, ph.source, substrates=["SnO2_rutile", "MgO_rocksalt"])
    ds = Dataset(small.library, declared)
    for name, read in (("a.h5", load), ("a.txt", lambda p: load(p, phases=p.with_name("a_sticks.csv")))):
        save(ds, tmp_path / name)
        assert read(tmp_path / name).phases.substrates == ("MgO_rocksalt", "SnO2_rutile")
    save(ds, tmp_path / "a_drnets")  # the DRNets layout keeps a substrate with system elements (zero bases_comp)
    back = load(tmp_path / "a_drnets")
    assert back.phases.substrates == ("MgO_rocksalt",)
    note = (
        "phase 'MgO_rocksalt': its bases_comp row is zero although its formula holds system elements: taken for "
        "a declared substrate, allowed at every point"
    )
    assert note in back.warnings
    assert note not in load(tmp_path / "a_drnets", substrates=["MgO_rocksalt"]).warnings
