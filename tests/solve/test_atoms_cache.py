"""The profile dictionary over its memory budget: the least recently used phases make room,
one at a time, and every block is the same, bit for bit, as in a dictionary that fits."""

from __future__ import annotations

import numpy as np
import torch

from drnets.solve._atoms import Atoms
from drnets.solve._decoder import padded_sticks
from drnets.synth import generate


def _pair() -> tuple[Atoms, Atoms]:
    ds, _ = generate("easy", points=5, q_points=300, seed=0)
    q = ds.library.q
    sq, si = padded_sticks(ds.phases, q[0], q[-1], 0.05)
    shifts = 1 + 0.001 * np.arange(-5, 6)
    big = Atoms(q, sq, si, shifts, 0.2)
    row = shifts.size * len(big.widths) * q.size * 4
    small = Atoms(q, sq, si, shifts, 0.2, budget_bytes=2 * row)
    small._cache_max = 3  # force evictions
    return big, small


def test_least_recently_used_phases_make_room():
    big, small = _pair()
    rendered: list[int] = []
    render = small._render

    def counting(phases: np.ndarray) -> torch.Tensor:
        rendered.extend(int(p) for p in phases)
        return render(phases)

    small._render = counting
    small.block([0, 1, 2])
    small.phase(0)  # 0 is now the most recently used, 1 the least
    small.block([3])
    assert sorted(small._cache) == [0, 2, 3]
    small.profiles(np.array([0, 2]), np.zeros(2, int), np.zeros(2, int))
    assert sorted(rendered) == [0, 1, 2, 3]  # nothing kept was rendered again
    # A request larger than the budget is held whole, then shrinks back to the bound.
    small.block([0, 1, 2, 3, 4])
    assert len(small._cache) == 5
    small.block([5])
    assert len(small._cache) <= small._cache_max


def test_blocks_are_bit_identical_to_a_dictionary_that_fits():
    big, small = _pair()
    for phases in ([0, 1], [2, 3, 4], [0, 5], [1, 2, 3, 4, 5], [4]):
        assert torch.equal(small.block(phases), big.block(phases))
    ph = np.array([[0, 3], [5, 1], [3, 3]])
    si = np.array([[0, 4], [10, 1], [2, 7]])
    wi = np.array([[1, 0], [5, 2], [3, 3]])
    assert torch.equal(small.profiles(ph, si, wi), big.profiles(ph, si, wi))
    for p in range(6):
        assert torch.equal(small.norm2(p), big.norm2(p))
