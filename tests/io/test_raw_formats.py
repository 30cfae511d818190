"""Raw diffractometer and beamline pattern files, one backend per format, through one ``load``.

The fixtures in ``data/raw`` are written by ``data/raw/make_fixtures.py`` from each format's
public description (named in that script per file); all hold the same 201-point pattern.
"""

from __future__ import annotations

import io
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from drnets.core import InputError, Wavelength
from drnets.io import load
from drnets.io._pattern import read_pattern

RAW = Path(__file__).parent / "data" / "raw"
sys.path.insert(0, str(RAW))
import make_fixtures as fx  # noqa: E402

CU = Wavelength(fx.CU[0], fx.CU[1], fx.CU[2], "Cu")
FIXTURES = {
    "fixture.xrdml": CU,
    "fixture.brml": CU,
    "fixture_v3.raw": CU,
    "fixture_v4.raw": CU,
    "fixture.ras": CU,
    "fixture.rasx": CU,
    "fixture.fxye": None,  # GSAS keeps the wavelength in the instrument parameter file
    "fixture_esd.gsa": None,
    "fixture_std.gsa": None,
    "fixture.nxs": Wavelength(0.7293),
}


def test_fixtures_are_what_the_script_writes(tmp_path):
    """The committed fixtures are the script's output (a changed script must be rerun)."""
    for name, make in (("fixture.xrdml", fx.xrdml), ("fixture_v3.raw", fx.bruker_raw_v3), ("fixture.ras", fx.ras)):
        assert (RAW / name).read_bytes() == make(), name


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_format_reads_the_pattern_and_its_wavelength(name):
    p = read_pattern(RAW / name)
    assert p.unit == "twotheta"
    np.testing.assert_allclose(p.x, fx.TTH, atol=1e-5)
    np.testing.assert_allclose(p.y, fx.COUNTS, rtol=1e-6)
    assert p.wavelength == FIXTURES[name]


@pytest.mark.parametrize("name", ["fixture.xrdml", "fixture_v4.raw", "fixture.rasx", "fixture.nxs"])
def test_one_file_loads_as_one_independent_sample(name):
    ds = load(RAW / name)
    lam = FIXTURES[name]
    assert ds.independent and ds.library.n_points == 1 and ds.library.wavelength == lam
    q = 4 * np.pi * np.sin(np.deg2rad(fx.TTH) / 2) / lam.kalpha1 * 10  # with Kα1, in nm⁻¹
    np.testing.assert_allclose(ds.library.q, q, rtol=1e-6)
    assert list(ds.library.metadata["file"]) == [name]
    assert any("independent samples" in w for w in ds.warnings)
    assert ds.max_phases.tolist() == [3]


def test_a_folder_of_every_format_reads_as_one_library(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in FIXTURES:
        if name != "fixture.nxs":  # another wavelength: see below
            stem, suffix = name.split(".")
            shutil.copy(RAW / name, folder / f"{stem.replace('fixture', 's')}_{suffix}.{suffix}")
    with pytest.raises(InputError, match=r"s_esd_gsa.gsa: wavelength: x is 2θ .* no wavelength: pass wavelength"):
        load(folder)
    ds = load(folder, wavelength="Cu", max_phases=2)
    assert ds.library.n_points == 9 and ds.library.wavelength == CU  # the files' own doublet, not the table's
    np.testing.assert_allclose(ds.library.patterns, np.tile(fx.COUNTS, (9, 1)), rtol=1e-6)
    assert ds.max_phases.tolist() == [2] * 9
    assert list(ds.library.metadata["sample"])[:3] == ["s_brml", "s_esd_gsa", "s_fxye"]
    with pytest.raises(InputError, match=r"states Cu Kα1 .* wavelength says Co"):
        load(folder, wavelength="Co")
    shutil.copy(RAW / "fixture.nxs", folder / "s_beamline.nxs")
    with pytest.raises(InputError, match=r"s_beamline.nxs: wavelength: the file states 0.7293 Å, wavelength says Cu"):
        load(folder, wavelength="Cu")
    for gsas in [*folder.glob("*.gsa"), *folder.glob("*.fxye")]:
        gsas.unlink()
    with pytest.raises(InputError, match=r"s_brml.brml: measured with Cu Kα1 .*, but s_beamline.nxs with 0.7293 Å"):
        load(folder)
    with pytest.raises(InputError, match="the file states x in twotheta, x_unit says q_nm"):
        load(RAW / "fixture.xrdml", x_unit="q_nm")


def test_gsas_needs_a_wavelength_and_takes_an_anode_or_a_number():
    with pytest.raises(InputError, match="pass wavelength"):
        load(RAW / "fixture.fxye")
    a = load(RAW / "fixture.fxye", wavelength="mo")
    b = load(RAW / "fixture.fxye", wavelength=0.7093)
    assert a.library.wavelength.is_doublet and a.library.wavelength.anode == "Mo"
    np.testing.assert_allclose(a.library.q, b.library.q, rtol=1e-5)


def _zip(members: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def _members(name: str) -> dict[str, bytes]:
    with zipfile.ZipFile(RAW / name) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_format_variants(tmp_path):
    # XRDML: listed positions, raw counts with attenuation factors, a Kα1 monochromator.
    text = fx.xrdml().decode()
    listed = " ".join(f"{t:.4f}" for t in fx.TTH)
    half = " ".join(f"{c / 2:g}" for c in fx.COUNTS)
    points = (
        f'<dataPoints><positions axis="2Theta" unit="deg"><listPositions>{listed}</listPositions></positions>'
        f"<beamAttenuationFactors>{' '.join(['2'] * 201)}</beamAttenuationFactors><counts>{half}</counts></dataPoints>"
    )
    text = text[: text.index("<dataPoints>")] + points + text[text.index("</dataPoints>") + len("</dataPoints>") :]
    text = text.replace('intended="K-Alpha"', 'intended="K-Alpha 1"')
    (tmp_path / "v.xrdml").write_text(text)
    p = read_pattern(tmp_path / "v.xrdml")
    np.testing.assert_allclose(p.y, fx.COUNTS)
    np.testing.assert_allclose(p.x, fx.TTH)
    assert p.wavelength == Wavelength(fx.CU[0], anode="Cu")  # one line
    # NeXus: Q in nm⁻¹ on bin edges, the wavelength in metres without units.
    import h5py

    with h5py.File(tmp_path / "q.h5", "w") as f:
        d = f.create_group("entry").create_group("data")
        d.attrs.update({"NX_class": "NXdata", "signal": "I", "axes": ["q_nm^-1"]})
        d["I"] = np.ones(4)
        d["q_nm^-1"] = np.arange(5.0) + 10
        f["entry/instrument/beam/incident_wavelength"] = 7.293e-11
    p = read_pattern(tmp_path / "q.h5")
    assert p.unit == "q_nm" and p.x.tolist() == [10.5, 11.5, 12.5, 13.5]
    assert p.wavelength.kalpha1 == pytest.approx(0.7293) and not p.wavelength.is_doublet
    ds = load(tmp_path / "q.h5")  # not the native file: read as a pattern
    assert ds.independent and ds.library.q.tolist() == [10.5, 11.5, 12.5, 13.5]
    # RASX without its conditions: no wavelength stated.
    members = _members("fixture.rasx")
    del members["Data0/MesurementConditions0.xml"]
    (tmp_path / "p.rasx").write_bytes(_zip(members))
    assert read_pattern(tmp_path / "p.rasx").wavelength is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "two.xrdml",
            fx.xrdml().replace(b"</xrdMeasurement>", b"<scan><dataPoints/></scan></xrdMeasurement>"),
            "2 scans",
        ),
        ("rock.xrdml", fx.xrdml().replace(b'axis="2Theta"', b'axis="Phi"'), "no 2Theta positions"),
        ("bad.xrdml", fx.xrdml().replace(b">100 ", b">100x ", 1), "'100x' is not a number"),
        ("html.xrdml", b"<html></html>", "not an XRDML file"),
        ("old.raw", b"RAW2" + bytes(300), "version 1 or 2"),
        ("other.raw", b"\x00\x01" * 100, "not a Bruker RAW file"),
        ("two.ras", fx.ras() + fx.ras(), "several scans"),
        ("omega.ras", fx.ras().replace(b'X "TwoThetaTheta"', b'X "Omega"'), "not a 2θ scan"),
        ("tof.gsa", b"title\nBANK 1 10 10 TIME_MAP 1 2 0 0 FXYE\n", "time-of-flight"),
        ("none.gsa", b"title\n1 2 3\n", "0 BANK lines"),
        ("notzip.brml", b"<RawData/>", "no zip archive"),
        ("empty.brml", _zip({"Experiment0/x.xml": "<a/>"}), "0 RawData members"),
        ("two.rasx", _zip({"Data0/Profile0.txt": "1\t2\t1\n", "Data1/Profile0.txt": "1\t2\t1\n"}), "2 profiles"),
    ],
)
def test_a_wrong_file_is_one_clear_line(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_pattern(tmp_path / name)
    assert str(err.value).startswith(str(tmp_path / name)) and "\n" not in str(err.value)


def test_several_raw_v4_ranges_are_refused(tmp_path):
    data = fx.bruker_raw_v4()
    first_range = data.index(b"Locked Coupled") - 32
    (tmp_path / "two.raw").write_bytes(data + data[first_range:])
    with pytest.raises(InputError, match="2 ranges"):
        read_pattern(tmp_path / "two.raw")
    v3 = bytearray(fx.bruker_raw_v3())
    struct.pack_into("<I", v3, 12, 2)
    (tmp_path / "two3.raw").write_bytes(bytes(v3))
    with pytest.raises(InputError, match="2 ranges"):
        read_pattern(tmp_path / "two3.raw")


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_cut_or_damaged_files_give_an_input_error_or_a_checked_pattern(tmp_path, name):
    """Fuzz-ish: every prefix length class and some flipped bytes; nothing but InputError escapes."""
    data = (RAW / name).read_bytes()
    rng = np.random.default_rng(len(data))
    cuts = sorted({1, 8, len(data) // 10, len(data) // 3, len(data) // 2, len(data) - 7, len(data) - 1})
    cases = [data[:n] for n in cuts]
    for _ in range(12):
        b = bytearray(data)
        for i in rng.integers(0, len(b), size=3):
            b[i] = int(rng.integers(0, 256))
        cases.append(bytes(b))
    outcomes = []
    for k, case in enumerate(cases):
        path = tmp_path / f"{k}{Path(name).suffix}"
        path.write_bytes(case)
        try:
            p = read_pattern(path)
        except InputError as err:
            assert "\n" not in str(err) and str(err).startswith(str(path))
            outcomes.append("refused")
            continue
        assert p.x.size == p.y.size >= 2 and np.all(np.isfinite(p.x)) and np.all(np.isfinite(p.y))
        outcomes.append("read")
    assert outcomes[: len(cuts) - 2].count("refused") == len(cuts) - 2  # a file cut short is never read as whole


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from contextlib import redirect_stderr, redirect_stdout

    from drnets.cli import run

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def test_command_line_reads_raw_files_and_asks_for_a_wavelength(tmp_path):
    import json

    code, out, err = _cli(["info", str(RAW / "fixture.xrdml"), "--json"])
    assert code == 0, err
    s = json.loads(out)
    assert s["points"] == 1 and s["independent_samples"] and s["wavelength"].startswith("Cu Kα1 1.5406")
    code, _, err = _cli(["info", str(RAW / "fixture.fxye")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "pass --wavelength" in lines[0] and "fixture.fxye" in lines[0]
    code, out, err = _cli(["info", str(RAW / "fixture.fxye"), "--wavelength", "Co", "--json"])
    assert code == 0 and json.loads(out)["wavelength"].startswith("Co Kα1 1.7889"), err
    for bad in ("Xx", "1e20"):
        code, _, err = _cli(["info", str(RAW / "fixture.fxye"), "--wavelength", bad])
        assert code == 2 and err.startswith("error: --wavelength: ") and len(err.strip().splitlines()) == 1
    code, _, err = _cli(["info", str(RAW / "fixture.xrdml"), "--wavelength", "Mo"])
    assert code == 2 and "wavelength says Mo" in err and len(err.strip().splitlines()) == 1
    code, _, err = _cli(["convert", str(RAW / "fixture.brml"), str(tmp_path / "one.h5"), "--max-phases", "2"])
    assert code == 0, err
    ds = load(tmp_path / "one.h5")
    assert ds.independent and ds.library.wavelength == CU and ds.max_phases.tolist() == [2]
