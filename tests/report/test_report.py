"""The report stage: offline HTML (plotly inlined), PNG figures, the CLI, and a headless-browser check."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from drnets.core import Dataset, InputError, Library, Phase, PhaseLibrary, Solution, render_solution
from drnets.report import build_report, make_report, phase_colors, plane_coordinates

from ..conftest import shared_path

CHROMIUM = Path("/usr/bin/chromium")
PNG_NAMES = ("phase_map", "fraction_maps", "shift_maps", "heatmap", "worst_point")


# --------------------------------------------------------------------------- helpers


def _grid(m: int, steps: int) -> np.ndarray:
    """All compositions of ``m`` elements on a grid of ``steps`` intervals."""
    pts = []

    def rec(prefix, left):
        if len(prefix) == m - 1:
            pts.append(prefix + [left])
            return
        for a in range(left + 1):
            rec(prefix + [a], left - a)

    rec([], steps)
    return np.array(pts, dtype=float) / steps


def _synthetic(elements=("Al", "Li", "Fe"), steps=4, seed=0):
    """A small library whose patterns are rendered from a known solution (phases = pure oxides
    plus one mixed phase), with the solution itself."""
    rng = np.random.default_rng(seed)
    m = len(elements)
    comp = _grid(m, steps)
    q = np.linspace(15.0, 60.0, 451)
    formulas = {"Al": "Al2O3", "Li": "Li2O", "Fe": "Fe2O3", "Cu": "CuO"}
    phases = []
    for e in elements:
        pos = np.sort(rng.uniform(17.0, 58.0, 6))
        phases.append(Phase(f"{formulas[e]}_test", formulas[e], pos, rng.uniform(0.2, 1.0, 6)))
    phases.append(Phase("LiFeO2_test", "LiFeO2", np.sort(rng.uniform(17.0, 58.0, 5)), rng.uniform(0.2, 1.0, 5)))
    pl = PhaseLibrary(phases, tuple(elements))
    # Fractions: the pure phases follow the composition; the mixed phase sits near Li = Fe.
    frac = np.zeros((len(comp), len(phases)))
    frac[:, :m] = comp**2
    li, fe = elements.index("Li"), elements.index("Fe")
    frac[:, m] = np.clip(1.0 - 4.0 * np.abs(comp[:, li] - comp[:, fe]), 0, None) * (comp[:, li] + comp[:, fe])
    frac = np.where(frac < 0.02, 0.0, frac)
    frac /= frac.sum(axis=1, keepdims=True)
    shifts = np.where(frac > 0, 1.0 + 0.01 * (comp[:, [0]] - 0.5), np.nan)
    labels = pl.labels
    sol = Solution(
        labels,
        frac,
        shifts,
        frac.copy(),
        np.full((len(labels), 2), 0.25),
        metadata={
            "inputs": {"library": "synthetic"},
            "version": "test",
            "seed": seed,
            "device": "cpu",
            "wall_time_s": 0.0,
        },
    )
    patterns = render_solution(sol, pl, q) + 0.002 * rng.random((len(comp), q.size))
    lib = Library(tuple(elements), comp, q, patterns, source="synthetic")
    return lib, pl, sol


def _write_phase_csv(path: Path, labels, values) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point", *labels])
        for i, row in enumerate(values):
            w.writerow([i, *("" if not np.isfinite(v) else f"{v:.6g}" for v in row)])


def _solution_folder(tmp: Path, lib, pl, sol) -> Path:
    from drnets.io import write_hdf5

    folder = tmp / "solution"
    folder.mkdir()
    write_hdf5(Dataset(lib, pl, None, None, sol), folder / "solution.h5")
    _write_phase_csv(folder / "fractions.csv", sol.labels, sol.fractions)
    _write_phase_csv(folder / "shifts.csv", sol.labels, sol.shifts)
    (folder / "summary.json").write_text(json.dumps({"metadata": sol.metadata}))
    return folder


@pytest.fixture(scope="module")
def synth():
    return _synthetic()


@pytest.fixture(scope="module")
def synth_report(synth, tmp_path_factory):
    lib, pl, sol = synth
    out = tmp_path_factory.mktemp("report")
    truth = {lbl: sol.fractions[:, k] for k, lbl in enumerate(sol.labels)}
    return build_report(lib, pl, sol, out, title="synthetic test", truth=truth), out


# --------------------------------------------------------------------------- content


def test_html_is_self_contained(synth_report):
    res, out = synth_report
    text = Path(res["html"]).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?https?:", text, re.I), "a script is loaded from the network"
    assert not re.search(r"<link[^>]+href=[\"']?https?:", text, re.I), "a stylesheet is loaded from the network"
    srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", text, re.I)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), "an image is not inlined"
    assert "Plotly" in text and len(text) > 1_000_000  # plotly.js inlined (several MB)


def test_html_has_map_viewer_and_sections(synth_report):
    res, _ = synth_report
    text = Path(res["html"]).read_text(encoding="utf-8")
    for needle in (
        'id="phase-map"',
        'id="viewer"',
        'id="point-input"',
        'id="heatmap"',
        'id="report-data"',
        'id="fraction-maps-png"',
        'id="shift-maps-png"',
        'id="phase-map-png"',
        'id="audit"',
        'id="metrics"',
        'id="metadata"',
        "plotly_click",
        "seed",
    ):
        assert needle in text, needle
    blob = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', text, re.S).group(1)
    data = json.loads(blob.replace("<\\/", "</"))
    assert len(data["points"]) == res["reconstruction"]["rel_l2"].__len__()
    assert data["mapkind"] == "ternary"
    p0 = data["points"][0]
    assert len(p0["x"]) == len(data["q"]) and len(p0["r"]) == len(data["q"])
    assert p0["k"], "sticks of the present phases"


def test_pngs_exist(synth_report):
    res, out = synth_report
    from PIL import Image

    assert set(res["png"]) == set(PNG_NAMES)
    for name, p in res["png"].items():
        assert p.exists() and p.stat().st_size > 5000, name
        w, h = Image.open(p).size
        assert w >= 600 and h >= 400, name


def test_reconstruction_is_good_on_rendered_data(synth_report):
    res, _ = synth_report
    assert res["reconstruction"]["rel_l1_total"] < 0.05
    assert res["comparison"]["by_threshold"][0]["exact_match"] == pytest.approx(1.0)


def _used_colors(png: Path) -> set[tuple[int, int, int]]:
    from PIL import Image

    a = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    cols, counts = np.unique(a, axis=0, return_counts=True)
    return {tuple(int(v) for v in c) for c, n in zip(cols, counts) if n >= 8}


def test_colours_consistent_across_figures(synth, synth_report):
    lib, pl, sol = synth
    res, _ = synth_report
    text = Path(res["html"]).read_text(encoding="utf-8")
    blob = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', text, re.S).group(1)
    data = json.loads(blob.replace("<\\/", "</"))
    active = np.argsort(-sol.fractions.sum(axis=0), kind="stable")
    expected = phase_colors(sol.labels, [int(k) for k in active if (sol.fractions[:, k] > 1e-3).any()])
    assert data["colors"] == [expected[lbl] for lbl in sol.labels]
    # the same colour per phase in the plotly map's traces and in the phase table's swatches
    for lbl in sol.labels:
        assert f"background:{expected[lbl]}" in text
    # and each phase's colour is drawn, as is, in the PNG phase map (pies), heat map and point figure
    for name in ("phase_map", "heatmap"):
        drawn = _used_colors(res["png"][name])
        for lbl in sol.labels:
            h = expected[lbl].lstrip("#")
            rgb = tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))
            assert any(max(abs(a - b) for a, b in zip(rgb, c)) <= 3 for c in drawn), (name, lbl)


def test_plotly_map_traces_use_phase_colours(synth):
    from drnets.report import _html as H

    lib, pl, sol = synth
    colors = phase_colors(sol.labels)
    hover = [str(i) for i in range(lib.n_points)]
    fig = H.map_figure(lib.elements, lib.compositions, sol.fractions, sol.labels, colors, 1e-3, hover)
    seen = set()
    for tr in fig.data:
        if tr.name in colors and "markers" in (tr.mode or ""):
            assert tr.marker.color == colors[tr.name]
            seen.add(tr.name)
    assert seen, "no phase trace on the map"
    # the phase-region shading of a single phase is drawn in that phase's colour
    for tr in fig.data:
        if tr.name in colors and tr.fill == "toself":
            h = colors[tr.name].lstrip("#")
            assert tr.fillcolor.startswith("rgba({},{},{},".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4))))


def test_plane_coordinates_corners():
    """Ternary maps are the unit triangle with element 0 on top; binaries the unit segment."""
    tri = plane_coordinates(np.eye(3))
    np.testing.assert_allclose(tri, [[0.5, np.sqrt(3.0) / 2.0], [0.0, 0.0], [1.0, 0.0]])
    d = np.linalg.norm(tri[:, None] - tri[None], axis=2)
    np.testing.assert_allclose(d[~np.eye(3, dtype=bool)], 1.0)
    np.testing.assert_array_equal(plane_coordinates(np.array([[1.0, 0.0], [0.25, 0.75]])), [[0.0, 0.0], [0.75, 0.0]])
    assert plane_coordinates(np.eye(5)).shape == (5, 2)


def test_quaternary_tetrahedron(tmp_path):
    lib, pl, sol = _synthetic(elements=("Al", "Li", "Fe", "Cu"), steps=3, seed=1)
    res = build_report(lib, pl, sol, tmp_path)
    text = Path(res["html"]).read_text(encoding="utf-8")
    assert '"type":"scatter3d"' in text.replace(" ", "")
    assert '"mapkind":"tetra"' in text
    for p in res["png"].values():
        assert p.stat().st_size > 5000


def test_many_points_are_thinned(tmp_path, monkeypatch):
    from drnets.report import _report as R

    lib, pl, sol = _synthetic(steps=4)
    monkeypatch.setattr(R, "VIEWER_VALUES", 10_000)
    res = build_report(lib, pl, sol, tmp_path)
    text = Path(res["html"]).read_text(encoding="utf-8")
    m = re.search(r'"stride":(\d+)', text)
    assert m and int(m.group(1)) > 1


def test_mismatched_inputs_are_input_errors(synth, tmp_path):
    lib, pl, sol = synth
    with pytest.raises(InputError):
        build_report(lib.subset(np.arange(3)), pl, sol, tmp_path)
    other = PhaseLibrary([Phase("Al2O3_x", "Al2O3", [20.0], [1.0])], lib.elements)
    with pytest.raises(InputError):
        build_report(lib, other, sol, tmp_path)
    with pytest.raises(InputError):
        make_report(tmp_path / "missing", tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError):
        make_report(empty, tmp_path / "out")


def test_interrupted_answer_is_said_first(synth, tmp_path):
    import copy

    lib, pl, sol = synth
    partial = copy.copy(sol)
    partial.metadata = {**sol.metadata, "interrupted": True}
    res = build_report(lib, pl, partial, tmp_path / "partial")
    text = Path(res["html"]).read_text(encoding="utf-8")
    assert re.search(r"<title>PARTIAL ANSWER", text) and re.search(r"<h1>PARTIAL ANSWER", text)
    res = build_report(lib, pl, sol, tmp_path / "whole")
    assert "PARTIAL ANSWER" not in Path(res["html"]).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- CLI


def test_cli_report_on_solution_folder(synth, tmp_path, capsys):
    from drnets.cli import main

    lib, pl, sol = synth
    folder = _solution_folder(tmp_path, lib, pl, sol)
    out = tmp_path / "rep"
    with pytest.raises(SystemExit) as exc:
        main(
            ["report", str(folder), "--out", str(out), "--truth", str(folder / "fractions.csv"), "--title", "CLI test"]
        )
    assert exc.value.code in (0, None)
    assert (out / "report.html").exists()
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>CLI test</title>" in text and 'id="metrics"' in text
    for name in PNG_NAMES:
        assert (out / f"{name}.png").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


def test_cli_report_bad_input_exits_2(tmp_path, capsys):
    from drnets.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "rep")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1


def test_make_report_from_csvs_with_library(synth, tmp_path):
    lib, pl, sol = synth
    folder = tmp_path / "csv_only"
    folder.mkdir()
    _write_phase_csv(folder / "fractions.csv", sol.labels, sol.fractions)
    _write_phase_csv(folder / "shifts.csv", sol.labels, sol.shifts)
    res = make_report(folder, tmp_path / "out", library=lib, phases=pl)
    assert res["html"].exists()


# --------------------------------------------------------------------------- Al-Li-Fe


def _alfe_solution(lib):
    from drnets.evaluate import read_fractions_csv

    t = read_fractions_csv(shared_path("al-li-fe", "truth", "fractions.csv"))
    pts = np.arange(lib.n_points)
    frac = t.aligned(pts, t.labels)
    shifts_csv = shared_path("al-li-fe", "truth").joinpath("shifts.csv")
    if shifts_csv.exists():
        from drnets.evaluate import read_shifts_csv

        sh = read_shifts_csv(shifts_csv).aligned(pts, t.labels, fill=np.nan)
    else:
        sh = np.where(frac > 0, 1.0, np.nan)
    amp = frac * lib.patterns.max(axis=1, keepdims=True)
    return Solution(
        t.labels,
        frac,
        sh,
        amp,
        np.full((len(t.labels), 2), 0.25),
        metadata={"inputs": {"library": "al-li-fe/instance.txt"}, "source": "ground truth"},
    ), t


def test_alfe_report(alfe_instance, tmp_path):
    lib, pl = alfe_instance.library, alfe_instance.phases
    sol, truth = _alfe_solution(lib)
    # no timing threshold here (the project keeps timings in benchmarks/, not in tests)
    res = build_report(lib, pl, sol, tmp_path, truth=truth)
    text = Path(res["html"]).read_text(encoding="utf-8")
    assert text.count('"name":') >= lib.n_points
    assert res["comparison"]["by_threshold"][0]["exact_match"] == pytest.approx(1.0)
    for p in res["png"].values():
        assert p.stat().st_size > 20000


# --------------------------------------------------------------------------- headless browser


def _chromium(*args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        "--enable-unsafe-swiftshader",
        "--no-first-run",
        "--disable-extensions",
        "--virtual-time-budget=4000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


_JS_ERROR = re.compile(r"Uncaught|SyntaxError|ReferenceError|TypeError|is not defined|is not a function", re.I)


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium not installed (/usr/bin/chromium; Debian package 'chromium')"
)
@pytest.mark.parametrize("elements", [("Al", "Li", "Fe"), ("Al", "Li", "Fe", "Cu")], ids=["ternary", "quaternary"])
def test_renders_in_headless_chromium(elements, tmp_path):
    lib, pl, sol = _synthetic(elements=elements, steps=4 if len(elements) == 3 else 3)
    res = build_report(lib, pl, sol, tmp_path / "rep")
    url = Path(res["html"]).resolve().as_uri()
    shot = tmp_path / "rep" / "screenshot.png"
    log = _chromium("--enable-logging=stderr", "--v=0", f"--screenshot={shot}", "--window-size=1400,2000", url)
    console = [ln for ln in log.stderr.splitlines() if "CONSOLE" in ln]
    errors = [ln for ln in console if _JS_ERROR.search(ln)]
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)
    assert shot.exists() and shot.stat().st_size > 20000, log.stderr[-2000:]
    # '#click=3' makes the page emit a plotly click on point 3 of the map: the viewer must follow.
    dom = _chromium("--dump-dom", url + "#click=3").stdout
    assert "main-svg" in dom, "plotly drew nothing"
    for div in ("phase-map", "viewer", "heatmap"):
        m = re.search(rf'<div id="{div}"[^>]*class="[^"]*js-plotly-plot', dom)
        assert m, f"plotly figure {div!r} not rendered"
    viewer = dom.split('id="viewer"', 1)[1]
    assert "plot-container" in viewer[:20000], "the point viewer is empty"
    # The viewer shows the clicked point.
    assert re.search(r'<div id="point-info">point 3 ', dom), "clicking a map point did not select it"
    assert 'value="3"' in dom or re.search(r"point 3 — ", dom)
    keep = os.environ.get("DRNETS_SCREENSHOT_DIR")  # where to keep the screenshots (else only in tmp_path)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"report-{len(elements)}-elements.png")


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium not installed (/usr/bin/chromium; Debian package 'chromium')"
)
def test_chromium_error_capture_works(tmp_path):
    """The JavaScript-error check above would see an uncaught error (guards the log format)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction()</script></body></html>")
    log = _chromium("--enable-logging=stderr", "--v=0", "--dump-dom", bad.resolve().as_uri())
    assert any(_JS_ERROR.search(ln) for ln in log.stderr.splitlines() if "CONSOLE" in ln)


def test_confidence_views(synth, tmp_path):
    import copy

    from drnets.core import Alternatives, Unexplained

    lib, pl, sol0 = synth
    sol = copy.deepcopy(sol0)
    n, p = sol.fractions.shape
    present = sol.fractions >= 0.02
    sol.probabilities = np.where(present, 0.9, 0.05)
    sets = np.full((n, 2, p), -1)
    for i in range(n):
        ks = np.flatnonzero(present[i])
        sets[i, 0, : ks.size] = ks
        sets[i, 1, : ks.size - 1] = ks[:-1]
    sol.alternatives = Alternatives(sets, np.tile([0.8, 0.15], (n, 1)), np.full(n, 0.8))
    flag = np.zeros(n, dtype=bool)
    flag[:3] = True
    sol.unexplained = Unexplained(
        flag,
        np.where(flag, 0.2, 0.0),
        np.array([[0, 33.3, 0.2], [1, 33.4, 0.2], [2, 33.5, 0.2]]),
        [{"peaks": [33.4], "heights": [0.2], "points": [0, 1, 2], "matches": [{"label": "X_1", "score": 0.9}]}],
    )
    truth = {lbl: sol.fractions[:, k] for k, lbl in enumerate(sol.labels)}
    res = build_report(lib, pl, sol, tmp_path / "r", truth=truth)
    assert {"confidence_map", "unexplained_map", "reliability"} <= set(res["png"])
    page = res["html"].read_text()
    assert "Confidence and unexplained signal" in page and "unknown-phase candidates" in page
    assert "alternatives: " in page and "X_1 (0.90)" in page
    assert "unexplained peaks (flagged): 33.30" in page
