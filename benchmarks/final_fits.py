"""The final fits of one solve replayed through other NNLS paths: time per fit and how far the
answers move (issue 17). None of these paths is the solver's default.

    python benchmarks/final_fits.py --points 150 --q-points 2000 --phases 100

The solve's final fits (every :meth:`Problem.fit_point` call, in order) are recorded and
replayed: all of them through ``fit_point`` without and with the solve's fit cache
(:class:`~drnets.solve._fit_cache.FitCache`), alternately, so that both see the same load;
then every ``len // 3000``-th through :func:`~drnets.solve._search.group_fit` with SciPy's
NNLS on the full (L x n) design matrix (the default) and with the NNLS on the Cholesky
factor of its Gram matrix (``gram``: ``A^T A = R^T R``, NNLS of ``R`` against
``R^-T A^T b``; the same minimiser in exact arithmetic, other rounding). One thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.optimize  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_SCIPY_NNLS = scipy.optimize.nnls


def nnls_gram(a: np.ndarray, b: np.ndarray, maxiter: int | None = None) -> tuple[np.ndarray, float]:
    """NNLS through the Cholesky factor of ``a.T @ a`` (SciPy's on the full matrix if it is not positive definite)."""
    try:
        r = np.linalg.cholesky(a.T @ a).T
    except np.linalg.LinAlgError:
        return _SCIPY_NNLS(a, b, maxiter=maxiter)
    d = scipy.linalg.solve_triangular(r, a.T @ b, trans="T")
    coef, rn = _SCIPY_NNLS(r, d, maxiter=maxiter)
    return coef, float(np.sqrt(max(rn * rn + b @ b - d @ d, 0.0)))


def record_fits(spec: dict[str, Any]) -> tuple[Any, list[tuple[int, np.ndarray, np.ndarray, Any]]]:
    """Solve a library and return its prepared problem and the final fits it asked for."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from benchmarks.run import build_case
    from drnets.solve import PhaseMapper, _problem
    from drnets.solve._params import Params
    from drnets.solve._prepare import prepare

    case = build_case({**spec, "method": "solver"})
    calls: list[tuple[int, np.ndarray, np.ndarray, Any]] = []
    fit_point = _problem.Problem.fit_point

    def recording(self: Any, i: int, phases: np.ndarray, shift_idx: np.ndarray, offsets: Any = None) -> dict:
        calls.append((int(i), np.array(phases), np.array(shift_idx), offsets))
        return fit_point(self, i, phases, shift_idx, offsets)

    _problem.Problem.fit_point = recording
    try:
        PhaseMapper(device="cpu").fit(case["library"], case["phases"], mask=case["mask"], max_phases=case["max_phases"])
    finally:
        _problem.Problem.fit_point = fit_point
    pb = prepare(
        case["library"], case["phases"], Params(device="cpu"), mask=case["mask"], max_phases=case["max_phases"]
    )
    return pb, calls


def replay(pb: Any, calls: list, nnls: Any) -> tuple[float, list[dict]]:
    """CPU seconds and results of ``group_fit`` over ``calls`` with ``nnls`` as SciPy's."""
    from drnets.solve._search import group_fit

    scipy.optimize.nnls = nnls
    try:
        out = []
        t = time.process_time()
        for i, ph, sh, off in calls:
            out.append(
                group_fit(pb.xraw[i], ph, sh, pb.atoms, pb.params.shape_offsets if off is None else off, pb.basis)
            )
        return time.process_time() - t, out
    finally:
        scipy.optimize.nnls = _SCIPY_NNLS


def replay_cache(pb: Any, calls: list, cached: bool) -> tuple[float, int]:
    """CPU seconds of ``fit_point`` over ``calls`` with a fresh fit cache (its default size, or none), and its hits."""
    from dataclasses import replace

    from drnets.solve._fit_cache import FitCache

    fresh = replace(pb, fits=FitCache(None if cached else 0))
    t = time.process_time()
    for i, ph, sh, off in calls:
        fresh.fit_point(i, ph, sh, off)
    return time.process_time() - t, fresh.fits.hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=150)
    ap.add_argument("--q-points", type=int, default=2000)
    ap.add_argument("--phases", type=int, default=100)
    args = ap.parse_args(argv)
    spec = {"kind": "scaling", "points": args.points, "phases": args.phases, "q_points": args.q_points, "seed": 0}
    pb, every = record_fits(spec)
    print(f"{len(every)} final fits of N={args.points} L={args.q_points} P={args.phases}")
    replay_cache(pb, every, False)  # renders the dictionary
    off, on, hits = 0.0, 0.0, 0
    for _ in range(2):
        off += replay_cache(pb, every, False)[0]
        t, hits = replay_cache(pb, every, True)
        on += t
    print(f"fit_point, all fits twice: no cache {off:.1f} s, cache {on:.1f} s ({hits} repeats each time)")
    calls = every[:: max(1, len(every) // 3000)]
    t0, ref = replay(pb, calls, _SCIPY_NNLS)
    print(f"scipy (default): {1e3 * t0 / len(calls):.3f} ms per fit")
    t1, got = replay(pb, calls, nnls_gram)
    same = sum(all(np.array_equal(a[k], b[k], equal_nan=True) for k in a) for a, b in zip(ref, got))
    rss = max(abs(a["rss"] - b["rss"]) / max(a["rss"], 1e-300) for a, b in zip(ref, got))
    height = max(float(np.max(np.abs(a["height"] - b["height"]), initial=0.0)) for a, b in zip(ref, got))
    print(
        f"gram: {1e3 * t1 / len(calls):.3f} ms per fit ({t0 / t1:.2f}x); bit-identical fits {same}/{len(calls)}; "
        f"largest relative rss change {rss:.2g}, largest height change {height:.2g}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
