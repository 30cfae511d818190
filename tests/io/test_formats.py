"""One rule tells a path's format: load reads back what save wrote, as the same format."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import format_of, load, save
from tests.io.test_hdf5 import _small


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.h5", "hdf5"),
        ("a.HDF5", "hdf5"),
        ("lib.txt", "instance"),
        ("a.drnets", "drnets"),
        ("out_drnets", "drnets"),
        ("drnets", "drnets"),
        ("existing", "drnets"),
    ],
)
def test_load_and_save_agree(tmp_path, name, kind):
    ds = _small()
    path = tmp_path / name
    if name == "existing":
        path.mkdir()
    assert format_of(path, for_writing=True) == kind
    written = save(ds, path)
    assert format_of(path) == kind  # what was written reads back as the same format
    phases = written[1] if kind == "instance" else None
    back = load(path, phases=phases)
    np.testing.assert_allclose(back.library.patterns, ds.library.patterns)
    assert back.phases.labels == ds.phases.labels


def test_reading_kinds(tmp_path):
    assert format_of(tmp_path / "sticks.csv") == "sticks"
    assert format_of(tmp_path / "instance") == "instance"  # a file of no known suffix is tried as instance text
    (tmp_path / "cifs").mkdir()
    (tmp_path / "cifs" / "a.cif").write_text("data_a\n")
    assert format_of(tmp_path / "cifs") == "cif"
    (tmp_path / "patterns").mkdir()
    assert format_of(tmp_path / "patterns") == "xy"
    (tmp_path / "holder" / "drnets").mkdir(parents=True)
    (tmp_path / "holder" / "drnets" / "XRD.npy").write_bytes(b"")
    assert format_of(tmp_path / "holder") == "drnets"
    for name in ("a.xy", "a.XRDML", "a.brml", "a.raw", "a.ras", "a.rasx", "a.fxye", "a.gsa", "a.nxs"):
        assert format_of(tmp_path / name) == "pattern", name  # one pattern file
    assert format_of(tmp_path / "a.dat") == "instance"  # a single .dat keeps its older meaning
    import h5py

    with h5py.File(tmp_path / "beamline.h5", "w") as f:
        f["entry/data/I"] = [1.0, 2.0]
    assert format_of(tmp_path / "beamline.h5") == "pattern"  # an HDF5 file that is not drnets': NeXus
    assert format_of(tmp_path / "beamline.h5", for_writing=True) == "hdf5"
    assert format_of(tmp_path / "missing.h5") == "hdf5"


@pytest.mark.parametrize("name", ["x.json", "x.csv", "x"])
def test_unknown_output_name_is_an_input_error(tmp_path, name):
    with pytest.raises(InputError, match="cannot tell the output format"):
        format_of(tmp_path / name, for_writing=True)
