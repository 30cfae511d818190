"""Speed-up of the search on Ray: one library solved with 0 (plain), 1 and 2 workers, and the tile/halo overheads.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/scale_out.py [POINTS] [SEED]

(one thread per process, as Ray's workers have: the plain run is then one core's work too).

Generates the 'standard' preset (POINTS points, default 2,000; seed 0), solves it in this
process, then on a local Ray runtime of 1 and of 2 workers (each started and warmed up on a
tiny library, both timed apart), then in this process again; checks that the answers are
identical and prints each run's wall time, its rounds' times and the tile and halo numbers
the run logs (``stage`` ``tiles setup`` and ``tiles`` in the history).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from drnets.solve import PhaseMapper
from drnets.synth import generate


def main() -> None:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    ds, _ = generate("standard", points=points, seed=seed)
    runs: dict[str, PhaseMapper] = {}
    t, c = time.perf_counter(), time.process_time()
    runs["plain"] = PhaseMapper(device="cpu").fit(ds.library, ds.phases)
    print(f"plain: {time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} s CPU")
    import ray

    tiny, _ = generate("standard", points=20, q_points=200, seed=seed)
    for w in (1, 2):  # a runtime of w CPUs: Ray runs as many tasks at once as the runtime has CPUs
        t = time.perf_counter()
        ray.init(num_cpus=w, include_dashboard=False, logging_level="ERROR")
        print(f"ray start ({w} CPUs): {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        PhaseMapper(device="cpu", workers=w).fit(tiny.library, tiny.phases)  # workers started, torch imported
        print(f"workers warm-up (20 points): {time.perf_counter() - t:.1f} s")
        t, c = time.perf_counter(), time.process_time()
        runs[f"{w} workers"] = PhaseMapper(device="cpu", workers=w).fit(ds.library, ds.phases)
        print(f"{w} workers: {time.perf_counter() - t:.1f} s wall, driver {time.process_time() - c:.1f} s CPU")
        ray.shutdown()
    t, c = time.perf_counter(), time.process_time()
    runs["plain again"] = PhaseMapper(device="cpu").fit(ds.library, ds.phases)
    print(f"plain again: {time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} s CPU")
    base = runs["plain"]
    for name, m in runs.items():
        same = all(
            np.array_equal(getattr(base, a), getattr(m, a), equal_nan=True)
            for a in ("fractions_", "shifts_", "amplitudes_", "reconstruction_")
        )
        at = [h["elapsed_s"] for h in m.history_ if "mean_rel_l2" in h]
        later = [round(b - a, 2) for a, b in zip(at, at[1:])]
        print(
            f"{name}: identical={same}, fit {m.solution_.metadata['wall_time_s']} s, first round done at {at[0]} s, "
            f"later rounds {later} s"
        )
        for h in m.history_:
            if str(h.get("stage", "")).startswith("tiles"):
                print("   ", h)


if __name__ == "__main__":
    main()
