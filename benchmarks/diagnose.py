"""Why the solver's wrong points are wrong, on generated libraries of the tuning half.

    python benchmarks/diagnose.py 100,101,102 [--points 100] [--q-points 400] [--settings JSON]
    python benchmarks/diagnose.py 0,1 --preset hard
    python benchmarks/diagnose.py 109 --stages    # and exact match after each stage of the rules

For every point whose phase set at 2 % differs from the truth's, it names the kind of error
(a true phase missed, minor (true share under 10 %) or major; a phase added; a missed phase
replaced by one of the same structure prototype, a look-alike; the point holds the
generator's impurity, a phase outside the candidates) and asks the solver's own
cost which answer it prefers: the truth's set, fitted by the final fit at the grid shifts
nearest the true ones, against the answer's set at its own. Where the truth costs more, the
model (decoder, costs) prefers a wrong answer: searching harder cannot help. Where the truth
costs less, the search or the rules lost it. With ``--stages``, the exact match after each
stage from the search's answer to the final one (``settle``: twin cards, pruned phases
re-solved, grow, soft repairs, exact rules) and the points each stage turns right -> wrong
(lost) and wrong -> right (gained). Use tuning seeds only (see benchmarks/panel.py).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np

import drnets.solve._mapper as _mapper_module
from drnets.solve import PhaseMapper
from drnets.synth import generate

_SNAP: dict = {}


def _fit_keeping_the_search(mapper: PhaseMapper, ds) -> None:
    """Fit, keeping the answer of the search rounds (before the rules act) in ``_SNAP``, and
    the answer after each stage of ``settle`` in ``_SNAP["stages"]`` (stage, state)."""
    settle = _mapper_module.settle

    def snapshot(pb, state, keep):
        _SNAP.update(state=state.copy(), keep=keep.copy(), stages=[])
        return settle(pb, state, keep, trace=lambda stage, now: _SNAP["stages"].append((stage, now.copy())))

    _mapper_module.settle = snapshot
    try:
        mapper.fit(ds.library, ds.phases, mask=ds.mask, max_phases=ds.max_phases)
    finally:
        _mapper_module.settle = settle


class _Keep(PhaseMapper):
    """A mapper that keeps its last problem and state (for the costs below)."""

    def _finish(self, library, phases, pb, state, t0, interrupted):  # type: ignore[override]
        self.pb_, self.state_ = pb, state
        return super()._finish(library, phases, pb, state, t0, interrupted)


def _set_cost(pb, i: int, phases: np.ndarray, shift_idx: np.ndarray) -> float:
    return pb.fit_cost(i, phases, pb.fit_point(i, phases, shift_idx))[0]


def _prototype(label: str) -> str:
    return label.rsplit("_", 1)[-1].split("-")[0]


def diagnose(
    seed: int, points: int | None, q_points: int | None, preset: str | None, settings: dict, with_stages: bool = False
) -> dict:
    if preset is None:
        ds, truth = generate(system="random", seed=seed, points=points, q_points=q_points)
    else:
        ds, truth = generate(preset, seed=seed, points=points, q_points=q_points)
    m = _Keep(device="cpu", confidence=False, **settings)
    _fit_keeping_the_search(m, ds)
    sol, pb = m.solution_, m.pb_
    got = np.zeros_like(truth.fractions)
    for j, label in enumerate(sol.labels):
        got[:, truth.labels.index(label)] = sol.fractions[:, j]
    idx = [truth.labels.index(label) for label in sol.labels]  # solution order -> truth order
    back = np.argsort(idx)
    true = truth.fractions
    searched = np.zeros_like(true)
    searched[:, idx] = _SNAP["state"].fractions(pb.p_n)
    pruned = ~_SNAP["keep"].any(0)  # phases pruned library-wide (solution order)
    kinds: Counter = Counter()
    verdict: Counter = Counter()
    missed_shares: list[float] = []
    wrong = 0
    for i in range(true.shape[0]):
        t = set(np.flatnonzero(true[i] >= 0.02))
        a = set(np.flatnonzero(got[i] >= 0.02))
        if t == a:
            continue
        wrong += 1
        if truth.impurity_amplitudes.size and truth.impurity_amplitudes[i] > 0:
            kinds["at a point with the impurity"] += 1
        if set(np.flatnonzero(searched[i] >= 0.02)) == t:
            kinds["right after the search, lost by the rules"] += 1
        miss, extra = t - a, a - t
        kinds["missed phase pruned library-wide"] += sum(bool(pruned[back[p]]) for p in miss)
        for p in miss:
            missed_shares.append(float(true[i, p]))
            kinds["missed major" if true[i, p] >= 0.1 else "missed minor"] += 1
        swapped = {p for p in miss if any(_prototype(truth.labels[p]) == _prototype(truth.labels[q]) for q in extra)}
        kinds["look-alike swap"] += len(swapped)
        kinds["added"] += len(extra)
        # the solver's own cost of the truth's set against the answer's (solution phase indices)
        tp = np.array(sorted(back[list(t)]), dtype=int) if t else np.zeros(0, int)
        if tp.size == 0 or tp.size > pb.search_limits[i]:
            verdict["truth over the limit"] += 1
            continue
        ts = np.array([np.abs(pb.shifts - truth.shifts[i, idx[p]]).argmin() for p in tp])
        js = np.flatnonzero(m.state_.present[i])
        ap, ash = m.state_.phase[i, js], m.state_.shift[i, js]
        ct, ca = _set_cost(pb, i, tp, ts), _set_cost(pb, i, ap, ash)
        verdict["model prefers the answer" if ct > ca else "truth cheaper (search or rules lost it)"] += 1
    n = true.shape[0]
    stages = {}
    if with_stages:  # exact points after each stage; the points each stage turns right -> wrong, wrong -> right
        right_before = None
        for stage, st in _SNAP["stages"]:
            now = np.zeros_like(true)
            now[:, idx] = st.fractions(pb.p_n)
            right = ((true >= 0.02) == (now >= 0.02)).all(1)
            entry = {"exact2": round(float(right.mean()), 3)}
            if right_before is not None:
                entry["lost"] = np.flatnonzero(right_before & ~right).tolist()
                entry["gained"] = np.flatnonzero(~right_before & right).tolist()
            stages[stage], right_before = entry, right
    with_impurity = int((truth.impurity_amplitudes > 0).sum()) if truth.impurity_amplitudes.size else 0
    return {
        "seed": seed if preset is None else f"{preset} {seed}",
        "exact2": round(1 - wrong / n, 3),
        "wrong": wrong,
        "points_with_impurity": with_impurity,
        "kinds": dict(kinds),
        "verdict": dict(verdict),
        "missed_share_median": round(float(np.median(missed_shares)), 3) if missed_shares else None,
        **({"stages": stages} if with_stages else {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", help="comma-separated seeds")
    ap.add_argument("--points", type=int, default=None)
    ap.add_argument("--q-points", type=int, default=None)
    ap.add_argument("--preset", default=None)
    ap.add_argument("--settings", default="{}", help="PhaseMapper keyword arguments as JSON")
    ap.add_argument(
        "--stages", action="store_true", help="exact match after each stage of the rules, points lost and gained"
    )
    args = ap.parse_args()
    points = args.points or (100 if args.preset is None else None)
    q_points = args.q_points or (400 if args.preset is None else None)
    for s in args.seeds.split(","):
        out = diagnose(int(s), points, q_points, args.preset, json.loads(args.settings), args.stages)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
