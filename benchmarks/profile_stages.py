"""Where the solver's time goes: cumulative time of each stage of one fit, under cProfile.

    python benchmarks/profile_stages.py standard random102 alfe

Each argument is a library: a preset name (seed 0), ``randomS`` (random system, seed S) or
``alfe`` (Al-Li-Fe, instance + sticks from ../shared/data). Prints each stage's cumulative
time and its share of the fit's wall time (profiling overhead included).
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

from drnets.solve import PhaseMapper
from drnets.synth import generate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: (row name, "file:function") of the stages, in the order they run.
STAGES = (
    ("prepare", "_prepare.py:prepare"),
    ("screen", "_screen.py:screen"),
    ("search", "_point_search.py:search"),
    (" best subsets", "_search.py:best_subsets"),
    (" coordinate descent", "_search.py:coordinate_descent"),
    ("final fits (group_fit)", "_search.py:group_fit"),
    ("enforce", "_reasoning.py:enforce"),
    ("grow", "_reasoning.py:grow"),
    ("repair", "_repairs.py:repair"),
    ("exact rules", "_repairs.py:enforce_exactly"),
    ("evidence", "_evidence.py:evidence"),
    ("confidence", "_confidence.py:confidence"),
    ("dictionary render", "_atoms.py:_render"),
    ("SciPy NNLS", "_nnls.py:nnls"),
)


def library(name: str):
    if name == "alfe":
        from drnets.io import load

        return load(SHARED / "al-li-fe" / "instance.txt", phases=SHARED / "al-li-fe" / "sticks.csv")
    if name.startswith("random"):
        return generate(system="random", seed=int(name[len("random") :]))[0]
    return generate(name, seed=0)[0]


def profile(name: str) -> None:
    ds = library(name)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    PhaseMapper(device="cpu").fit(ds.library, ds.phases, mask=ds.mask, max_phases=ds.max_phases)
    prof.disable()
    wall = time.perf_counter() - t0
    totals: dict[str, float] = {}
    for (path, _line, func), (_cc, _nc, _tt, cum, _callers) in pstats.Stats(prof).stats.items():
        for row, where in STAGES:
            mod, fn = where.split(":")
            if path.endswith(mod) and func == fn:
                totals[row] = totals.get(row, 0.0) + cum
    lib = ds.library
    print(f"{name}: N={lib.n_points} L={lib.q.size} P={len(ds.phases)} wall {wall:.1f} s (profiled)")
    for row, _ in STAGES:
        if row in totals:
            print(f"  {row:26s} {totals[row]:7.1f} s {100 * totals[row] / wall:6.1f} %")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["standard"]:
        profile(arg)
