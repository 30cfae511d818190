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
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from ..core import (
    Dataset,
    InputError,
    Library,
    Phase,
    PhaseLibrary,
    cation_fractions,
    check_elements,
    placeholder_elements,
)
from ._atomic import atomic_path
from ._text import read_text

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


def _read_npy(path: Path, *, objects: bool = False) -> np.ndarray:
    """Read a ``.npy`` file; an object array (``objects=True`` only) through the restricted unpickler.

    The header is checked against the file's size before anything is allocated, so that a
    damaged shape cannot ask for terabytes.
    """
    if not path.exists():
        raise InputError("missing file", source=path)
    try:
        with open(path, "rb") as fh:
            try:
                version = npformat.read_magic(fh)
                if version not in ((1, 0), (2, 0)):
                    raise InputError(f"unsupported .npy version {version}", source=path)
                read_header = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
                with warnings.catch_warnings():
                    warnings.simplefilter("error")  # a damaged header's SyntaxWarning is an error here, not a message
                    shape, fortran, dtype = read_header(fh)
            except InputError:
                raise
            except Exception as err:  # numpy's header parser raises many kinds on damaged bytes
                raise InputError(
                    f"not a .npy file ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})",
                    source=path,
                ) from None
            if dtype.hasobject:
                if not objects:
                    raise InputError("holds Python objects (a pickle), expected numbers or text", source=path)
                arr = _unpickle(fh, path)
            else:
                count = int(np.prod(shape, dtype=object)) if shape else 1
                left = os.fstat(fh.fileno()).st_size - fh.tell()
                if dtype.itemsize == 0:
                    raise InputError(f"dtype {dtype} holds nothing", source=path)
                if count * dtype.itemsize > left:
                    raise InputError(
                        f"truncated file: the header says {count} values, the file holds {left} bytes", source=path
                    )
                arr = np.fromfile(fh, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
                if arr.dtype.kind == "U" and not _valid_text(arr):
                    raise InputError("holds characters that are not Unicode (damaged text)", source=path)
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"payload is a {type(arr).__name__}, not an array", source=path)
    if arr.shape != tuple(shape):
        raise InputError(f"payload has shape {arr.shape}, header says {tuple(shape)}", source=path)
    return arr


def _valid_text(arr: np.ndarray) -> bool:
    """Every code point of a numpy text array is a Unicode scalar (no surrogate, none beyond U+10FFFF)."""
    codes = np.frombuffer(np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("=")).tobytes(), dtype=np.uint32)
    return not np.any((codes > 0x10FFFF) | ((codes >= 0xD800) & (codes <= 0xDFFF)))


def _unpickle(fh: io.BufferedIOBase, path: Path) -> Any:
    try:
        return _NumpyOnlyUnpickler(fh).load()
    except InputError as err:
        raise InputError(err.problem, source=path) from None
    except RecursionError:
        raise InputError("malformed pickle payload (nested too deeply)", source=path) from None
    except Exception as err:  # any unpickling failure of a malformed file
        raise InputError(f"malformed pickle payload ({type(err).__name__}: {err})", source=path) from None


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
        text = read_text(inst)
    except InputError:
        return None
    for lineno, line in enumerate(text.splitlines(), start=1):
        key, _, value = line.strip().partition("=")
        if key.strip() == "Elements":
            names = [v.strip() for v in value.split(",") if v.strip()]
            if len(names) != m:
                return None
            check_elements(names, source=inst, where=f"line {lineno} (Elements)")
            return names
    return None


def _strings_npy(path: Path, count: int) -> list[str]:
    """A 1-D array of ``count`` strings (drnets' own ``elements.npy`` and ``bases_formula.npy``)."""
    arr = np.asarray(_read_npy(path))
    if arr.dtype.kind not in "US" or arr.shape != (count,):
        raise InputError(f"shape {arr.shape} dtype {arr.dtype}, expected {count} strings", source=path)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in arr]


def _elements(folder: Path, m: int, given: list[str] | tuple[str, ...] | None) -> list[str]:
    if given is not None:
        elements = [str(e) for e in given]
        if len(elements) != m:
            raise InputError(
                f"{len(elements)} elements given for {m} composition columns", source=folder, where="elements"
            )
        check_elements(elements, source=folder, where="elements")
        return elements
    if (folder / "elements.npy").exists():
        elements = _strings_npy(folder / "elements.npy", m)
        check_elements(elements, source=folder / "elements.npy")
        return elements
    return _elements_from_instance(folder, m) or placeholder_elements(m)


def _declared_substrates(
    labels: list[str], formulas: list[str], bases_comp: np.ndarray, elements: list[str]
) -> list[str]:
    """Phases whose formula holds system elements but whose ``bases_comp`` row is zero: the folder
    says they bring none of the system's elements, i.e. they are substrates."""
    out = []
    for label, formula, row in zip(labels, formulas, bases_comp):
        if not np.any(row):
            try:
                fractions, _ = cation_fractions(formula, elements)
            except InputError:
                continue  # the phase library reports the formula
            if fractions.sum() > 0:
                out.append(label)
    return out


def _substrate_notes(declared: list[str]) -> list[str]:
    return [
        f"phase {label!r}: its bases_comp row is zero although its formula holds system elements: taken for a "
        "declared substrate, allowed at every point"
        for label in declared
    ]


def _label(name: str) -> str:
    s = _LABEL.sub("", str(name).strip(), count=1)
    return s[:-4] if s.endswith(".txt") else s


def read_drnets(
    path: str | os.PathLike[str], *, elements: list[str] | tuple[str, ...] | None = None, substrates: Sequence[str] = ()
) -> Dataset:
    """Read a DRNets npy folder.

    Parameters
    ----------
    path : path-like
        The folder holding ``XRD.npy``, or its parent holding ``drnets/``.
    elements : sequence of str, optional
        The M system elements. Default: drnets' own ``elements.npy`` in the folder, else
        the ``Elements=`` line of ``instance.txt`` beside the npy folder, else ``E1 .. EM``
        (a warning says so).
    substrates : sequence of str, optional
        Phase labels declared substrate; phases whose ``bases_comp`` row is zero although
        their formula holds system elements are declared too.

    Returns
    -------
    Dataset
        The library, the phases (label = ``bases_name`` without its ``i+`` prefix and
        ``.txt``; formula from drnets' own ``bases_formula.npy``, else the label up to the
        first ``_``), ``sample_indicator`` as the mask and ``degree_of_freedom`` as
        ``max_phases``.

    Raises
    ------
    InputError
        On a missing or malformed file, inconsistent shapes, or a pickle payload that holds
        anything but numpy arrays.
    """
    folder = _folder(Path(path))
    arrays = {k: _read_npy(folder / f"{k}.npy") for k in _FILES if k != "sticks_lib"}
    sticks = _read_npy(folder / "sticks_lib.npy", objects=True)
    xrd, comp = arrays["XRD"], arrays["composition"]
    if comp.ndim != 2:
        raise InputError(f"composition has shape {comp.shape}, expected (N, M)", source=folder / "composition.npy")
    n, m = comp.shape
    elements = _elements(folder, m, elements)
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
    bases_comp = arrays["bases_comp"]
    if bases_comp.shape != (p, m) or bases_comp.dtype.kind not in "biuf":
        raise InputError(
            f"shape {bases_comp.shape} dtype {bases_comp.dtype}, expected ({p}, {m}) numbers",
            source=folder / "bases_comp.npy",
        )
    labels = [_label(name.decode("utf-8", "replace") if isinstance(name, bytes) else name) for name in names]
    if (folder / "bases_formula.npy").exists():
        formulas, formula_file = _strings_npy(folder / "bases_formula.npy", p), "bases_formula.npy"
    else:
        formulas, formula_file = [label.split("_", 1)[0] for label in labels], "bases_name.npy"
    phases = []
    for i, (label, st) in enumerate(zip(labels, sticks)):
        st = np.asarray(st)
        if st.dtype.kind not in "fiu" or st.ndim != 2 or st.shape[1] < 2:
            raise InputError(
                f"phase {i} sticks have shape {st.shape} and dtype {st.dtype}, expected (K, 2) numbers",
                source=folder / "sticks_lib.npy",
                where=f"phase {label!r}",
            )
        try:
            phases.append(Phase(label, formulas[i], st[:, 0], st[:, 1]))
        except InputError as err:
            raise InputError(err.problem, source=folder / "sticks_lib.npy", where=err.where) from None
    by_zero_row = _declared_substrates(labels, formulas, bases_comp, elements)
    try:
        plib = PhaseLibrary(phases, tuple(elements), source=src, substrates=[*by_zero_row, *substrates])
        plib.warnings += _substrate_notes([s for s in by_zero_row if s not in substrates])
    except InputError as err:
        from_names = formula_file == "bases_name.npy" and (err.where or "").startswith("phase ")
        hint = " (without bases_formula.npy a formula is the phase name up to its first '_')" if from_names else ""
        raise InputError(err.problem + hint, source=folder / formula_file, where=err.where) from None

    mask = max_phases = None
    if (folder / "sample_indicator.npy").exists():
        mask = _read_npy(folder / "sample_indicator.npy")
        if mask.shape != (n, p) or mask.dtype.kind not in "biuf" or not np.all(np.isfinite(mask)):
            raise InputError(
                f"shape {mask.shape} dtype {mask.dtype}, expected ({n}, {p}) numbers",
                source=folder / "sample_indicator.npy",
            )
        mask = mask != 0
    if (folder / "degree_of_freedom.npy").exists():
        max_phases = _read_npy(folder / "degree_of_freedom.npy")
        if max_phases.dtype.kind not in "biuf":
            raise InputError(f"dtype {max_phases.dtype} is not numeric", source=folder / "degree_of_freedom.npy")
        max_phases = max_phases.ravel()
    if (folder / "edges.npy").exists():
        edges = _read_npy(folder / "edges.npy")
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
    ``degree_of_freedom``, ``edges`` and ``elements`` are written. The mask defaults to
    the element rule and ``degree_of_freedom`` to the Gibbs limits. Two files DRNets does
    not read keep what its layout cannot: ``elements.npy`` (the element names) and
    ``bases_formula.npy`` (each phase's formula). Declared substrates get a zero
    ``bases_comp`` row. Each file is written atomically.

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
    out["elements"] = np.array(lib.elements)  # drnets' own: DRNets keeps the names elsewhere
    if ph is not None:
        out["bases_name"] = np.array([f"{i}+{p.label}.txt" for i, p in enumerate(ph)])
        out["bases_formula"] = np.array([p.formula for p in ph])  # drnets' own: labels need not start with one
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
