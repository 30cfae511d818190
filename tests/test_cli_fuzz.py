"""Fuzzing the command line's options (hypothesis) on a tiny library.

Random values for the options of solve, evaluate, convert, info, report and synth: numbers
(huge, negative, NaN, empty, not numbers) and paths (missing, a file where a folder is
expected and the reverse, the input itself, inside or around an input, binary files, a
non-empty folder of someone else's, a place that cannot be written). The invariant for every
case: exit status 0 or 2; on 2, exactly one line on stderr, starting ``error:`` and naming a
file or an option, and nothing created or changed; never a traceback; the input files
byte-identical afterwards; no temporary file left.

CI runs a bounded number of examples per command (deterministic); ``DRNETS_FUZZ_EXAMPLES=N``
runs N per command with fresh random draws, and ``DRNETS_FUZZ_LOG=path`` appends one JSON
line per case (command, exit status) for the figures in ``docs/robustness.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drnets.cli import run
from drnets.io import load, save
from drnets.synth import write_synthetic

EXAMPLES = int(os.environ.get("DRNETS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="DRNETS_FUZZ_EXAMPLES" not in os.environ,  # CI: the same cases every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LOG = os.environ.get("DRNETS_FUZZ_LOG")

# --------------------------------------------------------------------------- the inputs


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Every input a case may name, made once and copied into each case's own folder."""
    root = tmp_path_factory.mktemp("fuzz") / "in"
    lib = root / "lib"
    write_synthetic(lib, "easy", points=6, q_points=100, seed=1)
    ds = load(lib / "library.h5")
    save(ds, root / "lib.drnets")
    xy = root / "xy"  # the library as 2θ pattern files (Cu Kα) with a compositions CSV beside
    xy.mkdir()
    tth = np.degrees(2 * np.arcsin(ds.library.q * 1.5406 / (40 * np.pi)))
    for i, row in enumerate(ds.library.patterns):
        np.savetxt(xy / f"s{i}.xy", np.column_stack([tth, row]), header="2theta intensity")
    rows = ["sample," + ",".join(ds.library.elements)]
    rows += [f"s{i}," + ",".join(f"{v:.10g}" for v in c) for i, c in enumerate(ds.library.compositions)]
    (root / "comps.csv").write_text("\n".join(rows) + "\n")
    labels = ds.phases.labels
    (root / "mask.csv").write_text(
        "point," + ",".join(labels) + "\n" + "".join(f"{i}," + ",".join("1" * len(labels)) + "\n" for i in range(6))
    )
    (root / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (root / "note.txt").write_text("just some notes, not a library\n")
    (root / "empty").mkdir()
    write_synthetic(root / "other", "easy", points=9, q_points=60, seed=2)  # a truth of another library
    (root / "alien.csv").write_text("point,X,Y\n" + "".join(f"{i},1,0\n" for i in range(6)))
    assert run(["solve", str(lib / "library.h5"), "--device", "cpu", "--out", str(root / "sol"), "-q"]) == 0
    assert run(["report", str(root / "sol"), "--out", str(root / "rep")]) == 0
    return root


#: Where each input kind lies inside a case's copy of :func:`base`.
INPUTS = {
    "h5": "lib/library.h5",
    "instance": "lib/instance.txt",
    "sticks": "lib/sticks.csv",
    "truth": "lib/truth/fractions.csv",
    "truth_shifts": "lib/truth/shifts.csv",
    "truth_dir": "lib/truth",
    "lib_dir": "lib",
    "drnets": "lib.drnets",
    "xy": "xy",
    "comps": "comps.csv",
    "mask": "mask.csv",
    "sol": "sol",
    "fractions": "sol/fractions.csv",
    "summary": "sol/summary.json",
    "blob": "blob.bin",
    "note": "note.txt",
    "empty": "empty",
    "other_truth": "other/truth/fractions.csv",
    "alien": "alien.csv",
    "missing": "no/such/file.csv",
}
#: Output kinds: places in the case folder, and places named after the command's first input.
OUTPUTS = (
    "fresh",
    "fresh.h5",
    "fresh.txt",
    "fresh.drnets",
    "x.json",
    "file",
    "foreign",
    "earlier_sol",
    "earlier_rep",
    "under_file",
    "input",
    "inside_input",
    "around_input",
    "unwritable",
    "empty_name",
)

NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "-1", "3", "1e20", "-1e20", "nan", "inf", "-inf", "", " ", "abc", "0x10", "1_0"]),
    st.sampled_from([str(2**63 - 1), str(2**63), str(2**64), "9" * 40, "1e308", "1e-320", "-0", "0.5"]),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _path(kind: str) -> str:
    return "{" + kind + "}"


def _in(*kinds: str):
    return st.sampled_from(kinds).map(_path)


def _out(*kinds: str):
    return st.sampled_from(kinds or OUTPUTS).map(lambda k: "{out:" + k + "}")


def _in_as_out(*kinds: str):
    """Existing files of the inputs' folder named as an output (the command does not read them)."""
    return st.sampled_from(kinds).map(lambda k: "{as_out:" + k + "}")


def _opt(draw, option: str, good, bad) -> list[str]:
    """An option left out (3 in 7), given a good value (3 in 7) or a bad one (1 in 7)."""
    mode = draw(st.sampled_from(["omit"] * 3 + ["good"] * 3 + ["bad"]))
    if mode == "omit" or (mode == "good" and good is None):
        return []
    return [option, draw(good if mode == "good" else bad)]


def _flag(draw, option: str) -> list[str]:
    return [option] if draw(st.booleans()) else []


BAD_FILES = ("blob", "missing", "empty", "note")
GOOD_OUT = ("fresh", "fresh", "earlier_sol")
SEEDS = st.integers(0, 2**63 - 1).map(str)


@st.composite
def solve_args(draw):
    src = draw(
        st.sampled_from(["h5"] * 4 + ["instance", "instance", "xy", "xy", "sol", "drnets", "sticks", *BAD_FILES])
    )
    argv = ["solve", _path(src)]
    if src in ("instance", "xy"):
        argv += ["--phases", draw(st.one_of(_in("sticks", "sticks", "sticks"), _in("h5", *BAD_FILES)))]
    else:
        argv += _opt(draw, "--phases", _in("sticks"), _in("h5", "instance", *BAD_FILES))
    if src == "xy":
        argv += ["--compositions", draw(st.one_of(_in("comps", "comps"), _in("sticks", *BAD_FILES)))]
        argv += ["--wavelength", draw(st.one_of(st.just("1.5406"), st.just("1.5406"), NUMBERS))]
        argv += _opt(draw, "--x-unit", st.sampled_from(["two_theta", "auto"]), st.sampled_from(["q_A", "bad", ""]))
    else:
        argv += _opt(draw, "--wavelength", None, NUMBERS)
        argv += _opt(draw, "--compositions", None, _in("comps"))
    argv += _opt(draw, "--mask", _in("mask"), _in("sticks", "alien", *BAD_FILES))
    truth = _opt(draw, "--truth", _in("truth"), _in("truth_dir", "other_truth", "alien", *BAD_FILES))
    argv += truth + _opt(draw, "--truth-shifts", _in("truth_shifts") if truth else None, _in("blob", "missing"))
    argv += ["--device", draw(st.sampled_from(["cpu"] * 5 + ["CPU", " cpu", "tpu", "", "cuda:x"]))]
    argv += _opt(draw, "--seed", SEEDS, NUMBERS)
    argv += ["--out", draw(st.one_of(_out(*GOOD_OUT), _out()))]
    return argv + _flag(draw, "--force") + _flag(draw, "--resume") + _flag(draw, "--quiet")


@st.composite
def evaluate_args(draw):
    src = draw(st.sampled_from(["sol", "sol", "fractions", "truth", "h5", "alien", *BAD_FILES]))
    argv = ["evaluate", _path(src)]
    argv += _opt(draw, "--truth", _in("truth"), _in("truth_dir", "other_truth", "alien", "sol", *BAD_FILES))
    argv += _opt(draw, "--truth-shifts", _in("truth_shifts"), _in("blob", "missing", "empty"))
    for _ in range(draw(st.integers(0, 2))):
        argv += ["--threshold", draw(st.one_of(st.sampled_from(["0.02", "0.001", "0.5"]), NUMBERS))]
    argv += _opt(
        draw, "--json", _out("fresh", "x.json", "file"), st.one_of(_out(), _in_as_out("summary", "fractions", "sol"))
    )
    return argv


@st.composite
def convert_args(draw):
    src = draw(st.sampled_from(["h5", "h5", "instance", "xy", "drnets", "sol", "sticks", *BAD_FILES]))
    argv = ["convert", _path(src)]
    argv.append(
        draw(
            st.one_of(
                _out("fresh.h5", "fresh.txt", "fresh.drnets"), _out(), _in_as_out("h5", "instance", "sticks", "drnets")
            )
        )
    )
    argv += _opt(draw, "--phases", _in("sticks"), _in(*BAD_FILES))
    if src == "xy":
        argv += ["--compositions", draw(st.one_of(_in("comps"), _in("blob", "missing")))]
        argv += ["--wavelength", draw(st.one_of(st.just("1.5406"), NUMBERS))]
    argv += _opt(draw, "--x-unit", st.sampled_from(["two_theta", "auto"]), st.sampled_from(["q_A", "bad"]))
    return argv + _flag(draw, "--force")


@st.composite
def info_args(draw):
    src = draw(st.sampled_from(["h5", "h5", "instance", "xy", "drnets", "sol", "sticks", *BAD_FILES]))
    argv = ["info", _path(src)]
    argv += _opt(draw, "--phases", _in("sticks"), _in("h5", *BAD_FILES))
    if src == "xy":
        argv += ["--compositions", draw(st.one_of(_in("comps"), _in("blob", "missing", "empty")))]
        argv += ["--wavelength", draw(st.one_of(st.just("1.5406"), NUMBERS))]
    argv += _opt(draw, "--x-unit", st.sampled_from(["two_theta", "auto"]), st.sampled_from(["q_nm", "bad", ""]))
    return argv + _flag(draw, "--json")


@st.composite
def report_args(draw):
    src = draw(st.sampled_from(["sol", "sol", "sol", "fractions", "h5", "lib_dir", *BAD_FILES]))
    argv = ["report", _path(src)]
    argv += ["--out", draw(st.one_of(_out("fresh", "earlier_rep"), _out()))]
    argv += _opt(draw, "--truth", _in("truth"), _in("truth_dir", "other_truth", "alien", *BAD_FILES))
    argv += _opt(draw, "--title", st.text(max_size=30), st.just(""))
    return argv + _flag(draw, "--force")


@st.composite
def synth_args(draw):
    argv = ["synth", "--out", draw(st.one_of(_out("fresh"), _out()))]
    argv += ["--preset", draw(st.sampled_from(["easy", "easy", "standard", "hard", "", "impossible"]))]
    argv += ["--points", draw(st.one_of(st.integers(1, 8).map(str), st.integers(1, 8).map(str), NUMBERS))]
    argv += ["--q-points", draw(st.one_of(st.integers(2, 60).map(str), st.integers(2, 60).map(str), NUMBERS))]
    argv += _opt(draw, "--seed", SEEDS, NUMBERS)
    argv += _opt(draw, "--system", st.sampled_from(["ternary", "quaternary"]), st.sampled_from(["binary", ""]))
    argv += _opt(draw, "--sampling", st.sampled_from(["grid", "random"]), st.sampled_from(["spiral", ""]))
    return argv + _flag(draw, "--force")


# --------------------------------------------------------------------------- one case


def _case_folder(base: Path) -> Path:
    """A case's own folder: a copy of the inputs, a plain file, someone's folder, earlier outputs."""
    case = Path(tempfile.mkdtemp(prefix="drnets-fuzz-"))
    shutil.copytree(base, case / "in", symlinks=True)
    (case / "file").write_text("a file of the user's\n")
    (case / "foreign").mkdir()
    (case / "foreign" / "mine.txt").write_text("keep me\n")
    shutil.copytree(base / "sol", case / "earlier_sol")
    shutil.copytree(base / "rep", case / "earlier_rep")
    return case


def _resolve(argv: list[str], case: Path) -> tuple[list[str], list[Path]]:
    """The argv with real paths, and the input paths it names (the first argument's for OUT kinds)."""
    first = None
    inputs: list[Path] = []
    out = []
    for a in argv:
        m = re.fullmatch(r"\{(\w+)\}", a)
        if m:
            p = case / "in" / INPUTS[m.group(1)]
            first = first or p
            inputs.append(p)
            out.append(str(p))
            continue
        m = re.fullmatch(r"\{as_out:(\w+)\}", a)
        if m:
            out.append(str(case / "in" / INPUTS[m.group(1)]))
            continue
        m = re.fullmatch(r"\{out:([\w.]+)\}", a)
        if m:
            kind = m.group(1)
            anchor = first or case / "in" / INPUTS["h5"]
            p = {
                "file": case / "file",
                "under_file": case / "file" / "sub",
                "foreign": case / "foreign",
                "earlier_sol": case / "earlier_sol",
                "earlier_rep": case / "earlier_rep",
                "input": anchor,
                "inside_input": anchor / "sub",
                "around_input": anchor.parent,
                "unwritable": Path("/sys/drnets-fuzz-out"),
                "empty_name": Path(""),
            }.get(kind, case / "new" / kind)
            out.append("" if kind == "empty_name" else str(p))
            continue
        out.append(a)
    return out, inputs


def _digest(paths) -> dict[str, str]:
    files = []
    for p in paths:
        p = Path(p)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files += [f for f in p.rglob("*") if f.is_file()]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(set(files))}


def _tree(case: Path) -> dict[str, str]:
    return _digest([case])


def _check(argv: list[str], base: Path) -> None:
    case = _case_folder(base)
    try:
        real, inputs = _resolve(argv, case)
        before_inputs = _digest(inputs)
        before_all = _tree(case)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(case), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(real)  # in the case's folder: an empty --out is "." there
        text = out.getvalue() + err.getvalue()
        if LOG:
            with open(LOG, "a", encoding="utf-8") as fh:
                first = (err.getvalue().strip().splitlines() or [""])[0]
                case_log = {"command": argv[0], "code": code, "traceback": "Traceback" in text, "error": first}
                fh.write(json.dumps(case_log) + "\n")
        assert code in (0, 2), (real, code, text[-2000:])
        assert "Traceback" not in text, (real, text[-2000:])
        after = _digest(inputs)  # new files beside the inputs may be legal outputs; the inputs themselves stay
        assert all(after.get(f) == h for f, h in before_inputs.items()), ("an input changed", real)
        assert not [p for p in case.rglob("*") if p.name.endswith(".tmp")], ("temporary file left", real)
        if code == 2:
            lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: "), (real, err.getvalue())
            named = [
                t for t in real if len(t) > 1 and (t in lines[0] or (t.startswith("/") and Path(t).name in lines[0]))
            ]
            assert named or re.search(r"--[a-z]|\bOUT\b", lines[0]), ("names no file or option", real, lines[0])
            assert _tree(case) == before_all, ("a refused command left output", real)
            assert not Path("/sys/drnets-fuzz-out").exists()
    finally:
        shutil.rmtree(case, ignore_errors=True)


@FUZZ
@given(argv=solve_args())
def test_fuzz_solve(base, argv):
    _check(argv, base)


@FUZZ
@given(argv=evaluate_args())
def test_fuzz_evaluate(base, argv):
    _check(argv, base)


@FUZZ
@given(argv=convert_args())
def test_fuzz_convert(base, argv):
    _check(argv, base)


@FUZZ
@given(argv=info_args())
def test_fuzz_info(base, argv):
    _check(argv, base)


@FUZZ
@given(argv=report_args())
def test_fuzz_report(base, argv):
    _check(argv, base)


@FUZZ
@given(argv=synth_args())
def test_fuzz_synth(base, argv):
    _check(argv, base)
