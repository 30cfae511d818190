"""Fuzzing every reader with damaged copies of small valid inputs.

The invariant for every case: the input either loads, with finite arrays of the right
shapes, or raises an InputError whose one-line message starts with the damaged input's
path; never another exception, never a warning from a library, and the input files are
byte-identical afterwards.

CI runs a few dozen cases per reader. A campaign runs more::

    DRNETS_FUZZ_EXAMPLES=2000 DRNETS_FUZZ_STATS=fuzz.json python -m pytest tests/io/test_property.py

``DRNETS_FUZZ_STATS`` names a JSON file that receives the cases tried per reader and how
each ended (docs/robustness.md holds the last campaign's figures).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drnets.core import Dataset, InputError, Library, PhaseLibrary
from drnets.io import load, read_instance, read_phases, read_sticks_csv, write_drnets, write_hdf5

INSTANCE = """// Metadata
M=2
Elements=Fe,Ni
N=3
Composition=CFe,CNi
Deposition=X,Y

// Deposition/Composition data
X=0.0,1.5,3.0
Y=2.0,2.0,2.5
pattern_fn=a.xy,b.xy,c.xy
CFe=1.0,0.5,0.0
CNi=0.0,0.5,1.0

// Integrated counts data
Q=10.0,10.5,11.0,11.5,12.0
I1=0.1,0.5,1.0,0.2,0.0
I2=0.3,0.2,0.1,1.0,0.4
I3=0.0,0.0,0.7,0.7,1.0
"""

STICKS = """phase,formula,q,intensity,h,k,l
FeO_1,FeO,10.2,1.0,1,1,1
FeO_1,FeO,11.8,0.4,2,0,0
NiO_2,NiO,10.4,100,1,1,1
NiO_2,NiO,12.1,35.5,2,0,0
(Fe0.5Ni0.5)O_3,(Fe0.5Ni0.5)O,10.3,1,1,1,1
"""

XY = {
    "s0.xy": "# Q (nm^-1) intensity\n10.0 1.0236684e-02\n10.5 6.6026709e-01\n11.0 2.6479296e+00\n11.5 6.6026709e-01\n12.0 1.0236684e-02\n",  # noqa: E501
    "s1.xy": "# Q (nm^-1) intensity\n10.0 2.6479296e+00\n10.5 1.8711549e+00\n11.0 6.6026709e-01\n11.5 1.1634191e-01\n12.0 1.0236684e-02\n",  # noqa: E501
    "s2.xy": "# Q (nm^-1) intensity\n10.0 1.1634191e-01\n10.5 1.1634191e-01\n11.0 6.6026709e-01\n11.5 1.8711549e+00\n12.0 2.6479296e+00\n",  # noqa: E501
    "compositions.csv": "sample,Fe,Ni\ns0,1,0\ns1,0.5,0.5\ns2,0,1\n",
}

CIF = """data_{name}
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   {a}
_cell_length_b   {a}
_cell_length_c   {a}
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
loop_
 _atom_site_type_symbol
 _atom_site_label
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
  {el}  {el}0  0.0  0.0  0.0  1
  O  O1  0.5  0.5  0.5  1
"""
CIFS = {"FeO.cif": CIF.format(name="FeO", a=2.15, el="Fe"), "NiO.cif": CIF.format(name="NiO", a=2.09, el="Ni")}

EXAMPLES = int(os.environ.get("DRNETS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
STATS: dict[str, Counter] = defaultdict(Counter)

# Values that have broken readers: non-finite, negative, huge, tiny, empty, not numbers.
NASTY = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "-0",
    "1e308",
    "-1.7e308",
    "1.7e308",
    "1e999",
    "1e-320",
    "",
    "abc",
    "1,2",
    " ",
    "é",
    "\x00",
    "0x10",
    "1_0",
    "9" * 400,
]
# Words whose swapping makes duplicated, missing or unknown labels, keys and element symbols.
WORDS = [
    "Fe",
    "Ni",
    "Xx",
    "MG",
    "NI",
    "Cu",
    "CFe",
    "CNi",
    "I1",
    "I2",
    "I4",
    "Q",
    "N",
    "M",
    "Elements",
    "FeO_1",
    "NiO_2",
    "FeO",
    "NiO",
    "CuO",
    "SnO2",
    "sample",
    "s0",
    "s1",
    "s3",
    "phase",
    "formula",
    "role",
    "substrate",
    "Mg",
    "O",
]
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_COMMENT = {".txt": "// ", ".xy": "# ", ".cif": "# ", ".csv": ""}


@st.composite
def damaged_text(draw, text: str, suffix: str) -> bytes:
    """A text input after one to three edits, in one of the encodings users have, perhaps cut."""
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["number", "char", "word", "dup_line", "del_line", "swap_lines", "blank"]))
        numbers = list(_NUMBER.finditer(text))
        if op == "number" and numbers:
            m = numbers[draw(st.integers(0, len(numbers) - 1))]
            text = text[: m.start()] + draw(st.sampled_from(NASTY)) + text[m.end() :]
        elif op == "char" and text:
            i = draw(st.integers(0, len(text) - 1))
            text = (
                text[:i]
                + draw(st.sampled_from(["", "0", "9", ".", ",", "-", "e", "\n", "=", "(", "'", '"']))
                + text[i + 1 :]
            )
        elif op == "word":
            present = [w for w in WORDS if w in text]
            if present:
                old = draw(st.sampled_from(present))
                text = text.replace(old, draw(st.sampled_from(WORDS)), draw(st.integers(1, 2)))
        elif op in ("dup_line", "del_line", "swap_lines"):
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "del_line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == "blank":
            text = ""
    encoding = draw(st.sampled_from(["utf-8"] * 5 + ["bom", "crlf", "cr", "latin-1", "utf-16"]))
    if encoding == "bom":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif encoding in ("crlf", "cr"):
        data = text.replace("\n", "\r\n" if encoding == "crlf" else "\r").encode("utf-8")
    elif encoding == "latin-1":
        data = (f"{_COMMENT[suffix]}Å° déjà vu\n" + text).encode("latin-1", "replace")
    elif encoding == "utf-16":
        data = text.encode("utf-16")
    else:
        data = text.encode("utf-8")
    return draw(damaged_bytes(data, rate=0.3))


@st.composite
def damaged_bytes(draw, data: bytes, rate: float = 1.0) -> bytes:
    """Perhaps (with probability ``rate``) cut at a random byte, overwritten or replaced by random bytes."""
    if not data or not draw(st.floats(0, 1)) < rate:
        return data
    op = draw(st.sampled_from(["truncate", "truncate", "overwrite", "flip", "random"]))
    if op == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if op == "random":
        return draw(st.binary(max_size=300))
    i = draw(st.integers(0, len(data) - 1))
    if op == "flip":
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
    chunk = draw(st.binary(min_size=1, max_size=16))
    return data[:i] + chunk + data[i + len(chunk) :]


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _check_library(lib: Library) -> None:
    n, m, size = lib.n_points, lib.n_elements, lib.q.size
    assert lib.compositions.shape == (n, m) and lib.patterns.shape == (n, size) and size >= 2
    assert np.all(np.isfinite(lib.compositions)) and np.allclose(lib.compositions.sum(axis=1), 1.0)
    assert np.all(np.isfinite(lib.patterns)) and np.all(lib.patterns >= 0)
    assert np.all(np.isfinite(lib.q)) and np.all(np.diff(lib.q) > 0) and lib.q[0] >= 0
    assert all(len(v) == n for v in lib.metadata.values())


def _check_phases(ph: PhaseLibrary, m: int) -> None:
    assert len(ph) >= 1 and ph.compositions.shape == (len(ph), m) and np.all(np.isfinite(ph.compositions))
    for p in ph:
        assert p.q.shape == p.intensity.shape and np.all(np.isfinite(p.q)) and np.all(p.q > 0)
        assert np.all(np.isfinite(p.intensity)) and p.intensity.max() == 1.0 and np.all(np.diff(p.q) >= 0)
    assert all(isinstance(w, str) and "\n" not in w for w in ph.warnings)


def _check_dataset(ds: Dataset) -> None:
    _check_library(ds.library)
    n = ds.library.n_points
    if ds.phases is not None:
        _check_phases(ds.phases, ds.library.n_elements)
        if ds.mask is not None:
            assert ds.mask.shape == (n, len(ds.phases)) and ds.mask.any()
    if ds.max_phases is not None:
        assert ds.max_phases.shape == (n,) and np.all(ds.max_phases >= 0)
    assert all(isinstance(w, str) and "\n" not in w for w in ds.warnings)


def _run(reader: str, root: Path, read: Callable[[], object], check: Callable[[object], None]) -> None:
    """Read a damaged input under ``root`` and hold it to the invariant; count how it ended."""
    before = _hashes(root)
    STATS[reader]["cases"] += 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = read()
            except InputError as err:
                msg = str(err)
                assert "\n" not in msg and msg.startswith(str(root)), msg
                STATS[reader]["input_error"] += 1
            else:
                check(out)
                STATS[reader]["loaded"] += 1
        assert [str(w.message) for w in caught] == []
    except BaseException as err:
        STATS[reader][f"other: {type(err).__name__}"] += 1
        raise
    finally:
        if _hashes(root) != before:
            STATS[reader]["damaged_input"] += 1
    assert _hashes(root) == before


@pytest.fixture(scope="module", autouse=True)
def _write_stats():
    yield
    path = os.environ.get("DRNETS_FUZZ_STATS")
    if path:
        Path(path).write_text(json.dumps({k: dict(v) for k, v in STATS.items()}, indent=1, sort_keys=True) + "\n")


def test_seeds_are_valid(tmp_path):
    (tmp_path / "i.txt").write_text(INSTANCE, encoding="utf-8")
    (tmp_path / "s.csv").write_text(STICKS, encoding="utf-8")
    assert read_instance(tmp_path / "i.txt").n_points == 3
    assert len(read_sticks_csv(tmp_path / "s.csv", ("Fe", "Ni"))) == 3
    (tmp_path / "xy").mkdir()
    for name, text in XY.items():
        (tmp_path / "xy" / name).write_text(text)
    assert load(tmp_path / "xy").library.q.size == 5
    for name, text in CIFS.items():
        (tmp_path / name).write_text(text)
    if __import__("importlib").util.find_spec("pymatgen"):
        assert read_phases(tmp_path, ("Fe", "Ni"), q_range=(10, 60)).labels == ["FeO", "NiO"]
    assert load(tmp_path / "h.h5").library.n_points == 3 if (tmp_path / "h.h5").write_bytes(HDF5) else False


@FUZZ
@given(data=damaged_text(INSTANCE, ".txt"))
def test_instance_text(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "instance.txt"
        path.write_bytes(data)
        _run("instance text", path, lambda: load(path), _check_dataset)


@FUZZ
@given(data=damaged_text(STICKS, ".csv"), substrates=st.sampled_from([(), ("NiO_2",), ("nope",)]))
def test_sticks_csv(data, substrates):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "in"
        root.mkdir()
        (root / "instance.txt").write_text(INSTANCE)
        (root / "sticks.csv").write_bytes(data)
        _run(
            "stick CSV",
            root,
            lambda: load(root / "instance.txt", phases=root / "sticks.csv", substrates=substrates),
            _check_dataset,
        )


def _folder_case(draw, files: dict[str, bytes], edit) -> dict[str, bytes]:
    """Damage one file of a folder, or lose one, or add a stray copy."""
    files = dict(files)
    name = draw(st.sampled_from(sorted(files)))
    op = draw(st.sampled_from(["edit"] * 6 + ["delete", "extra"]))
    if op == "delete":
        del files[name]
    elif op == "extra":
        files["extra" + Path(name).suffix] = files[name]
    else:
        files[name] = draw(edit(name, files[name]))
    return files


@st.composite
def damaged_xy_folder(draw) -> dict[str, bytes]:
    return _folder_case(
        draw, {k: v.encode() for k, v in XY.items()}, lambda name, data: damaged_text(data.decode(), Path(name).suffix)
    )


@FUZZ
@given(files=damaged_xy_folder(), resample=st.booleans())
def test_xy_folder(files, resample):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "patterns"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        _run("pattern folder", root, lambda: load(root, resample=resample), _check_dataset)


def _small_dataset() -> Dataset:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "i.txt").write_text(INSTANCE)
        (Path(d) / "s.csv").write_text(STICKS)
        return load(Path(d) / "i.txt", phases=Path(d) / "s.csv")


def _template(write) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "x"
        write(_small_dataset(), out)
        return {p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else {out.name: out.read_bytes()}


DRNETS = _template(write_drnets)


@st.composite
def damaged_npy(draw, name: str, data: bytes) -> bytes:
    """An npy file with other values, shape or dtype, or damaged bytes."""
    import io

    op = draw(st.sampled_from(["bytes", "value", "shape", "dtype"]))
    if op == "bytes" or name == "sticks_lib.npy":
        return draw(damaged_bytes(data))
    arr = np.load(io.BytesIO(data))
    text = arr.dtype.kind == "U"
    if op == "value" and arr.size:
        arr = arr.astype("U20" if text else float)
        values = ["", "Xx", "MG", "gamma-Al", "1+FeO_1.txt", "é"] if text else [np.nan, np.inf, -1.0, 1e308, 0.0, 1e9]
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(st.sampled_from(values))
    elif op == "shape":
        arr = arr.reshape(-1)[: draw(st.integers(0, arr.size))]
    elif not text:
        arr = arr.astype(draw(st.sampled_from(["U3", "int8", "float16", "bool", "complex64", ">f8", "V8", "O"])))
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


@FUZZ
@given(files=st.data())
def test_drnets_folder(files):
    files = _folder_case(files.draw, DRNETS, damaged_npy)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "drnets"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        _run("DRNets folder", root, lambda: load(root), _check_dataset)


HDF5 = _template(write_hdf5)["x"]
_H5_NODES = [
    "library/q",
    "library/patterns",
    "library/compositions",
    "phases/p00000/q",
    "phases/p00001/intensity",
    "library/metadata/m0",
    "phases/p00000",
]
_H5_ATTRS = [
    ("phases/p00000", "label", "NiO_2"),
    ("phases/p00001", "formula", "CuO"),
    ("library", "elements", ["Fe", "Xx"]),
    ("phases/p00000", "role", "substrate"),
    ("/", "format", "x"),
    ("/", "version", 99),
    ("phases/p00000", "cell", [1.0, -2.0]),
    ("phases", "elements", ["Fe"]),
]


@st.composite
def damaged_hdf5(draw) -> tuple[str, object]:
    """A recipe: damage the bytes, change a value, drop a node, or set an attribute."""
    op = draw(st.sampled_from(["bytes", "value", "drop", "attr"]))
    if op == "bytes":
        return op, draw(damaged_bytes(HDF5))
    if op == "attr":
        return op, draw(st.sampled_from(_H5_ATTRS))
    node = draw(st.sampled_from(_H5_NODES))
    return op, (node, draw(st.integers(0, 1000)), draw(st.sampled_from([np.nan, np.inf, -1.0, 1e308, 0.0])))


def _apply_hdf5(path: Path, recipe: tuple[str, object]) -> None:
    import h5py

    op, arg = recipe
    if op == "bytes":
        path.write_bytes(arg)
        return
    path.write_bytes(HDF5)
    with h5py.File(path, "a") as f:
        if op == "attr":
            node, key, value = arg
            f[node].attrs[key] = value
            return
        node, index, value = arg
        if op == "drop":
            del f[node]
        elif isinstance(f[node], h5py.Dataset) and f[node].dtype.kind == "f":
            data = f[node][()]
            data.flat[index % data.size] = value
            del f[node]
            f[node] = data


@FUZZ
@given(recipe=damaged_hdf5())
def test_native_hdf5(recipe):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "library.h5"
        _apply_hdf5(path, recipe)
        _run("native HDF5", path, lambda: load(path), _check_dataset)


@st.composite
def damaged_cif_folder(draw) -> dict[str, bytes]:
    return _folder_case(
        draw, {k: v.encode() for k, v in CIFS.items()}, lambda name, data: damaged_text(data.decode(), ".cif")
    )


@FUZZ
@given(files=damaged_cif_folder())
def test_cif_folder(files):
    pytest.importorskip("pymatgen")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "cifs"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        _run(
            "CIF folder",
            root,
            lambda: read_phases(root, ("Fe", "Ni"), q_range=(10, 60)),
            lambda ph: _check_phases(ph, 2),
        )
