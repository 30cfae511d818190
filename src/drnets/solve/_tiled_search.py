"""The search on Ray: a library's spatial tiles searched in parallel, the halo answers exchanged between rounds.

A round's subset search (:func:`~drnets.solve._point_search.search`) is independent per point
once the round's pools and the previous round's answers are given: the neighbours' answers
enter only through the pools and the neighbour discount (:func:`~drnets.solve._cost.penalty_weights`).
So each round the library's tiles (:func:`~drnets.structure.spatial_tiles`) are searched as Ray
tasks, each given its points' rows and its halo's answers (the neighbours outside the tile),
and the driver merges the tiles' rows into the new state: the halo exchange. Everything else
(screening, pruning, repairs, the answer) runs on the whole library in the driver. A point's
answer does not depend on which points share its batch (checked on every library of the
tests and the baselines), so the answer is the single process's, byte for byte.

What a tile's task gets: the problem's shared part (parameters, the profile dictionary, the
grids) once per fit through Ray's object store, its tile's rows of the per-point arrays once
per fit, and each round its points' and halo's per-phase costs, pools and answers. A task whose
worker dies is run again (:data:`TILE_RETRIES`); tiles are cut so that a tile's data fit
``tile_memory_gb`` on its worker. Ray is imported only here, and only when asked for.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core import InputError
from ..structure import spatial_tiles, tile_halo
from ._point_search import search
from ._problem import Problem
from ._screen import Pool
from ._state import State

#: Problem fields with one row per point (None or an array): a tile's task gets the rows of its points and its halo.
PER_POINT = ("x", "xn", "xraw", "background", "scale", "allowed", "limits", "search_limits", "comp", "drawn")
#: Problem fields a tile makes its own: its size, its neighbours (local indices), its costs (per round), its log,
#: its cache of final fits (keyed by local indices).
TILE_OWN = ("n", "nbrs", "edges", "pen", "history", "fits")
#: Times Ray runs a tile's task again after its worker died.
TILE_RETRIES = 3
#: Tiles per worker at least, so that a worker that finishes early takes another.
TILES_PER_WORKER = 2
#: Test hook: a file path; the first attempt of the first tile's first task creates it and kills its worker.
KILL_FIRST_ATTEMPT: str | None = None

SearchFn = Callable[[Problem, np.ndarray, list[Pool], State], State]


def round_search(params: Any) -> SearchFn:
    """The search of a round: :func:`search` itself, or a :class:`TiledSearch` when ``params`` ask for Ray.

    Ray is asked for by ``workers`` > 0 or a ``ray_address``; without them Ray is not imported.
    """
    if not params.workers and params.ray_address is None:
        return search
    return TiledSearch(params.workers, params.ray_address, params.tile_memory_gb)


def close_search(fn: SearchFn) -> None:
    """Release what a round search holds (a :class:`TiledSearch`'s objects and the Ray runtime it started)."""
    if isinstance(fn, TiledSearch):
        fn.close()


@contextlib.contextmanager
def ray_session(workers: int = 0, address: str | None = None) -> Iterator[Any]:
    """The Ray runtime: the one already running in this process, a cluster's at ``address``, or a local one.

    A local runtime gets ``workers`` CPUs (all when 0) and is shut down on exit; one that was
    running before is left running.

    Yields
    ------
    module
        ``ray``.

    Raises
    ------
    InputError
        When Ray is not installed, or the cluster cannot be reached.
    """
    where = "--ray-address" if address is not None else "--workers"
    if address is not None and not isinstance(address, str):
        raise InputError(f"must be an address (text), got {address!r}", where="parameter ray_address")
    try:
        import ray
    except ImportError:
        raise InputError("Ray is not installed: pip install 'drnets[ray]'", where=where) from None
    if ray.is_initialized():
        yield ray
        return
    opts: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR"}
    if address is not None:
        _reachable(address)
        opts["address"] = address
    else:
        # the workers import this very drnets, wherever it was imported from
        src = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
        opts.update(num_cpus=workers or None, runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        ray.init(**opts)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise InputError(f"no Ray runtime: {' '.join(str(err).split())[:200]}", where=where) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) that does not answer: Ray itself would wait for it forever."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # 'auto' and the like: Ray's own lookup, which fails fast
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise InputError(
            f"cannot reach a Ray cluster at {address} ({err.strerror or err})", where="--ray-address"
        ) from None


@dataclass
class _Tile:
    points: np.ndarray  # the tile's points (global indices, ascending)
    local: np.ndarray  # the points, then the halo: global index of each local row
    data: Any  # ObjectRef of the rows of the per-point arrays and the local neighbour lists


class TiledSearch:
    """:func:`search` over a library's spatial tiles, as Ray tasks (the same answer, in parallel).

    Parameters
    ----------
    workers : int
        Workers of a local runtime (0: every CPU of the runtime found or joined).
    address : str or None
        A running cluster to join.
    memory_gb : float
        The most a tile's data may take on a worker (tiles are split until they fit).

    Attributes
    ----------
    stats : list of dict
        Tile and halo overheads: one entry for the setup, one per round (also appended to the
        run's history).
    """

    def __init__(self, workers: int, address: str | None, memory_gb: float) -> None:
        self._session = ray_session(workers, address)
        self._ray = self._session.__enter__()
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.workers = int(workers) if workers else max(1, cpus)
        self.budget = float(memory_gb) * 1e9
        self._task = self._ray.remote(num_cpus=1, max_retries=TILE_RETRIES)(_search_tile)
        self._key: tuple[int, ...] | None = None
        self._shared: Any = None
        self._tiles: list[_Tile] = []
        self._rounds = 0
        self.stats: list[dict[str, Any]] = []

    def __call__(self, pb: Problem, points: np.ndarray, pools: list[Pool], state: State) -> State:
        """The state after searching ``points`` (as :func:`search`), tile by tile on the workers."""
        t0 = time.perf_counter()
        self._setup(pb)
        kill, self._rounds = (KILL_FIRST_ATTEMPT if self._rounds == 0 else None), self._rounds + 1
        wanted = np.zeros(pb.n, dtype=bool)
        wanted[points] = True
        jobs, sent, halo_rows = [], 0, 0
        for t in self._tiles:
            which = np.flatnonzero(wanted[t.points])
            if which.size == 0:
                continue
            rows = {name: getattr(state, name)[t.local] for name in State.FIELDS}
            tile_pools = [pools[int(i)] for i in t.points] + [{} for _ in range(t.local.size - t.points.size)]
            pen = pb.pen[t.local]
            sent += _nbytes(rows) + pen.nbytes + len(pickle.dumps(tile_pools)) + which.nbytes
            halo_rows += t.local.size - t.points.size
            jobs.append((t, which, self._task.remote([self._shared], t.data, pen, tile_pools, rows, which, kill)))
            kill = None
        new = state.copy()
        back, task_s, task_cpu = 0, 0.0, 0.0
        for t, which, job in jobs:
            rows, seconds, cpu = self._ray.get(job)
            task_cpu += cpu
            for name in State.FIELDS:
                getattr(new, name)[t.points[which]] = rows[name]
            back += _nbytes(rows)
            task_s += seconds
        entry = {
            "stage": "tiles",
            "round": self._rounds - 1,
            "tasks": len(jobs),
            "halo_points": halo_rows,
            "bytes_to_workers": sent,
            "bytes_back": back,
            "task_s": round(task_s, 3),
            "task_cpu_s": round(task_cpu, 3),
            "wall_s": round(time.perf_counter() - t0, 3),
        }
        self.stats.append(entry)
        pb.history.append(entry)
        return new

    def _setup(self, pb: Problem) -> None:
        """Put the problem's shared part and each tile's rows in the object store (again only when they change:
        the per-phase costs, which change between rounds, go with each round's tasks)."""
        key = tuple(id(getattr(pb, f.name)) for f in fields(Problem) if f.name not in ("pen", "history"))
        if self._key == key:
            return
        if pb.device != "cpu":
            raise InputError(
                f"the tiles are searched on CPU workers; pass device='cpu' (got {pb.device!r})",
                where="parameter workers",
            )
        t0 = time.perf_counter()
        shared = {f.name: getattr(pb, f.name) for f in fields(Problem) if f.name not in PER_POINT + TILE_OWN}
        arrays = {name: _numpy(getattr(pb, name)) for name in PER_POINT if getattr(pb, name) is not None}
        row_bytes = sum(a.nbytes for a in arrays.values()) + 2 * pb.q.size * 8  # and the answers' rec, bg
        per_point = max(row_bytes / max(pb.n, 1), 1.0)
        # a tile and its halo (at most as many points again) must fit the budget
        cap = max(1, int(self.budget // (2 * per_point)))
        parts = spatial_tiles(pb.comp, min(pb.n, self.workers * TILES_PER_WORKER), cap)
        self._shared = self._ray.put(shared)
        self._tiles, tile_bytes = [], 0
        for pts in parts:
            local = np.concatenate([pts, tile_halo(pts, pb.nbrs)])
            where = np.full(pb.n, -1, dtype=np.int64)
            where[local] = np.arange(local.size)
            nbrs = [where[np.asarray(pb.nbrs[int(i)], dtype=np.int64)] for i in pts]
            nbrs += [np.zeros(0, dtype=np.int64)] * (local.size - pts.size)
            data = {name: a[local] for name, a in arrays.items()} | {"nbrs": nbrs}
            tile_bytes += _nbytes(data)
            self._tiles.append(_Tile(pts, local, self._ray.put(data)))
        self._key = key
        entry = {
            "stage": "tiles setup",
            "tiles": len(parts),
            "workers": self.workers,
            "largest_tile": max((p.size for p in parts), default=0),
            "tile_cap_points": cap,
            "shared_bytes": _nbytes(shared),
            "tile_bytes": tile_bytes,
            "wall_s": round(time.perf_counter() - t0, 3),
        }
        self.stats.append(entry)
        pb.history.append(entry)

    def close(self) -> None:
        """Free the objects put in the store, and stop the runtime if this search started it."""
        self._shared, self._tiles, self._key = None, [], None
        self._session.__exit__(None, None, None)


def _numpy(v: Any) -> np.ndarray:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


def _nbytes(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of the arrays and tensors in ``obj`` (dicts, sequences and objects' attributes followed)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, torch.Tensor):
        return obj.element_size() * obj.numel()
    if isinstance(obj, dict):
        return sum(_nbytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):
        return _nbytes(vars(obj), seen)
    return 0


#: A worker's copy of the problem's shared part (the profile dictionary is a tensor: unpickling copies it).
_WORKER_SHARED: dict[str, Any] = {}


def _search_tile(
    shared_box: list[Any],
    data: dict[str, Any],
    pen: np.ndarray,
    pools: list[Pool],
    rows: dict[str, np.ndarray],
    which: np.ndarray,
    kill: str | None,
) -> tuple[dict[str, np.ndarray], float, float]:
    """A tile's task: search its points (local indices ``which``) given its halo's answers; returns their rows
    and the task's wall and CPU seconds.

    ``shared_box`` holds the shared part's reference unresolved, so that each worker fetches
    and unpickles it once per fit.
    """
    import ray

    t0, c0 = time.perf_counter(), time.process_time()
    if kill is not None and not os.path.exists(kill):
        Path(kill).touch()
        os._exit(1)  # the test of a worker that dies mid-run
    key = shared_box[0].hex()
    if key not in _WORKER_SHARED:
        _WORKER_SHARED.clear()
        _WORKER_SHARED[key] = ray.get(shared_box[0])
    shared = _WORKER_SHARED[key]
    local = {name: data.get(name) for name in PER_POINT}
    local["x"] = torch.as_tensor(np.array(data["x"]), device="cpu")
    n = local["x"].shape[0]
    pb = Problem(**shared, **local, n=n, nbrs=data["nbrs"], edges=np.zeros((0, 2), dtype=np.int64), pen=pen, history=[])
    which = np.array(which)  # writable: the store's arrays are read-only
    out = search(pb, which, pools, State(**rows))
    return (
        {name: getattr(out, name)[which] for name in State.FIELDS},
        time.perf_counter() - t0,
        time.process_time() - c0,
    )
