"""Final fits already made during one solve, kept by their exact inputs.

The search's rounds, the repairs, the evidence and the confidence refit the same point with
the same phases around the same grid shifts again and again
(:meth:`~drnets.solve._problem.Problem.fit_point`). The NNLS of such a fit depends on
nothing that can change within a solve (the pattern, the dictionary and the background
basis are fixed), so a repeat takes the stored solution, bit for bit, instead of solving
again; the rest of the fit (its design matrix, heights, reconstruction) is rebuilt, which
is cheap. Only the coefficients are kept (hundreds of bytes a fit, not the patterns' length).
The cache is bounded in bytes and drops the least recently used entries first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

#: Largest size of a solve's cache of final fits, in bytes (about 250,000 fits of 60 columns).
FIT_CACHE_BYTES = 300_000_000
#: Bookkeeping per stored entry beyond its arrays (key, tuples, dict slot), in bytes, for the bound.
_ENTRY_OVERHEAD = 700


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def _size(value: Any) -> int:
    parts = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else (value,)
    return _ENTRY_OVERHEAD + sum(v.nbytes for v in parts if isinstance(v, np.ndarray))


class FitCache:
    """Least-recently-used store of results (arrays and numbers, in tuples or dicts), bounded in bytes.

    Parameters
    ----------
    max_bytes : int or None
        Bound on the stored arrays plus a fixed overhead per entry; 0 stores nothing;
        None: :data:`FIT_CACHE_BYTES`.

    Attributes
    ----------
    hits, misses : int
        Lookups answered from the store, and results computed.
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = int(FIT_CACHE_BYTES if max_bytes is None else max_bytes)
        self.hits = 0
        self.misses = 0
        self._store: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._store)

    @property
    def nbytes(self) -> int:
        """Bytes held (arrays plus the per-entry overhead)."""
        return self._bytes

    def get_or_fit(self, key: Hashable, fit: Callable[[], Any]) -> Any:
        """The result stored under ``key``, or ``fit()``'s (then stored); always a fresh copy,
        so that a caller changing it changes neither the store nor another caller's result."""
        hit = self._store.get(key)
        if hit is not None:
            self._store.move_to_end(key)
            self.hits += 1
            return _copy(hit[0])
        self.misses += 1
        result = fit()
        size = _size(result)
        if size <= self.max_bytes:
            self._store[key] = (_copy(result), size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, old) = self._store.popitem(last=False)
                self._bytes -= old
        return result

    def __getstate__(self) -> dict[str, Any]:
        # A pickled cache (e.g. a problem sent to a Ray worker, whose tile numbers its points
        # afresh) arrives empty: its keys name this problem's points.
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_bytes"])

    def clear(self) -> None:
        """Forget every stored result (the counts stay)."""
        self._store.clear()
        self._bytes = 0
