"""Rule repairs after the search (solve/_repairs.py): what they may cost and how they choose."""

from __future__ import annotations

import numpy as np
import pytest

from drnets.solve._params import Params
from drnets.solve._point_search import search
from drnets.solve._prepare import prepare
from drnets.solve._repairs import _breaks_alloying, _leave_field, enforce_alloying, smooth_shifts
from drnets.solve._screen import round_pools, screen
from drnets.solve._state import State, refit
from drnets.structure import outside_main_region, pinned_edges, relative_jump
from drnets.synth import generate


def _searched():
    """The easy preset after one search round (strict rules, the default), and its problem."""
    ds, _ = generate("easy", points=30, q_points=300, seed=1)
    pb = prepare(ds.library, ds.phases, Params(device="cpu"))
    keep = pb.allowed.copy()
    own = screen(pb, pb.x, keep)
    state = State.empty(pb.n, int(pb.search_limits.max()), pb.q.size)
    state = search(pb, np.arange(pb.n), round_pools(pb, state, False, keep, own, own), state)
    return pb, state, own


@pytest.fixture()
def searched():
    return _searched()


def _slot(state: State, i: int, ph: int) -> int:
    return int(np.flatnonzero(state.present[i] & (state.phase[i] == ph))[0])


def test_soft_alloying_repair_never_buys_smoothness_with_misfit(searched):
    # The neighbours of a point report a phase at a shift the point's data refuse: the soft
    # repair may not move the point there, strict or not (the exact step owns the rule).
    pb, state, _ = searched
    assert pb.params.strict
    i = next(i for i in range(pb.n) if state.present[i].sum() == 1 and len(pb.nbrs[i]) >= 2)
    ph = int(state.phase[i][state.present[i]][0])
    for nb in pb.nbrs[i]:
        for j in np.flatnonzero(state.present[nb] & (state.phase[nb] == ph)):
            state.shift_val[nb, j] *= 1.03
    before = (state.shift_val[i].copy(), state.score[i])
    after = smooth_shifts(pb, state)
    assert after.shift_val[i, _slot(after, i, ph)] == pytest.approx(before[0][_slot(state, i, ph)])
    assert after.score[i] == pytest.approx(before[1])


def test_exact_alloying_drops_a_spurious_member_rather_than_pin_a_shift(searched):
    # Two neighbouring points share a two-phase set; each is given the same spurious third
    # phase (so both look full at a Gibbs limit of 3) and one of them a true phase at a
    # shift 2 % off. Pinning both to the middle would misfit both; dropping the spurious
    # member frees the shifts (a point below its limit pins nothing) at a smaller cost.
    pb, state, own = searched
    sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(pb.n)]
    a, b = next((int(u), int(v)) for u, v in pb.edges if len(sets[u]) == 2 and sets[u] == sets[v])
    ph = min(sets[a])
    spurious = next(p for p in np.flatnonzero(pb.allowed[a] & pb.allowed[b]) if p not in sets[a])
    for i, off in ((a, 0.0), (b, 0.02)):
        js = np.flatnonzero(state.present[i])
        phases = np.append(state.phase[i, js], spurious)
        centre = np.append(state.shift[i, js], own[1][i, spurious] // pb.atoms.n_widths)
        centre[_slot(state, i, ph)] = pb.atoms.shift_index(state.shift_val[i, _slot(state, i, ph)] * (1 + off))
        g = pb.fit_point(i, phases, centre, (0,))
        g["height"] = np.maximum(g["height"], 1e-3)  # every member present, however little
        sc, _ = pb.fit_cost(i, phases, g)
        state.set_fit(i, phases, centre, np.append(state.width[i, js], 0), g, sc)
    pb.limits[[a, b]] = 3
    pb.limits[np.setdiff1d(np.arange(pb.n), [a, b])] = 9  # nothing else is full
    assert relative_jump(state.shift_val[a, _slot(state, a, ph)], state.shift_val[b, _slot(state, b, ph)]) > 0.01
    assert pinned_edges(state.present_matrix(pb.p_n), np.array([[a, b]]), pb.limits, pb.substrate).all()

    after = enforce_alloying(pb, state)
    dropped = [i for i in (a, b) if spurious not in after.phase[i][after.present[i]]]
    assert dropped  # the cheaper way out was taken at one point at least
    still = pinned_edges(after.present_matrix(pb.p_n), np.array([[a, b]]), pb.limits, pb.substrate)
    assert not still.any()  # and the rule holds: nothing pins the two points any more


def test_an_island_of_a_phase_field_leaves_it_the_cheapest_way(searched):
    # A two-phase point inside its field's region is given a spurious third phase with the
    # largest height: were that three-phase field held elsewhere, the point would be an
    # island of it. Dropping the weakest member (by height) would drop a true phase; the
    # cheapest way out is to drop the spurious one (or take a neighbour's set, the same two
    # phases).
    pb, state, own = searched
    sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(pb.n)]

    def connected(fs):
        pts = np.array([k for k in range(pb.n) if sets[k] == fs])
        return outside_main_region(pts, pb.edges, pb.n).size == 0

    def extra(i):  # a phase a neighbour holds (so that its region stays whole), new at i
        near = set().union(*(sets[j] for j in pb.nbrs[i])) - sets[i]
        return [p for p in near if pb.allowed[i, p] and not any(sets[j] == sets[i] | {p} for j in pb.nbrs[i])]

    i = next(
        i
        for i in range(pb.n)
        if len(sets[i]) == 2 and connected(sets[i]) and any(sets[j] == sets[i] for j in pb.nbrs[i]) and extra(i)
    )
    spurious = extra(i)[0]
    js = np.flatnonzero(state.present[i])
    phases = np.append(state.phase[i, js], spurious)
    centre = np.append(state.shift[i, js], own[1][i, spurious] // pb.atoms.n_widths)
    g = pb.fit_point(i, phases, centre, (0,))
    g["height"][-1] = 2 * g["height"][:-1].max() + 1e-3  # the spurious member is the largest
    sc, _ = pb.fit_cost(i, phases, g)
    state.set_fit(i, phases, centre, np.append(state.width[i, js], 0), g, sc)
    pb.limits[i] = 3
    weakest = int(state.phase[i, js[np.argmin(state.coef[i, js])]])
    assert weakest in sets[i]  # the old rule (drop the weakest) would have dropped a true phase

    now = [frozenset(state.phase[k][state.present[k]].tolist()) for k in range(pb.n)]
    main = np.array([k for k in range(pb.n) if now[k] == now[i] and k != i])
    _leave_field(pb, state, i, now, main)  # what prune_islands does at an island of a field
    assert frozenset(state.phase[i][state.present[i]].tolist()) == sets[i] == now[i]


def test_a_point_that_takes_a_neighbours_set_is_checked_against_the_alloying_rule(searched):
    # The check _leave_field makes before a point takes a neighbour's set: the same full
    # set beside a neighbour at the same shifts is allowed, at a shift 5 % off it is not.
    pb, state, _ = searched
    sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(pb.n)]
    i, j = next((int(u), int(v)) for u, v in pb.edges if len(sets[u]) == 2 and sets[u] == sets[v])
    pb.limits[:] = 2  # every two-phase point is full: the edge pins the shifts
    js = np.flatnonzero(state.present[j])
    phases, shifts = state.phase[j, js], state.shift_val[j, js].copy()
    assert not _breaks_alloying(pb, state, i, phases, shifts)
    shifts[0] *= 1.05
    assert _breaks_alloying(pb, state, i, phases, shifts)


def test_settle_shows_each_stage_and_the_trace_changes_nothing(searched):
    # ``trace`` sees the answer after each stage, in order, and watching changes nothing.
    from drnets.solve._reasoning import settle

    pb, state, _ = searched
    keep = pb.allowed.copy()
    seen: list[tuple[str, State]] = []
    traced = settle(pb, state.copy(), keep, trace=lambda stage, now: seen.append((stage, now.copy())))
    plain = settle(pb, state.copy(), keep)
    assert [s for s, _ in seen] == [
        "search",
        "one card per region",
        "pruned phases re-solved",
        "grow",
        "soft repairs",
        "one card per region again",
        "exact rules",
        # the first round's answer, never pruned, uses a phase nowhere dominant
        "pruned again",
        "soft repairs again",
        "exact rules again",
    ]
    assert np.array_equal(seen[0][1].present, state.present)  # the search's answer, as given
    assert np.array_equal(seen[-1][1].present, traced.present)  # the last stage's is the answer
    assert np.array_equal(traced.present, plain.present) and np.array_equal(traced.phase, plain.phase)
    assert np.allclose(traced.coef, plain.coef)


def _cut_field(pb, state):
    """A point of a two-phase field whose removal cuts the field in two loses one member (as
    a wrong repair might): its neighbour beyond becomes an island. Returns the field, the cut
    point, the island point, the field's main region and every point's set."""
    sets = [frozenset(state.phase[i][state.present[i]].tolist()) for i in range(pb.n)]
    found = None
    for fs in sorted(set(s for s in sets if len(s) == 2), key=sorted):
        pts = np.array([k for k in range(pb.n) if sets[k] == fs])
        for j in pts:
            rest = pts[pts != j]
            out = outside_main_region(rest, pb.edges, pb.n)
            main = np.setdiff1d(rest, out)
            isl = [int(i) for i in out if i in pb.nbrs[j]]
            if isl and main.size >= 2 and any(k in main for k in pb.nbrs[j]):
                found = (fs, int(j), isl[0], main)
                break
        if found:
            break
    assert found is not None  # the easy preset has such a field
    fs, j, i, main = found
    js = np.flatnonzero(state.present[j])
    state.present[j, js[np.argmin(state.coef[j, js])]] = False
    refit(pb, state, np.array([j]))
    now = [frozenset(state.phase[k][state.present[k]].tolist()) for k in range(pb.n)]
    assert now[j] != fs and now[i] == fs
    assert i in outside_main_region(np.array([k for k in range(pb.n) if now[k] == fs]), pb.edges, pb.n)
    return fs, j, i, main, now


def _one_region(pb, state, fs) -> bool:
    now = [frozenset(state.phase[k][state.present[k]].tolist()) for k in range(pb.n)]
    pts = np.array([k for k in range(pb.n) if now[k] == fs])
    return outside_main_region(pts, pb.edges, pb.n).size == 0


def test_an_island_of_a_phase_field_is_bridged_when_a_neighbour_joins_it_cheaper(searched):
    # The data at the cut point still hold both phases, so its joining the field again
    # costs less than the island's leaving: the island stays, the cut point takes the
    # field's set back (the exact rules' island step).
    pb, state, _ = searched
    fs, j, i, main, now = _cut_field(pb, state)
    changed = _leave_field(pb, state, i, now, main)
    assert changed == j
    assert frozenset(state.phase[j][state.present[j]].tolist()) == fs == now[j]
    assert frozenset(state.phase[i][state.present[i]].tolist()) == fs
    assert _one_region(pb, state, fs)
