"""CPU cost per point of the solver, and the floor of the same work (issue 17).

    python benchmarks/per_point.py --points 1000,2000 --q-points 2000 --phases 100
    python benchmarks/per_point.py --points 200 --q-points 2000,8000
    python benchmarks/per_point.py --panel random102,random107,standard0,hard0
    python benchmarks/per_point.py --points 1000 --src ../main/src      # another source tree

Libraries: the scaling sweep's (``benchmarks/run.py``: ``drnets synth --preset standard``
at N points and L Q points, seed 0, the candidates padded to P phases with perturbed
copies), or panel libraries (``randomS``: random system of seed S; ``standardS``,
``hardS``, ``easyS``: a preset at its own size). Each runs in its own subprocess on one
thread (``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``, ``torch.set_num_threads(1)``).

Recorded per library: the fit's process CPU time (``PhaseMapper.fit``, preparation to
answer; loading and generating excluded), CPU per point and per point and Q bin, the final
fits made and those repeated (the solve's fit cache), peak RSS, and the floor: the
multiply-adds the work needs at least, at this machine's measured matmul throughput on one
core (float32 for the screening, float64 for the final fits):

- screening: every allowed phase at every grid shift and width against every pattern, once
  (N x allowed x S x W x L; the search screens the patterns and then the residuals of each
  later round);
- subset fits: the Gram matrix of each point's pool (pool_size^2 x L / 2);
- final fits: one NNLS per point on its answer's columns (each phase at ``shape_offsets``
  shifts and every width, plus the background basis), its Gram matrix (n^2 x L / 2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: One thread everywhere: costs are per core.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
#: Background columns of the final fits (``background_basis``: 8 bumps and a constant).
BASIS_COLUMNS = 9


def spec_of(name: str, points: int | None = None, q_points: int | None = None, phases: int = 100) -> dict[str, Any]:
    """A ``benchmarks/run.py`` case spec: ``scaling`` (points, q_points, phases) or a panel library name."""
    if name == "scaling":
        return {"kind": "scaling", "points": points, "phases": phases, "q_points": q_points, "seed": 0}
    if name.startswith("random"):
        return {"kind": "random", "preset": None, "seed": int(name[len("random") :]), "name": name}
    preset = name.rstrip("0123456789")
    return {"kind": "preset", "preset": preset, "seed": int(name[len(preset) :] or 0), "name": name}


def gflops() -> dict[str, float]:
    """Best-of-five GFLOP/s of a (1024 x 2000) @ (2000 x 2048) NumPy matmul on this core."""
    import numpy as np

    out = {}
    for name, dt in (("float32", np.float32), ("float64", np.float64)):
        a = np.random.default_rng(0).random((1024, 2000)).astype(dt)
        b = np.random.default_rng(1).random((2000, 2048)).astype(dt)
        a @ b
        best = float("inf")
        for _ in range(5):
            t = time.process_time()
            a @ b
            best = min(best, time.process_time() - t)
        out[name] = 2 * 1024 * 2000 * 2048 / best / 1e9
    return out


def floor(sol: Any, params: dict[str, Any], n_combos: int, flops: dict[str, float]) -> dict[str, float]:
    """Multiply-adds the work needs at least, and their time at ``flops`` (GFLOP/s)."""
    import numpy as np

    n, n_q = sol.fractions.shape[0], sol.reconstruction.shape[1]
    allowed = int(np.asarray(sol.mask).sum())
    screen = float(allowed) * n_combos * n_q
    subsets = n * params["pool_size"] ** 2 * n_q / 2
    k = (sol.fractions > 0).sum(1)
    cols = k * len(params["shape_offsets"]) * len(params["width_scales"]) + BASIS_COLUMNS
    final = float((cols.astype(float) ** 2 * n_q / 2).sum())
    seconds = 2 * (screen + subsets) / (flops["float32"] * 1e9) + 2 * final / (flops["float64"] * 1e9)
    return {"screen_mac": screen, "subset_mac": subsets, "final_mac": final, "floor_s": seconds}


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Solve one library in this process (one thread) and return its record."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from benchmarks.run import build_case
    from drnets.solve import PhaseMapper

    case = build_case({**spec, "method": "solver"})
    lib, phases = case["library"], case["phases"]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu0, wall0 = time.process_time(), time.perf_counter()
    extra = {} if spec.get("budget_gb") is None else {"memory_budget_gb": spec["budget_gb"]}
    mapper = PhaseMapper(device="cpu", seed=spec.get("seed", 0), **extra).fit(
        lib, phases, mask=case["mask"], max_phases=case["max_phases"]
    )
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sol = mapper.solution_
    params = sol.metadata["parameters"]
    step = sol.metadata["shift_step"]
    n_shifts = 2 * int(np.floor(params["max_shift"] / step + 1e-9)) + 1 if step > 0 else 1
    flops = gflops()
    fits = next((h for h in mapper.history_ if h.get("stage") == "final fits"), {})
    n, n_q = lib.n_points, lib.q.size
    rec = {
        "library": (spec.get("name") or f"standard N={n} L={n_q} P={len(phases)}")
        + ("" if spec.get("budget_gb") is None else f", budget {spec['budget_gb']:g} GB"),
        "n": n,
        "q": n_q,
        "p": len(phases),
        "shifts": n_shifts,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_ms_per_point": 1e3 * cpu / n,
        "cpu_us_per_point_q": 1e6 * cpu / (n * n_q),
        "fits": fits.get("solves", fits.get("fits")),
        "repeats": fits.get("repeats"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss0,
        "gflops": flops,
    }
    rec.update(floor(sol, params, n_shifts * len(params["width_scales"]), flops))
    rec["ratio"] = cpu / rec["floor_s"]
    return rec


def _tree(src: Path) -> str:
    """The source tree's commit (``+`` when it has uncommitted changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=src, capture_output=True)
        return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def row(r: dict[str, Any]) -> str:
    return (
        f"| {r['library']} | {r['tree']} | {r['n']} | {r['q']} | {r['p']} | {r['cpu_s']:.1f} | "
        f"{r['cpu_ms_per_point']:.1f} | {r['cpu_us_per_point_q']:.1f} | {r['fits']} / {r['repeats']} | "
        f"{r['peak_rss_mb']:.0f} | {1e3 * r['floor_s'] / r['n']:.2f} | {r['ratio']:.0f} |"
    )


HEADER = (
    "| library | tree | N | L | P | CPU (s) | CPU ms / point | CPU µs / (point x Q) | final fits / repeats "
    "| peak RSS (MB) | floor ms / point | measured / floor |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", default="", help="comma list of N (scaling libraries)")
    ap.add_argument("--q-points", default="2000", help="comma list of L (scaling libraries)")
    ap.add_argument("--phases", type=int, default=100, help="P: candidates, padded with perturbed copies")
    ap.add_argument("--panel", default="", help="comma list: randomS, standardS, hardS, easyS")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="source tree the workers import drnets from")
    ap.add_argument("--budget-gb", type=float, default=None, help="memory_budget_gb of the solver (default: its own)")
    ap.add_argument("--label", default=None, help="name of the source tree in the table (default: its git commit)")
    ap.add_argument("--out", type=Path, default=None, help="append one JSON line per library")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(run_one(json.loads(args.one))))
        return 0
    specs = [
        spec_of("scaling", int(n), int(q), args.phases)
        for q in args.q_points.split(",")
        if q
        for n in args.points.split(",")
        if n
    ]
    specs += [spec_of(name) for name in args.panel.split(",") if name]
    if args.budget_gb is not None:
        specs = [{**s, "budget_gb": args.budget_gb} for s in specs]
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(args.src.resolve())}
    tree = args.label or _tree(args.src)
    print(HEADER, flush=True)
    for spec in specs:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", json.dumps(spec)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
        if done.returncode != 0:
            print(f"| {spec} | failed: {done.stderr.strip().splitlines()[-1:]} |", flush=True)
            continue
        rec = {**json.loads(done.stdout.strip().splitlines()[-1]), "tree": tree, "spec": spec}
        rec["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        print(row(rec), flush=True)
        if args.out is not None:
            with args.out.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
