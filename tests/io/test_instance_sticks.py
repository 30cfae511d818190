import subprocess
import sys

import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import load, read_instance, read_sticks_csv, write_instance, write_sticks_csv
from tests.conftest import shared_path


def test_alfe_summary(alfe_instance):
    lib, ph = alfe_instance.library, alfe_instance.phases
    assert lib.n_points == 231 and lib.elements == ("Al", "Li", "Fe")
    assert lib.q.size == 650 and lib.q[0] == pytest.approx(15.0) and lib.q[-1] == pytest.approx(79.9)
    assert len(ph) == 159


def test_bicuv_summary(bicuv_instance):
    lib = bicuv_instance.library
    assert lib.n_points == 307 and lib.q.size == 300 and len(bicuv_instance.phases) == 100
    assert lib.metadata["pattern_fn"].dtype.kind == "U"


def test_instance_and_sticks_round_trip(tmp_path, alfe_instance):
    lib, ph = alfe_instance.library, alfe_instance.phases
    write_instance(lib, tmp_path / "i.txt")
    write_sticks_csv(ph, tmp_path / "s.csv")
    lib2 = read_instance(tmp_path / "i.txt")
    ph2 = read_sticks_csv(tmp_path / "s.csv", lib2.elements)
    np.testing.assert_allclose(lib2.patterns, lib.patterns, rtol=1e-7)
    np.testing.assert_allclose(lib2.compositions, lib.compositions, atol=1e-9)
    assert ph2.labels == ph.labels
    for a, b in zip(ph, ph2):
        np.testing.assert_allclose(a.q, b.q, atol=1e-6)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("N=231", "N=232"), "line 8 \\(CAl\\): 231 values, expected 232"),
        (lambda t: t.replace("M=3", "M=x"), "line 2 \\(M\\)"),
        (lambda t: t.replace("Q=15.000000,", "Q=15.000000,abc,"), "non-numeric"),
        (lambda t: t.replace("I5=", "I5=-1,", 1), "I5"),
        (lambda t: t.replace("Q=15.000000,15.100000,", "Q=15.100000,15.000000,"), "ascending"),
        (lambda t: t.replace("CAl=0.000,", "CAl=0.500,", 1), "sums to"),
        (lambda t: t.replace("I1=", "I1=nan,", 1), "line"),
        (lambda t: "\n".join(ln for ln in t.splitlines() if not ln.startswith("Elements")), "Elements"),
    ],
)
def test_corrupted_instance_names_the_problem(tmp_path, edit, message):
    text = shared_path("al-li-fe", "instance.txt").read_text()
    bad = tmp_path / "bad.txt"
    bad.write_text(edit(text))
    with pytest.raises(InputError, match=message):
        read_instance(bad)


def test_cli_corrupted_exits_2_with_one_line(tmp_path):
    src = shared_path("al-li-fe", "instance.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text(src.read_text().replace("N=231", "N=23x"))
    before = bad.read_bytes()
    r = subprocess.run([sys.executable, "-m", "drnets.cli", "info", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "N" in r.stderr
    assert "Traceback" not in r.stderr
    assert bad.read_bytes() == before  # input untouched


def test_sticks_errors(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("phase,formula,q,intensity\na,Fe2O3,10,1\na,FeO,11,1\n")
    with pytest.raises(InputError, match="line 3"):
        read_sticks_csv(p, ("Fe",))
    p.write_text("phase,formula,q\n")
    with pytest.raises(InputError, match="missing column"):
        read_sticks_csv(p, ("Fe",))
    p.write_text("phase,formula,q,intensity\na,Qq2O3,10,1\n")
    with pytest.raises(InputError, match="line 2.*Qq"):
        read_sticks_csv(p, ("Fe",))


def test_load_rejects_sticks_as_library():
    with pytest.raises(InputError, match="stick table"):
        load(shared_path("al-li-fe", "sticks.csv"))


def test_sticks_rir_column(tmp_path):
    p = tmp_path / "rir.csv"
    p.write_text("phase,formula,q,intensity,rir\nA,FeO,20,1,3.2\nA,FeO,30,0.5,\nB,Fe2O3,25,1,1.1\nB,Fe2O3,35,1,1.1\n")
    ph = read_sticks_csv(p, ("Fe",))
    assert (ph["A"].rir, ph["B"].rir) == (3.2, 1.1)
    write_sticks_csv(ph, tmp_path / "back.csv")
    back = read_sticks_csv(tmp_path / "back.csv", ("Fe",))
    assert (back["A"].rir, back["B"].rir) == (3.2, 1.1)
    p.write_text("phase,formula,q,intensity,rir\nA,FeO,20,1,3.2\nA,FeO,30,0.5,2\n")
    with pytest.raises(InputError, match="line 3.*rir 2 here but 3.2"):
        read_sticks_csv(p, ("Fe",))
    p.write_text("phase,formula,q,intensity,rir\nA,FeO,20,1,-1\n")
    with pytest.raises(InputError, match="rir must be a positive number"):
        read_sticks_csv(p, ("Fe",))
