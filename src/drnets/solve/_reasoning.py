"""Reasoning across points: library-wide pruning (again after the rules), re-solving what it
removed, and growth of minor phases to the edge of their regions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._cost import neighbour_share
from ._point_search import search
from ._problem import Problem
from ._repairs import enforce_exactly, repair
from ._screen import restricted_pools, seed_pool
from ._state import State
from ._twins import one_card_per_compound, one_card_per_region, twin_ratios

#: Fraction above which a point counts towards a phase's region when pruning.
REGION_FRACTION = 0.02


def prune(pb: Problem, state: State, keep: np.ndarray) -> np.ndarray:
    """Library-wide sparsity: keep only phases that reach ``min_peak_fraction`` somewhere and
    hold more than 2 % at ``min_region_points`` points (real phases dominate somewhere;
    look-alike distractors do not)."""
    frac = state.fractions(pb.p_n)
    strong = frac.max(axis=0) >= pb.params.min_peak_fraction
    strong &= (frac > REGION_FRACTION).sum(axis=0) >= pb.params.min_region_points
    return keep & strong[None, :]


def enforce(pb: Problem, state: State, keep: np.ndarray) -> State:
    """Re-solve points that still use a pruned phase (pools without it)."""
    bad = [
        i
        for i in range(state.phase.shape[0])
        if any(not keep[i, state.phase[i, j]] for j in np.flatnonzero(state.present[i]))
    ]
    if not bad:
        return state
    pools = restricted_pools(pb, state, np.array(bad), keep)
    return search(pb, np.array(bad), pools, state)


def prune_again(pb: Problem, state: State, keep: np.ndarray) -> tuple[State, np.ndarray] | None:
    """The library-wide pruning (:func:`prune`) once more, on the answer the rules left: a
    phase it uses that is now nowhere dominant (a look-alike or distractor that stood in for
    a true phase during the search, or drew misfit at a few points) is pruned and its points
    re-solved without it. The new answer and ``keep``, or None when nothing changes."""
    again = prune(pb, state, keep)
    used = np.zeros(pb.p_n, dtype=bool)
    used[state.phase[state.present]] = True
    gone = used & keep.any(0) & ~again.any(0)
    if not gone.any():
        return None
    pb.history.append({"stage": "pruned again", "phases": np.flatnonzero(gone).tolist()})
    return enforce(pb, state, again), again


def grow(pb: Problem, state: State, keep: np.ndarray) -> State:
    """Minor phases at the edge of their region: a point below its Gibbs limit tries each
    phase its neighbours hold (at the neighbour's shift); kept where it pays its
    (neighbour-discounted) cost."""
    atoms, p = pb.atoms, pb.params
    added = 0
    for i in range(state.phase.shape[0]):
        js = np.flatnonzero(state.present[i])
        if js.size == 0 or (state.present[i] & ~pb.substrate[state.phase[i]]).sum() >= pb.limits[i]:
            continue
        if js.size >= state.phase.shape[1]:
            continue
        own = set(state.phase[i, js].tolist())
        offers = {
            ph: combo // atoms.n_widths
            for ph, combo in seed_pool(pb, state, i, keep, pb.nbrs[i]).items()
            if ph not in own
        }
        if not offers:
            continue

        def cost(phs: np.ndarray, hts: np.ndarray, shv: np.ndarray, i: int = i) -> float:
            return pb.cost(i, phs, hts, shv, 1.0 - p.neighbour_discount * neighbour_share(pb, state, i, phs))

        r_cur = pb.xraw[i] - state.rec[i] - state.bg[i]
        best = (float(r_cur @ r_cur) + cost(state.phase[i, js], state.coef[i, js], state.shift_val[i, js]), None)
        for ph, s_idx in offers.items():
            phs = np.append(state.phase[i, js], ph)
            g = pb.fit_point(i, phs, np.append(state.shift[i, js], s_idx))
            if not (g["height"] > 0).all():
                continue
            sc = g["rss"] + cost(phs, g["height"], g["shift"])
            if sc < best[0]:
                best = (sc, (phs, np.append(state.shift[i, js], s_idx), np.append(state.width[i, js], 0), g))
        if best[1] is not None:
            phs, centre, width, g = best[1]
            state.set_fit(i, phs, centre, width, g, best[0])
            added += 1
    pb.history.append({"stage": "grow", "points_changed": added})
    return state


def settle(pb: Problem, state: State, keep: np.ndarray, trace: Callable[[str, State], None] | None = None) -> State:
    """From the search's answer to the final one: twin cards reduced to one per point and per
    region, points using a pruned phase re-solved, minor phases grown, the soft repairs, twin
    cards per region again, then (``strict``) the rules enforced exactly; a phase the rules
    left nowhere dominant is pruned and the repairs and rules run once more
    (:func:`prune_again`). Both engines end with it. ``trace(stage, state)``, if given,
    sees the answer after each stage (``benchmarks/diagnose.py --stages``: which stage turns
    right points wrong)."""

    def done(stage: str, now: State) -> State:
        if trace is not None:
            trace(stage, now)
        return now

    state = done("search", state)
    # the twin pairs depend on the candidates only: found once (seconds on long candidate lists)
    twins = twin_ratios(pb) if pb.params.one_card or pb.params.twin_regions else {}
    if pb.params.one_card:
        state = done("one card per compound", one_card_per_compound(pb, state, list(twins)))
    if pb.params.twin_regions:
        state = done("one card per region", one_card_per_region(pb, state, twins))
    state = done("pruned phases re-solved", enforce(pb, state, keep))
    state = done("grow", grow(pb, state, keep))
    state = done("soft repairs", repair(pb, state, keep))
    if pb.params.twin_regions:  # the repairs copy neighbours' sets, twins among them
        state = done("one card per region again", one_card_per_region(pb, state, twins))
    if pb.params.strict:
        state = done("exact rules", enforce_exactly(pb, state))
    pruned = prune_again(pb, state, keep) if pb.params.min_peak_fraction > 0 else None
    if pruned is not None:  # and the rules after it
        state, keep = pruned
        state = done("pruned again", state)
        state = done("soft repairs again", repair(pb, state, keep))
        if pb.params.strict:
            state = done("exact rules again", enforce_exactly(pb, state))
    return state
