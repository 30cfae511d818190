"""Memory at size: 10,000 points x 4,000 Q x 200 candidate phases on the CPU (issue 4's target: < 8 GB).

Run: python benchmarks/memory.py [--points N] [--q-points L] [--phases P]
Prints the fit time, the peak resident memory and the rule audit.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import pad_phases  # noqa: E402
from drnets.solve import PhaseMapper  # noqa: E402
from drnets.synth import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--q-points", type=int, default=4_000)
    ap.add_argument("--phases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ds, _ = generate("standard", points=args.points, q_points=args.q_points, seed=args.seed)
    phases = pad_phases(ds.phases, args.phases, args.seed)
    t = time.perf_counter()
    m = PhaseMapper(device="cpu", seed=args.seed).fit(ds.library, phases)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fit {time.perf_counter() - t:.1f} s, peak RSS {peak_mb:.0f} MB")
    print({k: v for k, v in m.solution_.audit.items() if k.endswith("violations")})


if __name__ == "__main__":
    main()
