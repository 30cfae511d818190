"""Rule repairs: the answer is made to obey connectivity, alloying and Gibbs.

The rules themselves are defined once in :mod:`drnets.structure` (the same functions the
audit counts with); this module changes an answer until they hold, refitting every point
it touches. :func:`repair` is the soft sequence (re-solve islands without the phase,
smooth phase fields and shifts, repeated while it helps); :func:`enforce_exactly` the
last resort that makes the rules hold whatever it costs in fit.
"""

from __future__ import annotations

import numpy as np

from ..structure import (
    alloying_breaks,
    components,
    extra_components,
    outside_main_region,
    pinned_edges,
    relative_jump,
)
from ._point_search import search
from ._problem import Problem
from ._screen import restricted_pools
from ._state import State, refit


def _sets(state: State) -> list[frozenset[int]]:
    """Each point's phase set."""
    return [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(state.phase.shape[0])]


def _fields(sets: list[frozenset[int]]) -> set[frozenset[int]]:
    """The phase fields (sets of two or more phases) present in an answer."""
    return {f for f in sets if len(f) >= 2}


def tidy(pb: Problem, state: State) -> State:
    """Drop fractions under ``threshold`` and, exactly, what exceeds the Gibbs limit; refit."""
    for _ in range(2):  # a refit can push another fraction under the threshold
        frac = state.fractions(pb.p_n)
        drop = state.present & (
            np.take_along_axis(frac, np.where(state.present, state.phase, 0), 1) < pb.params.threshold
        )
        # Gibbs: system phases (not a substrate) beyond the limit go, smallest first.
        chem = state.present & ~drop & ~pb.substrate[state.phase]
        for i in np.flatnonzero(chem.sum(1) > pb.limits):
            js = np.flatnonzero(chem[i])
            order = js[np.argsort(state.coef[i, js])]
            drop[i, order[: js.size - pb.limits[i]]] = True
        if not drop.any():
            break
        state.present &= ~drop
        refit(pb, state, np.flatnonzero(drop.any(1)))
    return state


def broken_regions(pb: Problem, state: State) -> int:
    """Extra connected pieces of phase regions and phase fields (the audit's count)."""
    extra = extra_components(state.present_matrix(pb.p_n), pb.edges)
    pb.history.append({"stage": "regions", "extra_components": extra})
    return extra


def repair_connectivity(pb: Problem, state: State, keep: np.ndarray) -> State:
    """Remove a phase from islands cut off from its main region where the data allow it."""
    p = pb.params
    xx = (pb.x * pb.x).sum(-1).cpu().numpy()
    for ph in [ph for _ in range(3) for ph in np.unique(state.phase[state.present])]:  # a re-solve can cut another
        pts = np.flatnonzero(((state.phase == ph) & state.present).any(1))
        if pts.size < 2:
            continue
        islands = outside_main_region(pts, pb.edges, pb.n)
        if islands.size == 0:
            continue
        k2 = keep.copy()
        k2[islands, ph] = False
        trial = search(pb, islands, restricted_pools(pb, state, islands, k2), state)
        for i in islands:
            cost = trial.score[i] - state.score[i]
            solved = ph not in trial.phase[i][trial.present[i]] and trial.present[i].any()
            if solved and (p.strict or cost <= p.repair_tolerance * xx[i]):
                state.copy_point(trial, i)
            elif p.strict:
                # No re-solve without the phase: keep the point's other phases, refitted.
                state.present[i] &= state.phase[i] != ph
                refit(pb, state, np.array([i]))
    return state


def repair_fields(pb: Problem, state: State) -> State:
    """Connectivity of phase fields: a point whose exact phase set is an island takes the
    best-fitting phase set among its neighbours' (a Potts-like smoothing of the map)."""
    p = pb.params
    xx = (pb.xraw * pb.xraw).sum(1)
    changed = 0
    for _ in range(3):
        sets = _sets(state)
        islands = []
        for fs in _fields(sets):
            pts = np.array([i for i in range(pb.n) if sets[i] == fs])
            islands.extend(outside_main_region(pts, pb.edges, pb.n).tolist())
        if not islands:
            break
        for i in islands:
            best = None
            for j in pb.nbrs[i]:
                if sets[j] == sets[i] or not sets[j]:
                    continue
                js = np.flatnonzero(state.present[j])
                g = pb.fit_point(i, state.phase[j, js], state.shift[j, js])
                sc, kj = pb.fit_cost(i, state.phase[j, js], g)
                if kj.all() and (best is None or sc < best[0]):
                    best = (sc, j, js, g)
            if best is None:
                continue
            sc, j, js, g = best
            if p.strict or sc - state.score[i] <= p.repair_tolerance * xx[i]:
                state.set_fit(i, state.phase[j, js], state.shift[j, js], state.width[j, js], g, sc)
                sets[i] = sets[j]
                changed += 1
    pb.history.append({"stage": "phase fields", "points_changed": changed})
    return state


def smooth_shifts(pb: Problem, state: State) -> State:
    """Alloying rule, softly: a phase's shift follows its neighbours' unless the data insist.

    Where a phase's shift is more than ``shift_tolerance`` from the median of the
    neighbours holding it, the point is refitted with that phase centred on the median;
    the change is kept when it costs less than ``repair_tolerance`` of the energy.
    """
    p = pb.params
    xx = (pb.xraw * pb.xraw).sum(1)
    n_fixed = 0
    for i in range(state.phase.shape[0]):
        for j in np.flatnonzero(state.present[i]):
            ph = state.phase[i, j]
            near = [state.shift_val[nb][state.present[nb] & (state.phase[nb] == ph)] for nb in pb.nbrs[i]]
            near = np.concatenate(near) if near else np.zeros(0)
            if near.size == 0:
                continue
            med = float(np.median(near))
            if abs(state.shift_val[i, j] - med) <= p.shift_tolerance:
                continue
            js = np.flatnonzero(state.present[i])
            centre = state.shift[i, js].copy()
            centre[js == j] = pb.atoms.shift_index(med)
            g = pb.fit_point(i, state.phase[i, js], centre, (-1, 0, 1))
            sc, kj = pb.fit_cost(i, state.phase[i, js], g)
            if kj.all() and sc - state.score[i] <= p.repair_tolerance * xx[i]:
                state.set_fit(i, state.phase[i, js], centre, state.width[i, js], g, sc, kj)
                n_fixed += 1
                break
    pb.history.append({"stage": "alloying", "points_changed": n_fixed})
    return state


def repair(pb: Problem, state: State, keep: np.ndarray) -> State:
    """The soft repairs (connectivity, phase fields, alloying), repeated while they change
    the answer: a re-solved island may start another."""
    seen: set[bytes] = set()
    for _ in range(pb.params.repair_rounds):
        state = tidy(pb, state)
        state = repair_connectivity(pb, state, keep)
        state = repair_fields(pb, state)
        for _ in range(3):
            state = smooth_shifts(pb, state)
            if pb.history[-1]["points_changed"] == 0:
                break
        state = tidy(pb, state)
        if broken_regions(pb, state) == 0:
            break
        # Repairs that undo each other come back to an answer seen before: stop there
        # (the exact island pruning settles what is left).
        key = state.key()
        if key in seen:
            pb.history.append({"stage": "repairs", "cycle": True})
            break
        seen.add(key)
    return state


def prune_islands(pb: Problem, state: State) -> State:
    """Last resort for connectivity: a phase is removed from points outside its largest
    region (the other phases there refitted), and a point cut off from the rest of its phase
    field leaves it the cheapest way, or a neighbour joins the field to bridge it
    (:func:`_leave_field`); a change can cut another region, hence the repeats."""
    removed = 0
    # Six passes choosing by cost; then, should islands remain (a point that took a
    # neighbour's set can be cut off again when that neighbour changes), six passes that
    # only remove, which always end.
    for cheapest in [True] * 6 + [False] * 6:
        touched, refitted = set(), set()  # points changed, to refit here / refitted already
        for ph in np.unique(state.phase[state.present]):
            pts = np.flatnonzero(((state.phase == ph) & state.present).any(1))
            for i in outside_main_region(pts, pb.edges, pb.n):
                if (state.present[i] & (state.phase[i] != ph)).any():  # never empty a point
                    state.present[i] &= state.phase[i] != ph
                    touched.add(int(i))
        # Phase fields (exact sets of two or more): an island point leaves its field the
        # cheapest way (a member dropped, or a neighbour's set taken), or a neighbour joins
        # the field to bridge it.
        sets = _sets(state)
        for fs in _fields(sets):
            pts = _field_points(sets, fs, touched)
            cut = outside_main_region(pts, pb.edges, pb.n)
            main, still = np.setdiff1d(pts, cut), set(cut.tolist())
            for i in cut:
                if cheapest:
                    if int(i) not in still:  # a bridge has joined it to the field
                        continue
                    changed = _leave_field(pb, state, int(i), sets, main)
                    refitted.add(changed)
                    if changed != i:  # a bridge: the field's regions found again
                        now = _field_points(sets, fs, touched)
                        out = outside_main_region(now, pb.edges, pb.n)
                        main, still = np.setdiff1d(now, out), set(out.tolist())
                else:
                    _drop_weakest(state, int(i))
                    touched.add(int(i))
        if not touched and not refitted:
            break
        removed += len(touched | refitted)
        if touched:
            refit(pb, state, np.array(sorted(touched)))
        state = tidy(pb, state)
    pb.history.append({"stage": "island pruning", "points_changed": removed})
    return state


def _field_points(sets: list[frozenset[int]], fs: frozenset[int], skip: set[int]) -> np.ndarray:
    """The points whose set is ``fs``, bar those in ``skip``."""
    return np.array([i for i, s in enumerate(sets) if s == fs and i not in skip])


def _leave_field(pb: Problem, state: State, i: int, sets: list[frozenset[int]], main: np.ndarray) -> int:
    """Point ``i``, an island of its phase field, takes the cheapest of: its set with one
    member fewer, or a neighbour's other set within its Gibbs limit; each refitted. (Dropping
    the weakest member, cost unseen, turned right points wrong: a 12 % phase went where a
    neighbour's set, or another member, cost less.) Or, where that costs less than the
    point's cheapest leaving, a neighbour that touches the field's ``main`` region takes the
    point's set and so bridges the island to it (an island of one point is as often the
    field's true edge as a mistake). Returns the point changed."""
    js = np.flatnonzero(state.present[i])
    options = [(state.phase[i, r], state.shift[i, r], state.width[i, r]) for r in (js[js != k] for k in js)]
    for j in pb.nbrs[i]:
        if sets[j] == sets[i] or not sets[j]:
            continue
        jj = np.flatnonzero(state.present[j])
        if (~pb.substrate[state.phase[j, jj]]).sum() <= pb.limits[i]:
            options.append((state.phase[j, jj], state.shift[j, jj], state.width[j, jj]))
    best = None
    for phs, centre, width in options:
        g = pb.fit_point(i, phs, centre)
        sc, kj = pb.fit_cost(i, phs, g)
        # A neighbour's set can make the point full beside a neighbour of that set at
        # another shift: the alloying rule (already enforced) would break.
        if kj.any() and (best is None or sc < best[0]) and not _breaks_alloying(pb, state, i, phs[kj], g["shift"][kj]):
            best = (sc, phs, centre, width, g, kj)
    # a one-phase field (beside a substrate) is not bridged
    bridge = None
    if (~pb.substrate[state.phase[i, js]]).sum() >= 2:
        bridge = _bridge(pb, state, i, sets, main, None if best is None else best[0] - _own_cost(pb, state, i))
    if bridge is not None:
        j, sc, g = bridge
        state.set_fit(j, state.phase[i, js], state.shift[i, js], state.width[i, js], g, sc)
        sets[j] = sets[i]
        return j
    if best is None:  # nothing fits: the weakest member goes
        _drop_weakest(state, i)
        refit(pb, state, np.array([i]))
    else:
        sc, phs, centre, width, g, kj = best
        state.set_fit(i, phs, centre, width, g, sc, kj)
    sets[i] = frozenset(state.phase[i][state.present[i]].tolist())
    return i


def _own_cost(pb: Problem, state: State, i: int) -> float:
    """Cost of point ``i``'s present answer by the same final fit the options get."""
    js = np.flatnonzero(state.present[i])
    return pb.fit_cost(i, state.phase[i, js], pb.fit_point(i, state.phase[i, js], state.shift[i, js]))[0]


def _bridge(
    pb: Problem, state: State, i: int, sets: list[frozenset[int]], main: np.ndarray, leave: float | None
) -> tuple[int, float, dict] | None:
    """The cheapest neighbour ``j`` of island point ``i`` (another set than ``i``'s) that
    touches the field's ``main`` region and can take ``i``'s set with every member kept,
    within its Gibbs limit and the alloying rule kept, if its cost rises by less than
    ``leave`` (the cost rise of ``i``'s cheapest way out; None: none fits):
    ``(j, cost, fit)``, or None."""
    if not main.size:
        return None
    js = np.flatnonzero(state.present[i])
    phs, centre = state.phase[i, js], state.shift[i, js]
    in_main = np.zeros(pb.n, dtype=bool)
    in_main[main] = True
    best = None
    for j in pb.nbrs[i]:
        if not in_main[pb.nbrs[j]].any() or sets[j] == sets[i] or (~pb.substrate[phs]).sum() > pb.limits[j]:
            continue
        g = pb.fit_point(j, phs, centre)
        sc, kj = pb.fit_cost(j, phs, g)
        if not kj.all() or _breaks_alloying(pb, state, j, phs, g["shift"]):
            continue
        rise = sc - _own_cost(pb, state, j)
        if (leave is None or rise < leave) and (best is None or rise < best[0]):
            best = (rise, (int(j), sc, g))
    return None if best is None else best[1]


def _drop_weakest(state: State, i: int) -> None:
    """Point ``i`` loses its member of smallest height (the caller refits it)."""
    js = np.flatnonzero(state.present[i])
    state.present[i, js[np.argmin(state.coef[i, js])]] = False


def _breaks_alloying(pb: Problem, state: State, i: int, phases: np.ndarray, shifts: np.ndarray) -> bool:
    """Whether point ``i`` holding ``phases`` at ``shifts`` breaks the alloying rule along one
    of its edges (:func:`drnets.structure.alloying_breaks`, the audit's own test)."""
    loc = np.array([i, *pb.nbrs[i]], dtype=int)
    present = np.zeros((loc.size, pb.p_n), dtype=bool)
    shift = np.full((loc.size, pb.p_n), np.nan)
    present[0, phases], shift[0, phases] = True, shifts
    for r, k in enumerate(loc[1:], start=1):
        m = state.present[k]
        present[r, state.phase[k, m]], shift[r, state.phase[k, m]] = True, state.shift_val[k, m]
    edges = np.column_stack([np.zeros(loc.size - 1, dtype=int), np.arange(1, loc.size)])
    breaks = alloying_breaks(present, shift, edges, pb.limits[loc], pb.substrate, pb.params.alloy_tolerance)
    return bool(breaks.any())


def enforce_alloying(pb: Problem, state: State) -> State:
    """Alloying rule, exactly: where a phase is held by neighbouring points of the same phase
    field that both use their full phase count (:func:`drnets.structure.pinned_edges`), the
    phase's composition, hence its shift, cannot change. A connected group of such points
    with a jump above ``alloy_tolerance`` gets the group's median shift (each point refitted
    around it; a phase the data refuse there leaves the point), or drops the member whose
    absence costs least, when that is cheaper: with one member fewer the point is not full
    and its shifts are free."""
    p, edges = pb.params, pb.edges
    changed = 0
    for _ in range(4):
        moved = False
        for ph in np.unique(state.phase[state.present]):
            full = (state.present & ~pb.substrate[state.phase]).sum(1) >= pb.limits
            holds = (state.present & (state.phase == ph)).any(1)
            cand = np.flatnonzero(full & holds)
            field = {int(i): frozenset(state.phase[i][state.present[i]].tolist()) for i in cand}
            pinned = pinned_edges(state.present_matrix(pb.p_n), edges, pb.limits, pb.substrate)
            groups = []
            for fs in set(field.values()):  # one phase field at a time
                pts = np.array([i for i in cand if field[int(i)] == fs])
                lab = components(pts, edges, pb.n)
                groups += [pts[lab == c] for c in range(int(lab.max()) + 1)] if pts.size else []
            for grp in groups:
                if grp.size < 2:
                    continue
                slot = [int(np.flatnonzero(state.present[i] & (state.phase[i] == ph))[0]) for i in grp]
                sh = np.array([state.shift_val[i, j] for i, j in zip(grp, slot)])
                med = float(np.median(sh))
                sub = np.isin(edges[:, 0], grp) & np.isin(edges[:, 1], grp) & pinned
                val = np.full(pb.n, np.nan)
                val[grp] = sh
                jumps = relative_jump(val[edges[sub, 0]], val[edges[sub, 1]])
                if not jumps.size or jumps.max() <= p.alloy_tolerance:
                    continue
                centre_idx = pb.atoms.shift_index(med)
                for i, j, v in zip(grp, slot, sh):
                    if abs(v - med) <= 0.5 * p.alloy_tolerance * med:
                        continue  # close enough to the group: no edge of it can break the rule
                    js = np.flatnonzero(state.present[i])
                    centre = state.shift[i, js].copy()
                    centre[js == j] = centre_idx
                    # only the pinned member loses its shift family; the others keep theirs
                    offs = tuple((0,) if r == j else tuple(p.shape_offsets) for r in js)
                    g = pb.fit_point(i, state.phase[i, js], centre, offs)
                    sc, kj = pb.fit_cost(i, state.phase[i, js], g)
                    best = (sc, js, centre, g, kj) if kj.any() else None
                    # A point with one member fewer is not full, so no edge pins its shifts: a
                    # shift that moves with the composition says the point is not in a full
                    # field (a spurious member made it look full). Take whichever costs less.
                    for k in js[~pb.substrate[state.phase[i, js]]] if js.size > 1 else ():
                        rest = js[js != k]
                        g2 = pb.fit_point(i, state.phase[i, rest], state.shift[i, rest])
                        sc2, kj2 = pb.fit_cost(i, state.phase[i, rest], g2)
                        if kj2.any() and (best is None or sc2 < best[0]):
                            best = (sc2, rest, state.shift[i, rest], g2, kj2)
                    if best is None:
                        continue
                    sc, js, centre, g, kj = best
                    state.set_fit(i, state.phase[i, js], centre, state.width[i, js], g, sc, kj)
                    changed += 1
                    moved = True
        if not moved:
            break
    pb.history.append({"stage": "alloying (exact)", "points_changed": changed})
    return state


def enforce_exactly(pb: Problem, state: State) -> State:
    """Connectivity and alloying made to hold whatever they cost: islands pruned, shifts
    pinned, islands pruned again (the pinning can drop a phase somewhere)."""
    state = prune_islands(pb, state)
    state = enforce_alloying(pb, state)
    return prune_islands(pb, state)
