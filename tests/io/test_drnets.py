import os
import pickle

import numpy as np
import numpy.lib.format as npformat
import pytest

from drnets.core import InputError
from drnets.io import load, read_drnets, write_drnets
from tests.conftest import shared_path


def test_drnets_folder_matches_instance_and_sticks(alfe_instance):
    ds = read_drnets(shared_path("al-li-fe", "drnets"))
    ref = alfe_instance
    assert ds.library.elements == ref.library.elements  # from ../instance.txt
    np.testing.assert_allclose(ds.library.q, ref.library.q, rtol=1e-6)
    # instance.txt holds each pattern scaled to max 1 (6 decimals); XRD.npy the raw counts
    pat = ds.library.patterns / ds.library.patterns.max(axis=1, keepdims=True)
    np.testing.assert_allclose(pat, ref.library.patterns, atol=1e-6)
    np.testing.assert_allclose(ds.library.compositions, ref.library.compositions, atol=1e-6)
    assert ds.phases.labels == ref.phases.labels
    for a, b in zip(ds.phases, ref.phases):
        np.testing.assert_allclose(a.q, b.q, atol=1e-4)
        np.testing.assert_allclose(a.intensity, b.intensity, atol=1e-4)
    np.testing.assert_allclose(ds.phases.compositions, ref.phases.compositions, atol=1e-9)
    assert ds.mask.shape == (231, 159) and ds.max_phases.shape == (231,)


def test_load_parent_folder_and_elements(tmp_path):
    ds = load(shared_path("al-li-fe"))  # the parent holding drnets/
    assert ds.library.n_points == 231 and len(ds.phases) == 159
    ds2 = read_drnets(shared_path("al-li-fe", "drnets"), elements=["E1", "E2", "E3"])
    assert ds2.library.elements == ("E1", "E2", "E3")
    with pytest.raises(InputError, match="elements: unknown element symbol 'X1'"):
        read_drnets(shared_path("al-li-fe", "drnets"), elements=["X1", "X2", "X3"])
    with pytest.raises(InputError, match="2 elements given"):
        read_drnets(shared_path("al-li-fe", "drnets"), elements=["A", "B"])


def test_write_drnets_round_trip(tmp_path, alfe_instance):
    ds = read_drnets(shared_path("al-li-fe", "drnets"))
    out = tmp_path / "drnets"
    write_drnets(ds, out)
    ds2 = read_drnets(out, elements=ds.library.elements)
    np.testing.assert_array_equal(ds2.library.patterns, ds.library.patterns)
    np.testing.assert_array_equal(ds2.mask, ds.mask)
    np.testing.assert_array_equal(ds2.max_phases, ds.max_phases)
    assert ds2.phases.labels == ds.phases.labels
    for a, b in zip(ds.phases, ds2.phases):
        np.testing.assert_allclose(a.q, b.q, atol=1e-4)
    assert read_drnets(out).library.elements == ("Al", "Li", "Fe")  # from drnets' own elements.npy
    # no elements given, no elements.npy and no instance.txt beside it: generic names, and a warning
    (out / "elements.npy").unlink()
    assert read_drnets(out).library.elements == ("E1", "E2", "E3")
    assert read_drnets(out).warnings[0].startswith("element names unknown (called E1, E2, E3)")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _write_object_npy(path, payload_obj):
    with open(path, "wb") as fh:
        npformat.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        pickle.dump(payload_obj, fh, protocol=2)


def test_malicious_pickle_is_refused(tmp_path):
    src = shared_path("al-li-fe", "drnets")
    folder = tmp_path / "drnets"
    folder.mkdir()
    for f in src.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    marker = tmp_path / "PWNED"
    _write_object_npy(folder / "sticks_lib.npy", np.array([_Evil(marker)], dtype=object))
    with pytest.raises(InputError, match=r"refused to unpickle (posix|os|nt)\.system"):
        read_drnets(folder)
    assert not marker.exists()
    # a raw pickle of anything else (not even an array) is refused too
    _write_object_npy(folder / "sticks_lib.npy", {"a": __import__("collections").OrderedDict()})
    with pytest.raises(InputError, match="refused to unpickle collections.OrderedDict"):
        read_drnets(folder)
    # garbage payload
    (folder / "sticks_lib.npy").write_bytes((src / "sticks_lib.npy").read_bytes()[:500])
    with pytest.raises(InputError, match="sticks_lib.npy"):
        read_drnets(folder)


def test_drnets_shape_errors(tmp_path):
    src = shared_path("al-li-fe", "drnets")
    folder = tmp_path / "d"
    folder.mkdir()
    for f in src.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    np.save(folder / "sample_indicator.npy", np.zeros((3, 3)))
    with pytest.raises(InputError, match="sample_indicator.npy"):
        read_drnets(folder)
    np.save(folder / "XRD.npy", np.zeros((231, 10)))
    with pytest.raises(InputError, match="XRD.npy"):
        read_drnets(folder)
    with pytest.raises(InputError, match="not a DRNets folder"):
        read_drnets(tmp_path)
