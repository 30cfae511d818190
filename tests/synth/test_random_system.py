"""Random chemical systems: the physics of the truth, prototypes, determinism, files, solver."""

from __future__ import annotations

import re

import numpy as np
import pytest

from drnets.core import InputError, parse_formula
from drnets.evaluate import audit_solution, audit_summary
from drnets.io import load
from drnets.structure import gibbs_limits
from drnets.synth import generate, write_synthetic

SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)


@pytest.fixture(scope="module")
def libraries():
    # Drawn systems and conditions, at test sizes (points and Q points overridden).
    return {s: generate(system="random", seed=s, points=150, q_points=120) for s in SEEDS}


def _system_rows(ds, truth):
    """Columns of the system's phases (no substrate) and their fractions renormalised to 1."""
    keep = ~ds.phases.is_substrate
    f = truth.fractions[:, keep]
    return [lbl for lbl, k in zip(truth.labels, keep) if k], f / f.sum(axis=1, keepdims=True)


def _vec(d: dict[str, float] | None, elements) -> np.ndarray | None:
    return None if d is None else np.array([d.get(e, 0.0) for e in elements])


@pytest.mark.parametrize("seed", SEEDS)
def test_gibbs_rule_by_construction(libraries, seed):
    ds, truth = libraries[seed]
    _, f = _system_rows(ds, truth)
    count = (f > 0).sum(axis=1)
    assert np.all(count >= 1)
    assert np.all(count <= gibbs_limits(ds.library.compositions))
    assert len(ds.library.elements) in (3, 4)


@pytest.mark.parametrize("seed", SEEDS)
def test_regions_connected_and_rules_hold(libraries, seed):
    # The exact truth (every fraction above 0 counts) breaks none of the audited rules
    # but the composition rule (a solid solution moves away from its card's composition).
    ds, truth = libraries[seed]
    a = audit_summary(audit_solution(truth.as_solution(), ds.library, ds.phases, threshold=0.0))
    assert a["gibbs_violations"] == 0
    assert a["connectivity_violations"] == 0  # every phase region and phase field is one piece
    assert a["alloying_violations"] == 0


def test_lever_rule_reproduces_composition(libraries):
    # sum_p f_p c_p = c, with a solid solution's actual composition along its tie line,
    # read off its Vegard shift; line compounds at their formula's composition.
    plain_points = 0
    for ds, truth in libraries.values():
        els = ds.library.elements
        comp = ds.library.compositions
        labels, f = _system_rows(ds, truth)
        stable = {s["label"]: s for s in truth.meta["stable_phases"]}
        rebuilt = np.zeros_like(comp)
        plain = np.ones(comp.shape[0], dtype=bool)  # points without a solid solution
        for j, lbl in enumerate(labels):
            if lbl not in stable:
                assert not np.any(f[:, j] > 0), f"distractor {lbl} present"
                continue
            s = stable[lbl]
            host, far = _vec(s["host"], els), _vec(s["far"], els)
            np.testing.assert_allclose(host, ds.phases.compositions[ds.phases.index(lbl)], atol=1e-12)
            if far is None or s["delta"] == 0:
                c = np.broadcast_to(host, comp.shape)
            else:
                t = (np.nan_to_num(truth.shifts[:, truth.labels.index(lbl)], nan=1.0) - 1.0) / s["delta"]
                assert np.all((t >= -1e-9) & (t <= 1 + 1e-9))
                c = host[None, :] + t[:, None] * (far - host)[None, :]
                plain &= ~(f[:, j] > 0)
            rebuilt += f[:, j : j + 1] * c
        np.testing.assert_allclose(rebuilt, comp, atol=1e-9)
        plain_points += int(plain.sum())
    assert plain_points > 50


def test_vegard_shift_linear_along_solid_solution(libraries):
    # Where one solid solution coexists with line compounds, the lever rule alone gives its
    # composition; that composition lies on the host-far segment and its shift is 1 + t*delta.
    checked = 0
    for ds, truth in libraries.values():
        els = ds.library.elements
        labels, f = _system_rows(ds, truth)
        stable = {s["label"]: s for s in truth.meta["stable_phases"]}
        ss = [j for j, lbl in enumerate(labels) if lbl in stable and stable[lbl]["far"] and stable[lbl]["delta"]]
        for j in ss:
            s = stable[labels[j]]
            host, far = _vec(s["host"], els), _vec(s["far"], els)
            others = [k for k in range(len(labels)) if k != j]
            alone = (f[:, j] > 0.05) & ~np.any([(f[:, k] > 0) & (k in ss) for k in others], axis=0)
            for i in np.flatnonzero(alone):
                rest = sum(
                    f[i, k] * _vec(stable[labels[k]]["host"], els)
                    for k in others
                    if labels[k] in stable and f[i, k] > 0
                )
                c = (ds.library.compositions[i] - rest) / f[i, j]
                t = float(np.dot(c - host, far - host) / np.dot(far - host, far - host))
                np.testing.assert_allclose(c, host + t * (far - host), atol=1e-7)
                shift = truth.shifts[i, truth.labels.index(labels[j])]
                assert shift == pytest.approx(1.0 + t * s["delta"], abs=1e-9)
                assert abs(shift - 1.0) <= 0.05 + 1e-12
                checked += 1
    assert checked > 20


def test_phases_labels_and_lookalikes(libraries):
    lookalikes = 0
    for ds, truth in libraries.values():
        details = truth.meta["system_details"]["phases"]
        assert set(truth.labels) <= set(details)
        for ph in ds.phases:
            d = details[ph.label]
            assert ph.formula == d["formula"] and parse_formula(ph.formula)
            assert re.fullmatch(re.escape(f"{d['formula']}_{d['prototype']}") + r"(-\d+)?", ph.label), ph.label
            assert ph.hkl is not None and ph.cell is not None and ph.q.size >= 3
        stable = {s["label"] for s in truth.meta["stable_phases"]}
        for lbl in truth.meta["distractors"]:
            role = details[lbl]["role"]
            m = re.match(r"look-alike of (\S+) \(([-+]\d+\.\d) % in lattice\)", role)
            if not m:
                continue
            lookalikes += 1
            src = m.group(1)
            assert src in stable and src != lbl
            assert details[src]["prototype"] == details[lbl]["prototype"]
            ratio = np.array(details[lbl]["cell"]) / np.array(details[src]["cell"]) - 1.0
            assert np.all((np.abs(ratio) > 0.005 - 0.0035) & (np.abs(ratio) < 0.03 + 0.0035)), (lbl, ratio)
        imp = truth.impurity
        if imp is not None:
            assert imp not in truth.labels and imp in details
    assert lookalikes >= len(SEEDS)


def test_drawn_conditions_in_range():
    seen_grid = seen_random = 0
    for seed in range(12):
        ds, truth = generate(system="random", seed=seed, q_points=16)
        p = truth.meta["parameters"]
        assert 100 <= p["points"] <= 1000 and ds.library.n_points <= p["points"]
        assert ds.library.n_points + truth.meta["points_dropped"] == p["points"]
        assert 10 <= p["snr"] <= 100 and 0 <= p["eta"] <= 1 and p["max_shift"] == 0.05
        assert p["width"][1] > p["width"][0]
        seen_grid += p["sampling"] == "grid"
        seen_random += p["sampling"] == "random"
        d = [abs(s["delta"]) for s in truth.meta["stable_phases"]]
        assert max(d) <= 0.05
    assert seen_grid and seen_random


def test_preset_conditions_with_random_chemistry():
    ds, truth = generate("easy", system="random", seed=3, points=40, q_points=100)
    assert truth.meta["preset"] == "easy" and truth.meta["system_key"] == "random"
    assert len(truth.meta["distractors"]) <= 2  # the preset's n_distractors
    assert all(s["delta"] == 0 for s in truth.meta["stable_phases"])  # easy: no shifts
    np.testing.assert_array_equal(ds.library.patterns, truth.clean)  # easy: no noise
    with pytest.raises(InputError):
        generate(system="nonsense")


def test_same_seed_same_bytes_and_loads(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    files = write_synthetic(a, system="random", seed=11, points=60, q_points=150)
    write_synthetic(b, system="random", seed=11, points=60, q_points=150)
    write_synthetic(c, system="random", seed=12, points=60, q_points=150)
    for p in files:
        name = p.relative_to(a)
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "sticks.csv").read_bytes() != (c / "sticks.csv").read_bytes()
    assert (a / "instance.txt").read_bytes() != (c / "instance.txt").read_bytes()
    ds, truth = generate(system="random", seed=11, points=60, q_points=150)
    for got in (load(a / "library.h5"), load(a / "instance.txt", phases=a / "sticks.csv")):
        assert got.phases.labels == truth.labels
        np.testing.assert_allclose(got.library.patterns, ds.library.patterns, rtol=1e-7)


def test_cli_random_system_and_info(tmp_path):
    from typer.testing import CliRunner

    from drnets.cli import app

    runner = CliRunner()
    out = tmp_path / "lib"
    res = runner.invoke(app, ["synth", "--system", "random", "--seed", "4", "--points", "50", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "random-system" in res.output and (out / "truth" / "shifts.csv").exists()
    res = runner.invoke(app, ["info", str(out / "library.h5")])
    assert res.exit_code == 0, res.output
    assert "50" in res.output
    res = runner.invoke(app, ["synth", "--system", "nope", "--out", str(tmp_path / "x")])
    assert res.exit_code != 0


def test_prototype_intensities_match_pymatgen():
    pytest.importorskip("pymatgen")
    from drnets.synth._make_prototypes import self_check
    from drnets.synth._prototypes import prototype_data

    assert self_check(prototype_data()) < 1e-4


def test_solver_on_small_random_system():
    from drnets.solve import PhaseMapper

    ds, _ = generate(system="random", seed=3, points=40, q_points=400)
    sol = PhaseMapper(device="cpu", seed=0).fit(ds.library, ds.phases).solution_
    assert sol.fractions.shape == (40, len(ds.phases))
    audit = audit_summary(audit_solution(sol, ds.library, ds.phases, threshold=1e-3))
    assert audit["gibbs_violations"] == 0
