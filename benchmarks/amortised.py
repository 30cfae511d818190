"""Amortised inference with the network engine on a large generated library, against the search.

    python benchmarks/amortised.py [--points 5000] [--q-points L] [--train 500] [--unsure 0.1] [--seed 0]
                                   [--reference SOLUTION_DIR]

The network is trained on ``--train`` points of the library (a random subset), then every
point is inferred by one batched forward pass of the encoder over its screened candidates and
refitted with the profile-family fit; the ``--unsure`` share of points with the largest
residuals after the refit is searched by the search engine's per-point search, and the
search engine's pruning, growth, repairs and exact rules finish the answer. The search
engine alone on the whole library is the reference: solved here, or read with
``--reference`` from the solution folder of ``drnets solve`` on the same library (``drnets
synth --preset standard --points N --q-points L --seed S`` makes the same bytes as here),
its time taken from that folder's ``summary.json``. Prints one Markdown row per route.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from drnets.core.constants import PHASE_THRESHOLD
from drnets.evaluate import audit_solution, compare
from drnets.io import read_solution_dir
from drnets.solve import PhaseMapper
from drnets.solve._params import Params
from drnets.solve._point_search import search
from drnets.solve._prepare import prepare
from drnets.solve._reasoning import prune, settle
from drnets.solve._repairs import tidy
from drnets.solve._screen import round_pools, screen
from drnets.solve.network import Latent
from drnets.solve.network._answer import latent_to_state
from drnets.solve.network._train import candidates
from drnets.synth import generate


def infer(trainer, pb) -> Latent:
    """The trained encoder on every point of ``pb`` (batched), over each point's screened candidates."""
    cand, valid, shift0, _ = candidates(pb, pb.allowed, pb.params.net_candidates)
    net, ms = trainer.net, pb.params.max_shift
    frac, shift = np.zeros(cand.shape), np.ones(cand.shape)
    comp = torch.as_tensor(np.nan_to_num(pb.comp), dtype=torch.float32, device=pb.device)
    with torch.no_grad():
        for a in range(0, pb.n, 4096):
            sl = slice(a, a + 4096)
            logits, ds, _ = net(pb.x[sl], comp[sl])
            ct = torch.as_tensor(cand[sl], device=pb.device)
            lg = torch.gather(logits, 1, ct).masked_fill(~torch.as_tensor(valid[sl], device=pb.device), float("-inf"))
            frac[sl] = torch.softmax(lg, -1).nan_to_num(0.0).cpu().numpy()
            s0 = torch.atanh(torch.as_tensor((shift0[sl] - 1) / ms, dtype=torch.float32).clamp(-0.999, 0.999))
            shift[sl] = (1 + ms * torch.tanh(s0.to(pb.device) + torch.gather(ds, 1, ct))).cpu().numpy()
    lo, hi = trainer.w_lo, trainer.w_hi
    w = (lo + (hi - lo) * torch.sigmoid(trainer.width0[0, 0] + net.width.detach())).cpu().numpy()
    return Latent(cand=cand, valid=valid, frac=frac, shift=shift, width=w[cand], scale=np.ones(pb.n))


def rules(pb, state):
    """The search engine's reasoning and exact rules, as the network engine applies them."""
    return settle(pb, state, prune(pb, state, pb.allowed))


def row(name, frac, truth, labels, lib, phases, sol, seconds):
    c = compare(dict(zip(labels, frac.T)), truth)
    b = c["by_threshold"]
    v = ""
    if sol is not None:
        a = audit_solution(sol, lib, phases, threshold=PHASE_THRESHOLD)
        v = "/".join(str(a[f"{r}_violations"]) for r in ("gibbs", "alloying", "connectivity"))
    print(
        f"| {name} | {100 * b[0]['exact_match']:.1f} % | {100 * b[1]['exact_match']:.1f} % | {c['fraction_l1']:.3f} "
        f"| {v} | {seconds:.0f} |",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=5000)
    ap.add_argument("--train", type=int, default=500)
    ap.add_argument("--unsure", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--q-points", type=int, default=None)
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--reference", default=None, help="solution folder of the search engine on this library")
    args = ap.parse_args()
    ds, truth = generate("standard", points=args.points, q_points=args.q_points, seed=args.seed)
    lib, phases, labels = ds.library, ds.phases, ds.phases.labels
    want = truth.as_solution()
    print(f"standard preset, {lib.n_points} points, {len(phases)} phases, {lib.q.size} Q points")
    print("| route | exact 0.1 % | exact 2 % | fraction L1 | violations G/A/C | time (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    if not args.skip_search and not args.reference:
        t = time.perf_counter()
        sol = PhaseMapper(device="cpu", seed=args.seed).fit(lib, phases).solution_
        row("search engine, every point", sol.fractions, want, labels, lib, phases, sol, time.perf_counter() - t)

    t0 = time.perf_counter()
    sub = np.sort(np.random.default_rng(args.seed).choice(lib.n_points, args.train, replace=False))
    m = PhaseMapper(engine="network", device="cpu", seed=args.seed, net_epochs=args.epochs, net_point_lr=0.0)
    m.fit(lib.subset(sub), phases)
    t_train = time.perf_counter() - t0
    pb = prepare(lib, phases, Params(device="cpu", seed=args.seed))
    t1 = time.perf_counter()
    lat = infer(m.network_, pb)
    t_infer = time.perf_counter() - t1
    state = latent_to_state(pb, lat)
    state = tidy(pb, state)
    t_refit = time.perf_counter() - t1
    print(
        f"(train {t_train:.0f} s on {args.train} points, forward pass {t_infer:.1f} s, refit {t_refit - t_infer:.0f} s)"
    )
    row(
        "network, trained on the subset, every point inferred and refitted",
        state.fractions(pb.p_n),
        want,
        labels,
        lib,
        phases,
        None,
        time.perf_counter() - t0,
    )
    rel = np.linalg.norm(pb.xraw - state.rec - state.bg, axis=1) / np.linalg.norm(pb.xraw, axis=1)
    unsure = np.sort(np.argsort(-rel)[: int(round(args.unsure * pb.n))])
    t2 = time.perf_counter()
    keep = pb.allowed
    own = screen(pb, pb.x, keep)
    rec = torch.as_tensor(state.rec, dtype=pb.x.dtype)
    left = screen(pb, (pb.x - rec).clamp_min(0), keep)
    state = search(pb, unsure, round_pools(pb, state, True, keep, own, left), state)
    t_search = time.perf_counter() - t2
    row(
        f"+ search at the {100 * args.unsure:.0f} % least well fitted points",
        state.fractions(pb.p_n),
        want,
        labels,
        lib,
        phases,
        None,
        time.perf_counter() - t0,
    )
    t3 = time.perf_counter()
    state = rules(pb, state)
    t_rules = time.perf_counter() - t3
    from drnets.core import Solution

    frac = state.fractions(pb.p_n)
    shf = np.full(frac.shape, np.nan)
    for i in range(pb.n):
        for j in np.flatnonzero(state.present[i] & (state.coef[i] > 0)):
            shf[i, state.phase[i, j]] = state.shift_val[i, j]
    amp = np.where(frac > 0, frac, 0.0)
    sol = Solution(labels=labels, fractions=frac, shifts=shf, amplitudes=amp, widths=np.ones((pb.p_n, 2)))
    row("+ pruning, repairs and exact rules", frac, want, labels, lib, phases, sol, time.perf_counter() - t0)
    print(f"(search of unsure points {t_search:.0f} s, rules {t_rules:.0f} s)")
    if args.reference:  # read last: the reference solve may still be running when this starts
        ref = read_solution_dir(args.reference)
        frac = ref.fractions.aligned(np.arange(lib.n_points), labels)  # 0 for the phases it never used
        seconds = ref.summary["wall_time_s"]
        row(f"search engine, every point (`{ref.source}`)", frac, want, labels, lib, phases, None, seconds)


if __name__ == "__main__":
    main()
