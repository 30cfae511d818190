"""The ``drnets`` command line as a whole: one-line errors, safe outputs, options, notes and help."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import drnets.io
from drnets.cli import app, main, run
from drnets.io import load, save, write_xy_folder
from drnets.synth import write_synthetic


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    """A tiny synthetic library (6 points, 100 Q points): instance.txt, sticks.csv, library.h5, truth/."""
    folder = tmp_path_factory.mktemp("lib") / "lib"
    write_synthetic(folder, "easy", points=6, q_points=100, seed=1)
    return folder


@pytest.fixture(scope="module")
def solved(lib, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sol") / "solution"
    code, _, err = _run(["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(out), "-q"])
    assert code == 0, err
    return out


def _run(argv: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``drnets ARGV`` through the console entry point's :func:`run`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def _one_error_line(err: str, *names: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for n in names:
        assert n in lines[0], (n, lines[0])


def _digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


# --------------------------------------------------------------------------- the entry point


def test_version():
    code, out, _ = _run(["--version"])
    assert code == 0 and out.strip() == f"drnets {drnets.__version__}"


def test_main_exits_with_the_status(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    with pytest.raises(SystemExit) as e:
        main(["solve"])
    assert e.value.code == 2
    _one_error_line(capsys.readouterr().err, "input")


def test_help_shows_flags_as_flags():
    for cmd in ("solve", "evaluate", "info", "convert", "report", "synth", "demo"):
        r = CliRunner().invoke(app, [cmd, "--help"])
        assert r.exit_code == 0, r.output
        assert "<bool>" not in r.output and "--help" in r.output
    r = CliRunner().invoke(app, ["solve", "--help"])
    assert "-q, --quiet" in r.output and "--wavelength" in r.output and "--force" in r.output


@pytest.mark.parametrize(
    "args, name",
    [
        (["--seed", "1e20"], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**63)], "--seed"),
        (["--seed", "nan"], "--seed"),
        (["--device", "tpu"], "--device"),
        (["--quiet", "true"], "true"),
        (["--nope"], "--nope"),
        (["--x-unit", "furlongs"], "--x-unit"),
    ],
)
def test_bad_options_are_one_line(lib, tmp_path, args, name):
    code, _, err = _run(["solve", str(lib / "library.h5"), "--out", str(tmp_path / "o"), *args])
    assert code == 2
    _one_error_line(err, name)
    assert not (tmp_path / "o").exists()


def test_no_arguments_print_the_help():
    code, out, err = _run([])
    assert "Usage" in out and "solve" in out and not err


def test_library_warnings_become_one_note(lib, tmp_path):
    """Huge (but accepted) intensities: no numpy warning reaches the user, at most one note.
    (Intensities over 1e100, where numpy's norms overflow, are refused by the Library itself.)"""
    ds = load(lib / "library.h5")
    big = drnets.Library(ds.library.elements, ds.library.compositions, ds.library.q, ds.library.patterns * 1e95)
    save(drnets.Dataset(big, ds.phases), tmp_path / "big.h5")
    code, out, err = _run(["solve", str(tmp_path / "big.h5"), "--device", "cpu", "--out", str(tmp_path / "o"), "-q"])
    assert code == 0, err
    assert "RuntimeWarning" not in out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert all(ln.startswith("note: ") for ln in lines), err
    assert sum("silenced" in ln for ln in lines) <= 1


def test_write_errors_are_one_line_naming_the_path(lib, tmp_path, monkeypatch):
    import drnets.io as io

    target = tmp_path / "o"

    def denied(out, *a, **k):
        Path(out).mkdir(parents=True, exist_ok=True)
        raise PermissionError(13, "Permission denied", str(Path(out) / "fractions.csv"))

    monkeypatch.setattr(io, "write_solution_dir", denied)
    code, _, err = _run(["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(target), "-q"])
    assert code == 2
    _one_error_line(err, "fractions.csv", "Permission denied")
    assert not target.exists()  # the folder the failed run made is gone


def test_unwritable_out_is_one_line(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere but in the kernel's folders
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no /sys to fail writing in")
        target = Path("/sys/drnets-test-out")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "x"
    code, _, err = _run(["synth", "--out", str(target), "--points", "5", "--q-points", "50"])
    assert code == 2
    _one_error_line(err, str(target))
    assert not target.exists()


# --------------------------------------------------------------------------- where outputs may go


def test_out_that_is_a_file_is_refused(lib, solved, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine\n")
    for argv in (
        ["solve", str(lib / "library.h5"), "--out", str(a_file)],
        ["report", str(solved), "--out", str(a_file)],
        ["demo", "--out", str(a_file)],
        ["synth", "--out", str(a_file)],
        ["synth", "--out", str(a_file / "below")],
    ):
        code, _, err = _run(argv)
        assert code == 2, argv
        _one_error_line(err, "--out", str(a_file))
    assert a_file.read_text() == "mine\n"


def test_out_inside_an_input_folder_is_refused(lib, tmp_path):
    ds = load(lib / "library.h5")
    patterns = tmp_path / "patterns"
    write_xy_folder(ds.library, patterns)
    before = _digest(patterns)
    for out in (patterns / "solution", patterns, tmp_path):
        code, _, err = _run(["solve", str(patterns), "--phases", str(lib / "sticks.csv"), "--out", str(out)])
        assert code == 2
        _one_error_line(err, "--out", "input")
    code, _, err = _run(
        ["solve", str(patterns), "--phases", str(lib / "sticks.csv"), "--out", str(tmp_path), "--force"]
    )
    assert code == 2  # --force never allows writing around an input
    assert _digest(patterns) == before
    assert not (patterns / "solution").exists()


def test_non_empty_folder_needs_force_unless_an_earlier_output(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me\n")
    args = ["synth", "--points", "5", "--q-points", "50", "--preset", "easy", "--out", str(mine)]
    code, _, err = _run(args)
    assert code == 2
    _one_error_line(err, "--force", str(mine))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    code, _, err = _run([*args, "--force"])
    assert code == 0, err
    assert (mine / "notes.txt").read_text() == "keep me\n"
    code, _, err = _run(args)  # now it is an earlier synth output
    assert code == 0, err
    for cmd in (["demo", "--out", str(mine)], ["report", str(tmp_path / "nope"), "--out", str(mine)]):
        code, _, err = _run(cmd)
        assert code == 2
        _one_error_line(err, "--force")


def test_convert_never_rewrites_an_input(lib, tmp_path):
    h5 = tmp_path / "lib.h5"
    h5.write_bytes((lib / "library.h5").read_bytes())
    before = _digest(h5)
    code, _, err = _run(["convert", str(h5), str(h5)])
    assert code == 2
    _one_error_line(err, "input")
    link = tmp_path / "link.h5"
    link.symlink_to(h5)
    code, _, err = _run(["convert", str(h5), str(link)])
    assert code == 2
    # the stick table beside an instance text output is an output too
    sticks = tmp_path / "x_sticks.csv"
    sticks.write_bytes((lib / "sticks.csv").read_bytes())
    code, _, err = _run(["convert", str(lib / "instance.txt"), str(tmp_path / "x.txt"), "--phases", str(sticks)])
    assert code == 2
    _one_error_line(err, "x_sticks.csv")
    assert not (tmp_path / "x.txt").exists()
    assert _digest(h5) == before and sticks.read_bytes() == (lib / "sticks.csv").read_bytes()


def test_convert_writes_a_drnets_folder_only_where_it_may(lib, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2\n")
    code, _, err = _run(["convert", str(lib / "library.h5"), str(mine)])
    assert code == 2
    _one_error_line(err, "--force")
    out = tmp_path / "x.drnets"
    for _ in range(2):  # a new folder, then the earlier output again
        code, _, err = _run(["convert", str(lib / "library.h5"), str(out)])
        assert code == 0, err
        assert (out / "XRD.npy").is_file()


def test_evaluate_json_is_a_file_apart_from_the_inputs(solved, tmp_path):
    code, _, err = _run(["evaluate", str(solved), "--json", str(tmp_path)])
    assert code == 2
    _one_error_line(err, "--json", "folder")
    before = _digest(solved)
    code, _, err = _run(["evaluate", str(solved), "--json", str(solved / "summary.json")])
    assert code == 2
    _one_error_line(err, "--json", "input")
    assert _digest(solved) == before
    code, _, err = _run(["evaluate", str(solved), "--json", str(tmp_path / "sub" / "e.json")])
    assert code == 0, err
    assert json.loads((tmp_path / "sub" / "e.json").read_text())["interrupted"] is False


# --------------------------------------------------------------------------- input files


def test_missing_or_binary_option_files(lib, tmp_path):
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    base = ["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(tmp_path / "o"), "-q"]
    for extra, name in (
        (["--mask", str(tmp_path / "none.csv")], "none.csv"),
        (["--mask", str(binary)], "blob.csv"),
        (["--truth", str(binary)], "blob.csv"),
        (["--truth", str(lib / "truth")], "--truth"),
    ):
        code, _, err = _run([*base, *extra])
        assert code == 2, extra
        _one_error_line(err, name)
    assert not (tmp_path / "o").exists()
    code, _, err = _run(["evaluate", str(lib / "truth" / "fractions.csv"), "--truth", str(binary)])
    assert code == 2
    _one_error_line(err, "blob.csv")


def _two_theta_folder(lib: Path, folder: Path, wavelength: float) -> Path:
    """The library as .xy files in 2θ (degrees, no header) and a compositions CSV beside them."""
    ds = load(lib / "library.h5")
    folder.mkdir()
    tth = np.degrees(2 * np.arcsin(ds.library.q * wavelength / (40 * np.pi)))
    for i, row in enumerate(ds.library.patterns):
        np.savetxt(folder / f"s{i}.xy", np.column_stack([tth, row]))
    comps = folder.parent / "comps.csv"
    rows = ["sample," + ",".join(ds.library.elements)]
    rows += [f"s{i}," + ",".join(f"{v:.10g}" for v in c) for i, c in enumerate(ds.library.compositions)]
    comps.write_text("\n".join(rows) + "\n")
    return comps


def test_pattern_folder_options(lib, tmp_path):
    comps = _two_theta_folder(lib, tmp_path / "xy", 1.5406)
    folder = str(tmp_path / "xy")
    code, out, err = _run(["info", folder, "--json"])  # no compositions: independent samples, the unit guessed
    assert code == 0 and json.loads(out)["points"] == 6 and json.loads(out)["independent_samples"], err
    assert "state no x unit: read as q_nm by their range (pass --x-unit" in err
    code, _, err = _run(["info", folder, "--compositions", str(comps), "--x-unit", "two_theta"])
    assert code == 2
    _one_error_line(err, "--wavelength")
    args = ["--compositions", str(comps), "--x-unit", "two_theta", "--wavelength", "1.5406"]
    code, out, err = _run(["info", folder, *args, "--json"])
    assert code == 0, err
    s = json.loads(out)
    assert s["points"] == 6 and abs(s["q_min"] - 15.0) < 1e-6 and abs(s["q_max"] - 75.0) < 1e-6
    code, _, err = _run(["convert", folder, str(tmp_path / "p.h5"), *args])
    assert code == 0, err
    np.testing.assert_allclose(load(tmp_path / "p.h5").library.q, load(lib / "library.h5").library.q, rtol=1e-9)
    out_dir = tmp_path / "sol"
    code, _, err = _run(
        ["solve", folder, *args, "--phases", str(lib / "sticks.csv"), "--device", "cpu", "--out", str(out_dir), "-q"]
    )
    assert code == 0, err
    assert (out_dir / "fractions.csv").is_file() and not list(Path(folder).glob("*.csv"))
    code, _, err = _run(["info", str(lib / "instance.txt"), "--wavelength", "1.5"])
    assert code == 2
    _one_error_line(err, "--wavelength", "pattern files")
    for absurd in ("1e20", "nan", "0", "-1.5"):  # 2θ read with 1e20 Å would put every pattern near Q = 0
        code, _, err = _run(["info", folder, "--compositions", str(comps), "--wavelength", absurd])
        assert code == 2
        _one_error_line(err, "--wavelength")


def test_out_of_memory_is_one_line(lib, monkeypatch):
    import drnets._summary

    def too_big(ds):
        raise MemoryError

    monkeypatch.setattr(drnets._summary, "summarize", too_big)
    code, _, err = _run(["info", str(lib / "library.h5")])
    assert code == 2
    _one_error_line(err, "drnets info", "library.h5", "memory")


def _fake_load(accepts: bool, seen: dict):
    real = drnets.io.load

    if accepts:

        def load(path, *, phases=None, mask=None, substrates=(), resample=False, **kw):
            seen.update(substrates=list(substrates), resample=resample, **kw)
            ds = real(path, phases=phases, mask=mask)
            ds.warnings = ["phase 'X': declared a substrate", "2 of 6 patterns were resampled"]
            return ds
    else:

        def load(path, *, phases=None, mask=None, **kw):
            seen.update(kw)
            return real(path, phases=phases, mask=mask, **kw)

    return load


def test_substrate_and_resample_pass_through_only_when_given(lib, tmp_path, monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(drnets.io, "load", _fake_load(False, seen))
    code, _, err = _run(["info", str(lib / "library.h5")])
    assert code == 0, err
    assert seen == {}
    for opt in (["--substrate", "Al2O3_corundum"], ["--resample"]):
        code, _, err = _run(["info", str(lib / "library.h5"), *opt])
        assert code == 2
        _one_error_line(err, opt[0])
    monkeypatch.setattr(drnets.io, "load", _fake_load(True, seen))
    out = tmp_path / "o"
    code, _, err = _run(
        ["solve", str(lib / "library.h5"), "--substrate", "A", "--substrate", "B", "--resample"]
        + ["--device", "cpu", "--out", str(out), "-q"]
    )
    assert code == 0, err
    assert seen == {"substrates": ["A", "B"], "resample": True}
    notes = [ln for ln in err.splitlines() if ln.startswith("note: ")]
    assert "note: phase 'X': declared a substrate" in notes and len(notes) == 2
    assert json.loads((out / "summary.json").read_text())["warnings"] == [
        "phase 'X': declared a substrate",
        "2 of 6 patterns were resampled",
    ]


# --------------------------------------------------------------------------- what the tables say


def test_info_on_a_solution_folder(solved):
    code, out, err = _run(["info", str(solved)])
    assert code == 0, err
    assert "phases used" in out and "gibbs" in out and "compositions" not in err
    code, out, _ = _run(["info", str(solved), "--json"])
    assert json.loads(out)["solution_folder"]["phases used"]


def test_solve_table_says_what_each_rule_count_means(lib, tmp_path):
    from drnets.core.constants import RULE_MEANINGS

    code, out, err = _run(["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(tmp_path / "o")])
    assert code == 0, err
    flat = " ".join(out.replace("│", " ").split())
    for rule, meaning in RULE_MEANINGS.items():
        assert " ".join(meaning.split()[:4]) in flat, rule
    assert "done" in flat and "0/?" not in flat


def test_progress_knows_the_total_from_the_start(lib):
    from drnets.solve import PhaseMapper

    calls = []
    ds = load(lib / "library.h5")
    PhaseMapper(device="cpu", callback=lambda s, d, t, i: calls.append((s, d, t))).fit(ds.library, ds.phases)
    total = calls[0][2]
    assert calls[0] == ("prepare", 0, total) and total > 0
    assert all(t == total for _, _, t in calls)
    assert calls[-1] == ("repair", total, total)
    assert [d for _, d, _ in calls] == sorted(d for _, d, _ in calls)
    from drnets._solve_command import STAGES

    assert {s for s, _, _ in calls} <= set(STAGES)


def test_quiet_is_a_flag(lib, tmp_path):
    for flag in ("--quiet", "-q"):
        code, out, err = _run(["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(tmp_path / "o"), flag])
        assert code == 0, err
        assert "rule violations" not in out


class _Stops:
    """Stands in for PhaseMapper: stopped by Ctrl-C before it has any answer."""

    def __init__(self, **kwargs):
        pass

    def fit(self, *args, **kwargs):
        raise KeyboardInterrupt


def test_interruptions_are_said_once(lib, tmp_path, monkeypatch):
    import drnets.solve as solver

    monkeypatch.setattr(solver, "PhaseMapper", _Stops)
    code, _, err = _run(["solve", str(lib / "library.h5"), "--out", str(tmp_path / "o"), "-q"])
    assert code == 130
    assert [ln for ln in err.splitlines() if ln.strip()] == [
        f"interrupted: the solver returned no answer yet, nothing written to {tmp_path / 'o'}"
    ]

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(drnets.io, "load", ctrl_c)
    code, _, err = _run(["info", str(lib / "library.h5")])
    assert code == 130 and err.strip() == "interrupted"
