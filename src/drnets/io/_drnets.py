"""The DRNets npy folder (``Q.npy``, ``XRD.npy``, ``sticks_lib.npy``, ...).

``sticks_lib.npy`` is a pickled object array. Unpickling an untrusted file can run any
code, so it is never read with ``np.load(allow_pickle=True)``: the ``.npy`` header is
parsed with :mod:`numpy.lib.format` and the payload goes through a restricted unpickler
that can rebuild numpy arrays and dtypes and nothing else.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from ..core import Dataset, InputError, Library, Phase, PhaseLibrary
from ._atomic import atomic_path

_FILES = ("Q", "XRD", "composition", "bases_name", "bases_comp", "sticks_lib")
_LABEL = re.compile(r"^\d+\+")


def _safe_codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as numpy protocol-2 pickles use it: text to raw bytes only."""
    if not isinstance(obj, str) or encoding.lower().replace("-", "").replace("_", "") not in (
        "latin1",
        "iso88591",
        "utf8",
    ):
        raise pickle.UnpicklingError(f"refused _codecs.encode with encoding {encoding!r}")
    return obj.encode(encoding, errors)


def _allowed() -> dict[tuple[str, str], Callable[..., Any]]:
    from numpy._core import multiarray  # numpy >= 2

    allowed: dict[tuple[str, str], Callable[..., Any]] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _safe_codecs_encode,
    }
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = multiarray._reconstruct
        allowed[(mod, "scalar")] = multiarray.scalar
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that admits only what rebuilding numpy arrays needs."""

    def __init__(self, fh: io.BufferedIOBase) -> None:
        super().__init__(fh)
        self._allowed = _allowed()

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise InputError(f"refused to unpickle {module}.{name}: only numpy arrays are allowed") from None

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102
        raise InputError("refused to unpickle a persistent id: only numpy arrays are allowed")


def _read_pickled_npy(path: Path) -> np.ndarray:
    """Read an object-dtype ``.npy`` file with the restricted unpickler."""
    try:
        with open(path, "rb") as fh:
            version = npformat.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = npformat.read_array_header_2_0(fh)
            else:
                raise InputError(f"unsupported .npy version {version}", source=path)
            if not dtype.hasobject:
                count = int(np.prod(shape)) if shape else 1
                arr = np.fromfile(fh, dtype=dtype, count=count)
                if arr.size != count:
                    raise InputError(f"truncated file: {arr.size} of {count} values", source=path)
                return arr.reshape(shape, order="F" if fortran else "C")
            try:
                arr = _NumpyOnlyUnpickler(fh).load()
            except InputError as err:
                raise InputError(err.problem, source=path) from None
            except RecursionError:
                raise InputError("malformed pickle payload (nested too deeply)", source=path) from None
            except Exception as err:  # any unpickling failure of a malformed file
                raise InputError(f"malformed pickle payload ({type(err).__name__}: {err})", source=path) from None
    except InputError:
        raise
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    except ValueError as err:  # bad magic or header
        raise InputError(f"not a .npy file ({err})", source=path) from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"payload is a {type(arr).__name__}, not an array", source=path)
    if arr.shape != tuple(shape):
        raise InputError(f"payload has shape {arr.shape}, header says {tuple(shape)}", source=path)
    return arr


def _load_npy(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError("missing file", source=path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise InputError(f"cannot read .npy file ({err})", source=path) from None


def _folder(path: Path) -> Path:
    if (path / "XRD.npy").exists():
        return path
    if (path / "drnets" / "XRD.npy").exists():
        return path / "drnets"
    raise InputError("not a DRNets folder (no XRD.npy here or in drnets/)", source=path)


def _elements_from_instance(folder: Path, m: int) -> list[str] | None:
    """The Elements= line of ``../instance.txt``, when there is one naming M elements."""
    inst = folder.parent / "instance.txt"
    if not inst.is_file():
        return None
    try:
        with open(inst, encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.strip().partition("=")
                if key.strip() == "Elements":
                    names = [v.strip() for v in value.split(",") if v.strip()]
                    return names if len(names) == m else None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _label(name: str) -> str:
    s = _LABEL.sub("", str(name).strip(), count=1)
    return s[:-4] if s.endswith(".txt") else s


def read_drnets(path: str | os.PathLike[str], *, elements: list[str] | tuple[str, ...] | None = None) -> Dataset:
    """Read a DRNets npy folder.

    Parameters
    ----------
    path : path-like
        The folder holding ``XRD.npy``, or its parent holding ``drnets/``.
    elements : sequence of str, optional
        The M system elements (not stored in the folder). Default: the ``Elements=`` line
        of ``instance.txt`` beside the npy folder, else ``E1 .. EM``.

    Returns
    -------
    Dataset
        The library, the phases (label = ``bases_name`` without its ``i+`` prefix and
        ``.txt``; formula = label up to the first ``_``), ``sample_indicator`` as the mask
        and ``degree_of_freedom`` as ``max_phases``.

    Raises
    ------
    InputError
        On a missing or malformed file, inconsistent shapes, or a pickle payload that holds
        anything but numpy arrays.
    """
    folder = _folder(Path(path))
    arrays = {k: _load_npy(folder / f"{k}.npy") for k in _FILES if k != "sticks_lib"}
    sticks = _read_pickled_npy(folder / "sticks_lib.npy") if (folder / "sticks_lib.npy").exists() else None
    if sticks is None:
        raise InputError("missing file", source=folder / "sticks_lib.npy")
    xrd, comp = arrays["XRD"], arrays["composition"]
    if comp.ndim != 2:
        raise InputError(f"composition has shape {comp.shape}, expected (N, M)", source=folder / "composition.npy")
    n, m = comp.shape
    if elements is not None:
        elements = [str(e) for e in elements]
        if len(elements) != m:
            raise InputError(
                f"{len(elements)} elements given for {m} composition columns", source=folder, where="elements"
            )
    else:
        elements = _elements_from_instance(folder, m) or [f"E{k + 1}" for k in range(m)]
    src = str(folder)

    def fix(err: InputError, name: str) -> InputError:
        return InputError(err.problem, source=folder / f"{name}.npy", where=err.where)

    try:
        library = Library(tuple(elements), comp, arrays["Q"], xrd, source=src)
    except InputError as err:
        name = {"Q": "Q", "patterns": "XRD", "compositions": "composition"}.get(err.where or "", "XRD")
        raise fix(err, name) from None

    names = np.asarray(arrays["bases_name"]).ravel()
    if names.dtype.kind not in "US":
        raise InputError(f"expected strings, got dtype {names.dtype}", source=folder / "bases_name.npy")
    p = names.size
    if sticks.ndim != 1 or sticks.size != p:
        raise InputError(f"{sticks.size} stick arrays for {p} phase names", source=folder / "sticks_lib.npy")
    phases = []
    for i, (name, st) in enumerate(zip(names, sticks)):
        label = _label(name.decode() if isinstance(name, bytes) else name)
        st = np.asarray(st)
        if st.dtype.kind not in "fiu" or st.ndim != 2 or st.shape[1] < 2:
            raise InputError(
                f"phase {i} sticks have shape {st.shape} and dtype {st.dtype}, expected (K, 2) numbers",
                source=folder / "sticks_lib.npy",
                where=f"phase {label!r}",
            )
        try:
            phases.append(Phase(label, label.split("_", 1)[0], st[:, 0], st[:, 1]))
        except InputError as err:
            raise InputError(err.problem, source=folder / "sticks_lib.npy", where=err.where) from None
    try:
        plib = PhaseLibrary(phases, tuple(elements), source=src)
    except InputError as err:
        raise InputError(err.problem, source=folder / "bases_name.npy", where=err.where) from None
    bases_comp = arrays["bases_comp"]
    if bases_comp.shape != (p, m):
        raise InputError(f"shape {bases_comp.shape}, expected ({p}, {m})", source=folder / "bases_comp.npy")

    mask = max_phases = None
    if (folder / "sample_indicator.npy").exists():
        mask = _load_npy(folder / "sample_indicator.npy")
        if mask.shape != (n, p) or mask.dtype.kind not in "biuf" or not np.all(np.isfinite(mask)):
            raise InputError(
                f"shape {mask.shape} dtype {mask.dtype}, expected ({n}, {p}) numbers",
                source=folder / "sample_indicator.npy",
            )
        mask = mask != 0
    if (folder / "degree_of_freedom.npy").exists():
        max_phases = _load_npy(folder / "degree_of_freedom.npy")
        if max_phases.dtype.kind not in "biuf":
            raise InputError(f"dtype {max_phases.dtype} is not numeric", source=folder / "degree_of_freedom.npy")
        max_phases = max_phases.ravel()
    if (folder / "edges.npy").exists():
        edges = _load_npy(folder / "edges.npy")
        if edges.shape != (n, n):
            raise InputError(f"shape {edges.shape}, expected ({n}, {n})", source=folder / "edges.npy")
    try:
        return Dataset(library, plib, mask, max_phases)
    except InputError as err:
        name = "degree_of_freedom" if err.where == "max_phases" else "sample_indicator"
        raise fix(err, name) from None


def write_drnets(dataset: Dataset, folder: str | os.PathLike[str]) -> list[Path]:
    """Write a dataset as a DRNets npy folder, with DRNets' own dtypes.

    ``Q``, ``XRD`` and the sticks are written as float32 (as DRNets stores them), the
    rest as float64. Without phases only ``Q``, ``XRD``, ``composition``,
    ``degree_of_freedom`` and ``edges`` are written. The mask defaults to the element
    rule and ``degree_of_freedom`` to the Gibbs limits. Each file is written atomically.

    Parameters
    ----------
    dataset : Dataset
        What to write.
    folder : path-like
        The output folder (created when missing).

    Returns
    -------
    list of Path
        The files written.
    """
    from ..structure import allowed_mask, composition_graph, gibbs_limits

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lib, ph = dataset.library, dataset.phases
    out: dict[str, np.ndarray] = {
        "Q": lib.q.astype(np.float32),
        "XRD": lib.patterns.astype(np.float32),
        "composition": lib.compositions.astype(np.float64),
    }
    limits = dataset.max_phases if dataset.max_phases is not None else gibbs_limits(lib.compositions)
    out["degree_of_freedom"] = np.asarray(limits, dtype=np.float64)
    adj = np.zeros((lib.n_points, lib.n_points))
    edges = composition_graph(lib.compositions)
    if len(edges):
        adj[edges[:, 0], edges[:, 1]] = adj[edges[:, 1], edges[:, 0]] = 1.0
    out["edges"] = adj
    sticks = None
    if ph is not None:
        out["bases_name"] = np.array([f"{i}+{p.label}.txt" for i, p in enumerate(ph)])
        out["bases_comp"] = ph.compositions.astype(np.float64)
        mask = dataset.mask if dataset.mask is not None else allowed_mask(lib, ph)
        out["sample_indicator"] = np.asarray(mask, dtype=np.float64)
        sticks = np.empty(len(ph), dtype=object)
        for i, p in enumerate(ph):
            sticks[i] = np.stack([p.q, p.intensity], axis=1).astype(np.float32)
    written = []
    for name, arr in out.items():
        written.append(folder / f"{name}.npy")
        with atomic_path(folder / f"{name}.npy") as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
    if sticks is not None:
        with atomic_path(folder / "sticks_lib.npy") as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, sticks, allow_pickle=True)
        written.append(folder / "sticks_lib.npy")
    return written
