"""Solver settings against each other on small random systems of the panel's tuning half.

    python benchmarks/ablate_random.py '{"eta": null}' 100,101,102 [--points 100] [--q-points 400]
    python benchmarks/ablate_random.py '{"eta": null}' 0,1 --preset hard     (a preset at its own size)
    python benchmarks/ablate_random.py '{}' 100,101 --conditions '{"substrate": 0.3, "substrate_texture": 2}'

Prints one JSON line per library: exact phase-set match at 2 %, the gross-error share
(a phase above 10 % on one side, truth or answer, and under 1 % on the other), the mean
relative residual, the peak shape used and the answer's Gibbs, alloying and connectivity
flags. ``--conditions`` overrides the generator's measurement conditions (an oriented
substrate under every library, above); ``exact2_system`` then leaves the substrate out of
the phase sets compared. Use tuning seeds only (100-115; see
benchmarks/panel.py): the report half is for reporting, not for choosing settings. The
peak-shape and texture measurements of docs/solver.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import time

from drnets.evaluate import audit_solution, compare
from drnets.solve import PhaseMapper
from drnets.synth import generate


def score(
    settings: dict,
    seed: int,
    points: int | None,
    q_points: int | None,
    preset: str | None = None,
    conditions: dict | None = None,
) -> dict:
    if preset is None:
        ds, truth = generate(system="random", seed=seed, points=points, q_points=q_points, conditions=conditions)
    else:
        ds, truth = generate(preset, seed=seed, points=points, q_points=q_points, conditions=conditions)
    t0 = time.perf_counter()
    # the mask and limits the generator writes, as the panel passes them (benchmarks/run.py)
    sol = PhaseMapper(device="cpu", **settings).fit(ds.library, ds.phases, mask=ds.mask, max_phases=ds.max_phases)
    sol = sol.solution_
    wall = time.perf_counter() - t0
    a = audit_solution(sol, ds.library, ds.phases)
    got = {label: sol.fractions[:, j] for j, label in enumerate(sol.labels)}
    true = {label: truth.fractions[:, k] for k, label in enumerate(truth.labels)}
    cmp = compare(got, true, (0.02,))
    # the same without the substrate (an oriented substrate under every library, --conditions)
    sub = truth.meta.get("substrate")
    system = cmp
    if sub is not None:
        without = [{k: v for k, v in side.items() if k != sub} for side in (got, true)]
        system = compare(*without, (0.02,))
    return {
        "seed": seed if preset is None else f"{preset} {seed}",
        "settings": settings,
        "exact2": round(cmp["by_threshold"][0]["exact_match"], 3),
        "exact2_system": round(system["by_threshold"][0]["exact_match"], 3),
        "gross": round(cmp["gross_error_share"], 3),
        "residual": round(float(sol.residuals.mean()), 3),
        "eta": sol.eta,
        "true_eta": round(float(truth.eta), 2),
        "wall_s": round(wall, 1),
        # Gibbs / alloying / connectivity flags of the answer (the audit at its defaults)
        "flags": [int(a[f"{r}_violations"]) for r in ("gibbs", "alloying", "connectivity")],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", help="PhaseMapper keyword arguments as JSON")
    ap.add_argument("seeds", help="comma-separated random-system seeds")
    ap.add_argument("--points", type=int, default=None, help="default 100 (random systems) or the preset's own")
    ap.add_argument("--q-points", type=int, default=None, help="default 400 (random systems) or the preset's own")
    ap.add_argument("--preset", default=None, help="easy, standard or hard instead of random systems")
    ap.add_argument("--conditions", default=None, help="generator measurement conditions to override, as JSON")
    args = ap.parse_args()
    conditions = json.loads(args.conditions) if args.conditions else None
    points = args.points or (100 if args.preset is None else None)
    q_points = args.q_points or (400 if args.preset is None else None)
    for s in args.seeds.split(","):
        out = score(json.loads(args.settings), int(s), points, q_points, args.preset, conditions)
        print(json.dumps(out | ({"conditions": conditions} if conditions else {})), flush=True)


if __name__ == "__main__":
    main()
