"""Random corruption of valid inputs: a reader either succeeds or raises InputError."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drnets.core import InputError, Library, PhaseLibrary
from drnets.io import read_instance, read_sticks_csv

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

_ALPHABET = st.sampled_from(
    list("0123456789.,=-+eE \t\n;:/#()_xXNMIQ") + ["", "é", "\x00", "\r", "1e999", "nan", "inf", "-1", "\u2028"]
)


@st.composite
def corrupted(draw, text):
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["delete", "replace", "dup_line", "del_line", "truncate"]))
        if op in ("delete", "replace") and text:
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + (draw(_ALPHABET) if op == "replace" else "") + text[i + 1 :]
        elif op == "dup_line":
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif op == "del_line":
            i = draw(st.integers(0, len(lines) - 1))
            del lines[i]
            text = "\n".join(lines)
        else:
            text = text[: draw(st.integers(0, len(text)))]
    return text


def test_fixtures_are_valid(tmp_path):
    (tmp_path / "i.txt").write_text(INSTANCE, encoding="utf-8")
    (tmp_path / "s.csv").write_text(STICKS, encoding="utf-8")
    assert read_instance(tmp_path / "i.txt").n_points == 3
    assert len(read_sticks_csv(tmp_path / "s.csv", ("Fe", "Ni"))) == 3


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(text=corrupted(INSTANCE))
def test_corrupted_instance_reads_or_raises_input_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("inst", numbered=True) / "instance.txt"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        lib = read_instance(path)
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(lib, Library)
    assert lib.patterns.shape == (lib.n_points, lib.q.size)
    assert np.all(np.isfinite(lib.patterns)) and np.all(lib.patterns >= 0)
    assert np.allclose(lib.compositions.sum(axis=1), 1.0)
    assert np.all(np.diff(lib.q) > 0)


@_SETTINGS
@given(text=corrupted(STICKS))
def test_corrupted_sticks_reads_or_raises_input_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("sticks", numbered=True) / "sticks.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        ph = read_sticks_csv(path, ("Fe", "Ni"))
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(ph, PhaseLibrary) and len(ph) >= 1
    for p in ph:
        assert np.all(p.q > 0) and p.intensity.max() == 1.0 and np.all(np.diff(p.q) >= 0)
