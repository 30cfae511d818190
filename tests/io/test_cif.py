import sys

import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import read_cif_folder, read_phases

pytest.importorskip("pymatgen")


@pytest.fixture(scope="module")
def cif_folder(tmp_path_factory):
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    folder = tmp_path_factory.mktemp("cifs")
    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.212), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    CifWriter(mgo).write_file(folder / "MgO_rocksalt.cif")
    zno = Structure.from_spacegroup(
        "P6_3mc", Lattice.hexagonal(3.25, 5.21), ["Zn", "O"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.382]]
    )
    CifWriter(zno).write_file(folder / "ZnO_wurtzite.cif")
    return folder


def test_rock_salt(cif_folder):
    ph = read_cif_folder(cif_folder, ("Mg", "Zn"))
    assert ph.labels == ["MgO_rocksalt", "ZnO_wurtzite"]
    mgo = ph["MgO_rocksalt"]
    assert mgo.formula == "MgO" and mgo.space_group == "Fm-3m"
    assert mgo.cell == pytest.approx((4.212, 4.212, 4.212, 90, 90, 90))
    # (111) at Q = 2π√3/a, (200) at 4π/a, in nm⁻¹; (200) is the strongest
    assert mgo.q[0] == pytest.approx(2 * np.pi * np.sqrt(3) / 4.212 * 10, rel=1e-6)
    assert mgo.q[1] == pytest.approx(4 * np.pi / 4.212 * 10, rel=1e-6)
    assert sorted(abs(mgo.hkl[1])) == [0, 0, 2] and mgo.intensity[1] == 1.0
    np.testing.assert_allclose(ph.compositions, [[1, 0], [0, 1]])
    assert ph["ZnO_wurtzite"].hkl.shape[1] == 3


def test_q_range_and_wavelength(cif_folder):
    ph = read_cif_folder(cif_folder, ("Mg", "Zn"), q_range=(20, 40))
    assert all(20 - 1e-6 <= p.q.min() and p.q.max() <= 40 + 1e-6 for p in ph)
    ph2 = read_cif_folder(cif_folder, ("Mg", "Zn"), wavelength=0.7293, q_range=(20, 40))
    np.testing.assert_allclose(ph2["MgO_rocksalt"].q, ph["MgO_rocksalt"].q, rtol=1e-6)
    assert read_phases(cif_folder, ["Mg", "Zn"], q_range=(20, 40)).labels == ph.labels


def test_cif_errors(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no .cif files"):
        read_cif_folder(tmp_path, ("Mg",))
    (tmp_path / "bad.cif").write_text("this is not a cif\n")
    with pytest.raises(InputError, match="bad.cif: cannot read CIF"):
        read_cif_folder(tmp_path, ("Mg",))
    monkeypatch.setitem(sys.modules, "pymatgen.io.cif", None)
    with pytest.raises(InputError, match=r"needs pymatgen: pip install 'drnets\[cif\]'"):
        read_cif_folder(tmp_path, ("Mg",))


def test_conversions_are_cached_by_content_outside_the_input_folder(cif_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("DRNETS_CACHE_DIR", str(tmp_path / "cache"))
    before = sorted(p.name for p in cif_folder.iterdir())
    first = read_cif_folder(cif_folder, ("Mg", "Zn"), wavelength=1.5406)
    entries = sorted((tmp_path / "cache").glob("*.npz"))
    assert len(entries) == 2 and sorted(p.name for p in cif_folder.iterdir()) == before
    mgo = first["MgO_rocksalt"]
    # 4 formula units of MgO per conventional cell; the absolute intensity of the strongest reflection
    assert mgo.cell_mass == pytest.approx(4 * 40.304, rel=1e-3) and mgo.intensity_scale > 0
    # a second read comes from the cache: pymatgen is not even needed
    monkeypatch.setitem(sys.modules, "pymatgen.io.cif", None)
    again = read_cif_folder(cif_folder, ("Mg", "Zn"), wavelength=1.5406)
    for a, b in zip(first, again):
        assert np.array_equal(a.q, b.q) and np.array_equal(a.intensity, b.intensity) and a.cell == b.cell
        assert (a.cell_mass, a.intensity_scale, a.space_group) == (b.cell_mass, b.intensity_scale, b.space_group)
    # another wavelength is another entry (Lorentz-polarisation changes the intensities)
    monkeypatch.delitem(sys.modules, "pymatgen.io.cif")
    mo = read_cif_folder(cif_folder, ("Mg", "Zn"), wavelength=0.7093)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 4
    assert not np.allclose(mo["ZnO_wurtzite"].intensity[:3], first["ZnO_wurtzite"].intensity[:3])
