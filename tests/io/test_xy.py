import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import load, read_xy_folder, write_xy_folder


def _peak(q, c):
    return np.exp(-0.5 * ((q - c) / 0.3) ** 2)


def _make(folder, unit="q_nm", n=3, header="", suffix=".xy", wavelength=1.5406):
    folder.mkdir(exist_ok=True)
    rows = ["sample,Fe,Ni"]
    for i in range(n):
        q = np.linspace(15 + 0.1 * i, 45 - 0.1 * i, 301 - 2 * i)  # nm^-1, slightly different ranges
        y = _peak(q, 20 + 5 * i)
        if unit == "q_A":
            x = q / 10
        elif unit == "twotheta":
            x = np.rad2deg(2 * np.arcsin(q / 10 * wavelength / (4 * np.pi)))
        else:
            x = q
        sep = "," if suffix == ".csv" else " "
        body = "\n".join(f"{a:.8f}{sep}{b:.8f}" + (f"{sep}0.01" if suffix == ".xye" else "") for a, b in zip(x, y))
        (folder / f"s{i}{suffix}").write_text(header + body + "\n")
        rows.append(f"s{i},{i / n:.4f},{1 - i / n:.4f}")
    (folder / "compositions.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.mark.parametrize(
    "unit, header, suffix, kwargs",
    [
        ("q_nm", "", ".xy", {}),
        ("q_nm", "# Q (nm^-1) I\nq intensity\n", ".xye", {}),
        ("q_A", "", ".csv", {}),
        ("q_A", "# Q (A^-1)\n", ".xy", {"x_unit": "q_A"}),
        ("twotheta", "", ".xy", {"wavelength": 1.5406}),
        ("twotheta", "title\n2-Theta Angle (Degrees)\nIntensity\n   301\n", ".chi", {"wavelength": 1.5406}),
        ("twotheta", "# 2theta\n", ".xy", {"wavelength": 1.5406, "x_unit": "twotheta"}),
    ],
)
def test_units_and_grid(tmp_path, unit, header, suffix, kwargs):
    folder = _make(tmp_path / "f", unit=unit, header=header, suffix=suffix)
    lib = read_xy_folder(folder, resample=True, **kwargs)
    assert lib.elements == ("Fe", "Ni") and lib.n_points == 3
    assert lib.q[0] == pytest.approx(15.2, abs=1e-6) and lib.q[-1] <= 44.8 + 1e-6
    assert lib.q[-1] > 44.6
    assert np.allclose(np.diff(lib.q), np.diff(lib.q)[0], rtol=1e-6)
    for i in range(3):
        np.testing.assert_allclose(lib.patterns[i], _peak(lib.q, 20 + 5 * i), atol=2e-3)
    assert list(lib.metadata["sample"]) == ["s0", "s1", "s2"]


def test_q_grid_and_round_trip(tmp_path):
    folder = _make(tmp_path / "f")
    grid = np.linspace(16, 44, 57)
    lib = read_xy_folder(folder, q_grid=grid)
    np.testing.assert_array_equal(lib.q, grid)
    with pytest.raises(InputError, match="q_grid"):
        read_xy_folder(folder, q_grid=np.linspace(10, 44, 5))
    write_xy_folder(lib, tmp_path / "out")
    lib2 = load(tmp_path / "out").library
    np.testing.assert_allclose(lib2.q, lib.q, rtol=1e-9)
    np.testing.assert_allclose(lib2.patterns, lib.patterns, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lib2.compositions, lib.compositions, atol=1e-9)


def test_errors(tmp_path):
    folder = _make(tmp_path / "f")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / "extra.xy").write_text("15 1\n16 2\n")
    with pytest.raises(InputError, match="extra.xy.*no composition for sample 'extra'"):
        read_xy_folder(folder)
    (folder / "extra.xy").unlink()
    text = (folder / "s1.xy").read_text().splitlines()
    text[10] = "20.0 abc"
    (folder / "s1.xy").write_text("\n".join(text))
    with pytest.raises(InputError, match=r"s1.xy: line 11: non-numeric row"):
        read_xy_folder(folder)
    (folder / "s1.xy").write_bytes(before["s1.xy"])
    with pytest.raises(InputError, match="wavelength"):
        read_xy_folder(folder, x_unit="twotheta")
    with pytest.raises(InputError, match="x_unit"):
        read_xy_folder(folder, x_unit="furlongs")
    (folder / "compositions.csv").write_text("sample,Fe,Ni\ns0,0.5,0.2\n")
    with pytest.raises(InputError, match="compositions.csv: line 2: composition sums"):
        read_xy_folder(folder)
    (folder / "compositions.csv").write_text("name,Fe\n")
    with pytest.raises(InputError, match="header"):
        read_xy_folder(folder)
    (folder / "compositions.csv").unlink()
    with pytest.raises(InputError, match="no such compositions CSV"):
        read_xy_folder(folder, compositions=folder / "missing.csv")
    alone = read_xy_folder(folder, resample=True)  # no compositions: independent samples of a placeholder element
    assert alone.elements == ("E1",) and alone.n_points == 3 and np.all(alone.compositions == 1)
    (folder / "compositions.csv").write_bytes(before["compositions.csv"])
    (folder / "s2.xy").write_text("50 1\n60 1\n")
    with pytest.raises(InputError, match="share no Q range"):
        read_xy_folder(folder, resample=True)
    (folder / "s2.xy").write_text("15 1 2 3\n16 1 2 3\n")
    with pytest.raises(InputError, match="s2.xy: line 1: 4 columns"):
        read_xy_folder(folder)
