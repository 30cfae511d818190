import subprocess
import sys

import numpy as np

from drnets.io import load
from tests.conftest import shared_path


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "drnets.cli", "convert", *map(str, args)], capture_output=True, text=True
    )


def test_convert_instance_to_h5_and_back(tmp_path):
    src = shared_path("al-li-fe", "instance.txt")
    r = _run(src, tmp_path / "a.h5", "--phases", shared_path("al-li-fe", "sticks.csv"))
    assert r.returncode == 0, r.stderr
    assert f"wrote {tmp_path / 'a.h5'}" in r.stdout
    r = _run(tmp_path / "a.h5", tmp_path / "b.txt")
    assert r.returncode == 0 and "b_sticks.csv" in r.stdout
    a, b = load(src), load(tmp_path / "b.txt", phases=tmp_path / "b_sticks.csv")
    np.testing.assert_allclose(a.library.patterns, b.library.patterns, rtol=1e-7)
    assert len(b.phases) == 159


def test_convert_bad_output_name(tmp_path):
    r = _run(shared_path("al-li-fe", "instance.txt"), tmp_path / "x.json")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "cannot tell" in r.stderr
    assert not (tmp_path / "x.json").exists()
