"""Fit and check the solver's calibration map; measure the unexplained-signal flags.

    python benchmarks/calibrate.py collect [--cache DIR]     # solve the libraries (cached per library)
    python benchmarks/calibrate.py fit [--write]             # fit the map on the tune half; --write stores it
    python benchmarks/calibrate.py check                     # calibration and flags on held-out libraries
    python benchmarks/calibrate.py unknown                   # one true phase removed: is it flagged?

The map (``src/drnets/solve/data/calibration.json``) is fitted on the panel's **tune** half
only (random systems seeds 100-115 at 200 points, presets easy/standard/hard seeds 0-2; see
benchmarks/README.md) and checked on libraries that are in neither half of the panel:
random systems seeds 300-307 (200 points), presets seeds 6-8, and Al-Li-Fe (instance +
sticks, its truth). The report half (seeds 200-215, presets 3-5) is never used here.

Each library is solved once (``collect``); what the fit needs (each point's competing sets
and their costs, the answer, the truth, the unexplained-signal inputs) is cached as .npz.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks import run as bench  # noqa: E402

TUNE = [{"kind": "random", "seed": s, "points": 200} for s in range(100, 116)] + [
    {"kind": "preset", "preset": p, "seed": s} for p in ("easy", "standard", "hard") for s in (0, 1, 2)
]
CHECK = (
    [{"kind": "random", "seed": s, "points": 200} for s in range(300, 308)]
    + [{"kind": "preset", "preset": p, "seed": s} for p in ("easy", "standard", "hard") for s in (6, 7, 8)]
    + [{"kind": "alfe_instance"}]
)
CACHE = Path(os.environ.get("DRNETS_CALIBRATION_CACHE", "/tmp/drnets_calibration"))
#: Presence level of the probabilities (the comparison's 2 %).
LEVEL = 0.02
#: Posterior parameters tried: temperature (per-phase costs), answer bonus, misfit reference and power.
GRID = [
    (float(t), b, m0, g)
    for t in np.geomspace(1, 4096, 25)
    for b in (0.0, 1.0, 2.0, 3.0, 5.0)
    for m0, g in ((1.0, 0.0), (1.0, 1.0), (4.0, 1.0), (4.0, 2.0), (16.0, 1.0), (16.0, 2.0), (64.0, 1.0))
]


def name(spec: dict[str, Any]) -> str:
    if spec["kind"] == "random":
        return f"random{spec['seed']}"
    if spec["kind"] == "preset":
        return f"{spec['preset']}{spec['seed']}"
    return spec["kind"]


def _truth_matrix(truth: Any, labels: list[str], n: int) -> np.ndarray:
    cols = truth if isinstance(truth, dict) else {lbl: truth.values[:, k] for k, lbl in enumerate(truth.labels)}
    return np.column_stack([np.asarray(cols.get(lbl, np.zeros(n)), dtype=float) for lbl in labels])


def collect_one(spec: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    """Solve one library (without phase ``drop`` among the candidates, if given); what the fit needs."""
    import torch

    from drnets.solve import PhaseMapper
    from drnets.solve._prepare import noise_variance

    torch.set_num_threads(1)
    case = bench.build_case(spec)
    lib, phases = case["library"], case["phases"]
    truth_all = _truth_matrix(case["truth"], phases.labels, lib.n_points)
    mask = case["mask"]
    if drop is not None:
        keep = [k for k, lbl in enumerate(phases.labels) if lbl != drop]
        phases = phases.subset(keep)
        mask = None if mask is None else mask[:, keep]
    t0 = time.perf_counter()
    m = PhaseMapper(seed=0).fit(lib, phases, mask=mask, max_phases=case["max_phases"])
    wall = time.perf_counter() - t0
    sol = m.solution_
    c = m.set_costs_
    scale = np.maximum(lib.patterns.max(1), 1e-30)
    pattern = lib.patterns / scale[:, None] - c.answer.background
    model = c.answer.model
    from drnets.solve._unexplained import held_peaks

    sq = np.zeros((len(phases), max(len(ph.q) for ph in phases)))
    si = np.zeros_like(sq)
    for k, ph in enumerate(phases):
        sq[k, : len(ph.q)], si[k, : len(ph.q)] = ph.q, ph.intensity
    held = [held_peaks(sq, si, np.flatnonzero(np.isfinite(row)), row[np.isfinite(row)]) for row in c.answer.shift]
    width = max(1, max(h.shape[0] for h in held))
    held_arr = np.full((lib.n_points, width, 2), np.nan)
    for i, h in enumerate(held):
        held_arr[i, : h.shape[0]] = h
    out = {
        "held": held_arr,
        "members": c.members,
        "misfit": c.misfit,
        "shares": c.shares,
        "cost": c.cost,
        "fractions": sol.fractions,
        "truth": _truth_matrix(case["truth"], phases.labels, lib.n_points),
        "truth_all": truth_all,
        "labels": np.array(phases.labels),
        "all_labels": np.array(case["phases"].labels),
        "q": lib.q,
        "pattern": pattern.astype(np.float32),
        "model": model.astype(np.float32),
        "noise_sd": np.sqrt(noise_variance(pattern)),
        "sigma": np.array(sol.metadata["sigma"], dtype=float),
        "edges": sol.edges,
        "wall_s": wall,
        "impurity": np.zeros(lib.n_points),
    }
    ts = case.get("truth_solution")
    if drop is not None:
        k = list(case["phases"].labels).index(drop)
        ph = case["phases"][drop]
        out["drop_q"] = np.asarray(ph.q, dtype=float)
        out["drop_intensity"] = np.asarray(ph.intensity, dtype=float)
        out["drop_fraction"] = truth_all[:, k]
        out["drop_shift"] = ts.shifts[:, k] if ts is not None else np.ones(lib.n_points)
    if spec["kind"] in ("random", "preset"):
        from drnets.synth import generate

        _, truth = generate(
            spec.get("preset"),
            points=spec.get("points"),
            seed=spec["seed"],
            system="random" if spec["kind"] == "random" else None,
        )
        rel = truth.impurity_amplitudes / np.maximum(truth.amplitudes.max(1), 1e-30)
        out["impurity"] = rel
    return out


def collect(specs: list[dict[str, Any]], cache: Path, drop_main: bool = False) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        path = cache / (name(spec) + ("_drop" if drop_main else "") + ".npz")
        if path.exists():
            continue
        drop = None
        if drop_main:
            case = bench.build_case(spec)
            t = _truth_matrix(case["truth"], case["phases"].labels, case["library"].n_points)
            sub = case["phases"].is_substrate
            counts = np.where(sub, -1, (t >= 0.2).sum(0))
            drop = case["phases"].labels[int(np.argmax(counts))]
        t0 = time.perf_counter()
        data = collect_one(spec, drop)
        np.savez_compressed(path, **data)
        print(f"{path.name}: {time.perf_counter() - t0:.1f} s", flush=True)


def load(specs: list[dict[str, Any]], cache: Path, suffix: str = "") -> list[tuple[str, dict[str, np.ndarray]]]:
    out = []
    for spec in specs:
        path = cache / (name(spec) + suffix + ".npz")
        if path.exists():
            out.append((name(spec), dict(np.load(path, allow_pickle=False))))
    return out


def held_of(d: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [row[np.isfinite(row[:, 0])] for row in d["held"]]


def costs_of(d: dict[str, np.ndarray]):
    from drnets.solve._posterior import SetCosts, unique_sets

    return unique_sets(SetCosts(d["members"], d["shares"], d["cost"], d["misfit"]))


def probabilities(d: dict[str, np.ndarray], cal) -> tuple[np.ndarray, Any, np.ndarray]:
    """Calibrated presence (N, P), alternatives and the truth's sets (N, P) bool."""
    from drnets.solve import calibrated_probabilities

    presence, alts = calibrated_probabilities(costs_of(d), d["fractions"] >= LEVEL, LEVEL, cal)
    return presence, alts, d["truth"] >= LEVEL


def raw(d: dict[str, np.ndarray], cal):
    from drnets.solve._calibration import raw_probabilities

    return raw_probabilities(costs_of(d), d["fractions"] >= LEVEL, LEVEL, cal, d["fractions"].shape[1])


def raw_presence(costs, d: dict[str, np.ndarray], cal) -> np.ndarray:
    """Presence (N, P) under the posterior of ``cal`` (vectorised: the grid search calls it often)."""
    from drnets.solve._posterior import present_sets

    post = cal.posterior(costs)
    keys = present_sets(costs, LEVEL)
    n, r_n, k_n = keys.shape
    pres = np.zeros(d["fractions"].shape)
    rows = np.arange(n)
    for r in range(1, r_n):
        for k in range(k_n):
            v = keys[:, r, k]
            ok = v >= 0
            np.add.at(pres, (rows[ok], v[ok]), post[ok, r])
    pres += post[:, :1] * (d["fractions"] >= LEVEL)
    return np.clip(pres, 0.0, 1.0)


def set_pairs(d: dict[str, np.ndarray], sets: list, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probability, is the true set) of every listed set of every point."""
    from drnets.solve._calibration import ALTERNATIVES

    ps, ys = [], []
    for i, row in enumerate(sets):
        key = tuple(int(k) for k in np.flatnonzero(truth[i]))
        for s, p in row[:ALTERNATIVES]:
            ps.append(p)
            ys.append(s == key)
    return np.array(ps), np.array(ys)


def fit(cache: Path, write: bool) -> dict[str, Any]:
    from drnets.evaluate import calibration_error, isotonic_fit
    from drnets.solve._calibration import CALIBRATION_FILE, Calibration, in_play

    data = load(TUNE, cache)
    print(f"fitting on {len(data)} tune libraries")
    costs = [costs_of(d) for _, d in data]
    best = None
    for params in GRID:
        cal = Calibration(*params)
        nll = 0.0
        for (_, d), c in zip(data, costs):
            pres = raw_presence(c, d, cal)
            y = d["truth"] >= LEVEL
            p = np.clip(pres, 1e-4, 1 - 1e-4)
            nll += float(-(y * np.log(p) + (~y) * np.log(1 - p)).sum())
        if best is None or nll < best[0]:
            best = (nll, params)
    base = Calibration(*best[1])
    ps, ys, sp, sy = [], [], [], []
    missed = points = 0
    for (_, d), c in zip(data, costs):
        pres, sets, _ = raw(d, base)
        play = in_play(c, d["fractions"] >= LEVEL)
        truth = d["truth"] >= LEVEL
        missed += int((truth & ~play).sum())
        points += truth.shape[0]
        ps.append(pres[play])
        ys.append(truth[play])
        a, b = set_pairs(d, sets, d["truth"] >= LEVEL)
        sp.append(a)
        sy.append(b)
    ps, ys, sp, sy = map(np.concatenate, (ps, ys, sp, sy))
    cal = Calibration(
        *best[1],
        missed / max(points, 1),
        tuple(map(tuple, isotonic_fit(ps, ys))),
        tuple(map(tuple, isotonic_fit(sp, sy))),
        {
            "fitted_on": "tune half: random systems 100-115 (200 points), presets easy/standard/hard seeds 0-2",
            "script": "benchmarks/calibrate.py fit --write",
            "presence_level": LEVEL,
            "pairs": int(ps.size),
            "sets": int(sp.size),
            "ece_raw_tune": round(calibration_error(ps, ys), 4),
        },
    )
    print(f"posterior parameters {best[1]}; tune ECE before the maps {calibration_error(ps, ys):.4f}")
    if write:
        CALIBRATION_FILE.parent.mkdir(parents=True, exist_ok=True)
        CALIBRATION_FILE.write_text(json.dumps(cal.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")
    return cal.to_json()


def check(cache: Path, specs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Calibration (raw posterior at T=1, fitted map) and flag rates on held-out libraries."""
    from drnets.evaluate import reliability
    from drnets.solve._calibration import IDENTITY, Calibration, default_calibration
    from drnets.solve._unexplained import residual_peaks

    cal = default_calibration()
    rows = {}
    allp, ally, allraw, allpost, conf_ok, conf_n = [], [], [], [], 0, 0
    for nm, d in load(specs or CHECK, cache):
        pres, alts, truth = probabilities(d, cal)
        raw_pres, _ = probabilities(d, IDENTITY)[:2]
        post_only = Calibration(cal.temperature, cal.answer_bonus, cal.misfit_reference, cal.misfit_power, cal.missed)
        post_pres, _ = probabilities(d, post_only)[:2]
        chosen = d["fractions"] >= LEVEL
        exact = (chosen == truth).all(1)
        hi = alts.chosen >= 0.9
        flag, score, _ = residual_peaks(d["q"], d["pattern"], d["model"], d["noise_sd"], tuple(d["sigma"]), held_of(d))
        clean = d["impurity"] < 0.02
        rows[nm] = {
            "points": int(truth.shape[0]),
            "ece": round(reliability(pres, truth)["ece"], 4),
            "ece_uncalibrated": round(reliability(raw_pres, truth)["ece"], 4),
            "ece_posterior_only": round(reliability(post_pres, truth)["ece"], 4),
            "exact": round(float(exact.mean()), 4),
            "confident_share": round(float(hi.mean()), 4),
            "exact_when_confident": round(float(exact[hi].mean()), 4) if hi.any() else None,
            "flagged_clean": round(float(flag[clean].mean()), 4) if clean.any() else None,
            "false_alarms": round(float((flag & clean & exact).sum() / max(clean.sum(), 1)), 4),
            "impurity_points": int((~clean).sum()),
            "flagged_impurity": round(float(flag[d["impurity"] >= 0.2].mean()), 4)
            if (d["impurity"] >= 0.2).any()
            else None,
            "wall_s": round(float(d["wall_s"]), 2),
        }
        allp.append(pres.ravel())
        ally.append(truth.ravel())
        allraw.append(raw_pres.ravel())
        allpost.append(post_pres.ravel())
        conf_ok += int(exact[hi].sum())
        conf_n += int(hi.sum())
        print(nm, rows[nm], flush=True)
    gen = [k for k, nm in enumerate(rows) if nm != "alfe_instance"]
    pooled_generated = {
        key: round(reliability(np.concatenate([v[k] for k in gen]), np.concatenate([ally[k] for k in gen]))["ece"], 4)
        for key, v in (("ece", allp), ("ece_uncalibrated", allraw), ("ece_posterior_only", allpost))
    }
    allp, ally, allraw, allpost = map(np.concatenate, (allp, ally, allraw, allpost))
    pooled = {
        "ece": round(reliability(allp, ally)["ece"], 4),
        "ece_uncalibrated": round(reliability(allraw, ally)["ece"], 4),
        "ece_posterior_only": round(reliability(allpost, ally)["ece"], 4),
        "exact_when_confident": round(conf_ok / max(conf_n, 1), 4),
        "confident_points": conf_n,
        "reliability": reliability(allp, ally),
        "generated_only": pooled_generated,
    }
    print("pooled", {k: v for k, v in pooled.items() if k != "reliability"})
    eces = [r["ece"] for r in rows.values()]
    print(f"per library: {sum(e <= 0.05 for e in eces)} of {len(eces)} at ECE <= 0.05, worst {max(eces)}")
    return {"libraries": rows, "pooled": pooled}


def unknown(cache: Path, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One true phase removed from the candidates: flags where it holds >= 20 %, peaks recovered."""
    from drnets.solve._unexplained import residual_peaks, unknown_candidates

    rows = {}
    hits = total = 0
    for nm, d in load(specs, cache, "_drop"):
        flag, score, peaks = residual_peaks(
            d["q"], d["pattern"], d["model"], d["noise_sd"], tuple(d["sigma"]), held_of(d)
        )
        cands = unknown_candidates(peaks, d["edges"], flag.size, d["q"], tuple(d["sigma"]))
        where = d["drop_fraction"] >= 0.2
        sig = np.interp(d["drop_q"], [d["q"][0], d["q"][-1]], d["sigma"])
        fwhm = 2.3548 * sig
        # The removed phase's strong peaks in range, at its median shift where it holds >= 20 %.
        shift = float(np.nanmedian(d["drop_shift"][where])) if where.any() else 1.0
        strong = (
            (d["drop_intensity"] >= 0.3 * d["drop_intensity"].max())
            & (d["drop_q"] * shift > d["q"][0])
            & (d["drop_q"] * shift < d["q"][-1])
        )
        # The unknown-phase candidates of its region: those with most of their points where it holds >= 2 %.
        region = set(np.flatnonzero(d["drop_fraction"] >= 0.02).tolist())
        mine = [c for c in cands if len(set(c["points"]) & region) >= 0.5 * len(c["points"])]
        recovered = matched = None
        if mine and strong.any():
            cq = np.concatenate([np.asarray(c["peaks"], dtype=float) for c in mine])
            dq = np.abs(cq[:, None] - (d["drop_q"][strong] * shift)[None, :])
            recovered = float((dq.min(0) <= fwhm[strong]).mean())  # strong sticks found
            # Candidate peaks on one of its sticks (those above 5 % of its strongest).
            some = d["drop_intensity"] >= 0.05 * d["drop_intensity"].max()
            dq_all = np.abs(cq[:, None] - (d["drop_q"][some] * shift)[None, :])
            matched = float((dq_all.min(1) <= np.interp(cq, [d["q"][0], d["q"][-1]], 2.3548 * d["sigma"])).mean())
        hits += int(flag[where].sum())
        total += int(where.sum())
        rows[nm] = {
            "points_ge_20pct": int(where.sum()),
            "flagged_there": round(float(flag[where].mean()), 4) if where.any() else None,
            "flagged_elsewhere": round(float(flag[d["drop_fraction"] < 0.02].mean()), 4),
            "candidates": len(cands),
            "candidates_in_region": len(mine),
            "strong_peaks_recovered": None if recovered is None else round(recovered, 3),
            "candidate_peaks_on_phase": None if matched is None else round(matched, 3),
        }
        print(nm, rows[nm], flush=True)
    out = {"libraries": rows, "flagged_share": round(hits / max(total, 1), 4), "points": total, "groups": {}}
    for half, names in (("tune", {name(s) for s in TUNE}), ("check", {name(s) for s in CHECK})):
        for group in ("random", "easy", "standard", "hard"):
            sel = [
                r for nm, r in rows.items() if nm in names and nm.startswith(group) and r["flagged_there"] is not None
            ]
            if not sel:
                continue
            pts = sum(r["points_ge_20pct"] for r in sel)
            rec = [r["strong_peaks_recovered"] for r in sel if r["strong_peaks_recovered"] is not None]
            on = [r["candidate_peaks_on_phase"] for r in sel if r["candidate_peaks_on_phase"] is not None]
            out["groups"][f"{half} {group}"] = {
                "libraries": len(sel),
                "points_ge_20pct": pts,
                "flagged_there": round(sum(r["flagged_there"] * r["points_ge_20pct"] for r in sel) / max(pts, 1), 4),
                "strong_peaks_recovered": round(float(np.mean(rec)), 3) if rec else None,
                "candidate_peaks_on_phase": round(float(np.mean(on)), 3) if on else None,
            }
    print("pooled flagged", out["flagged_share"], "of", total)
    for g, v in out["groups"].items():
        print(g, v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("collect", "fit", "check", "unknown", "all"))
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--write", action="store_true", help="store the fitted map in the package")
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the measured numbers")
    ap.add_argument("--only", default=None, help="comma-separated library names")
    args = ap.parse_args()
    only = None if args.only is None else set(args.only.split(","))

    def pick(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [s for s in specs if only is None or name(s) in only]

    result: dict[str, Any] = {}
    if args.step in ("collect", "all"):
        collect(pick(TUNE + CHECK), args.cache)
    if args.step in ("fit", "all"):
        result["fit"] = fit(args.cache, args.write)
    if args.step in ("check", "all"):
        result["check"] = check(args.cache, pick(CHECK))
    if args.step in ("unknown", "all"):
        specs = pick([s for s in TUNE + CHECK if s["kind"] != "alfe_instance"])
        collect(specs, args.cache, drop_main=True)
        result["unknown"] = unknown(args.cache, specs)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
