"""The native HDF5 file: library, phases, mask, limits and solution in one place.

Layout (format version 1)::

    /                 attrs: format="drnets", version=1
    /library          attrs: elements, source[, wavelength (JSON: kalpha1, kalpha2, ratio, anode),
                      independent (True: samples of unknown composition)]; datasets compositions, q, patterns
    /library/metadata datasets m0, m1, ... each with attrs name (the key) and kind
    /phases           attrs: elements, source; groups p00000, p00001, ... in order, each
                      with attrs label, formula[, space_group, cell, role="substrate"]
                      and datasets q, intensity[, hkl]
    /mask, /max_phases
    /solution         attrs: audit, metadata (JSON); datasets labels, fractions, shifts,
                      amplitudes, widths[, reconstruction, residuals, max_phases, mask, edges,
                      probabilities]
    /solution/alternatives  datasets sets (N, R, K; -1 pads), probability (N, R), chosen (N,)
    /solution/unexplained   attrs: candidates (JSON); datasets flag, score, peaks (M, 3)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import (
    Alternatives,
    Dataset,
    InputError,
    Library,
    Phase,
    PhaseLibrary,
    Solution,
    Unexplained,
    Wavelength,
)
from ._atomic import atomic_path

# What h5py and the HDF5 library raise on a damaged or foreign file (RuntimeError: a corrupt B-tree).
_DAMAGED = (KeyError, ValueError, TypeError, OSError, RuntimeError, AttributeError, IndexError, OverflowError)

FORMAT = "drnets"
VERSION = 1
_SOLUTION_OPTIONAL = (
    "width_scale",
    "reconstruction",
    "background",
    "residuals",
    "evidence",
    "max_phases",
    "mask",
    "edges",
    "probabilities",
)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (Path, set, tuple)):
        return str(obj) if isinstance(obj, Path) else list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} as JSON")


def _str_array(values) -> np.ndarray:
    import h5py

    return np.array([str(v) for v in values], dtype=h5py.string_dtype())


def _write_meta(group, values: np.ndarray, name: str, key: str) -> None:
    import h5py

    v = np.asarray(values)
    if v.dtype.kind == "U":
        ds = group.create_dataset(name, data=v.astype(object), dtype=h5py.string_dtype())
    elif v.dtype.kind == "O":
        ds = group.create_dataset(
            name, data=np.array([str(s) for s in v.ravel()], dtype=object).reshape(v.shape), dtype=h5py.string_dtype()
        )
    else:
        ds = group.create_dataset(name, data=v)
    ds.attrs["name"] = key
    ds.attrs["kind"] = v.dtype.kind


def write_hdf5(dataset: Dataset, path: str | os.PathLike[str]) -> None:
    """Write a dataset to the native HDF5 file (atomically).

    Parameters
    ----------
    dataset : Dataset
        The library and whatever travels with it (phases, mask, limits, solution).
    path : path-like
        The output file, conventionally ``.h5``.
    """
    import h5py

    lib = dataset.library
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = VERSION
            g = f.create_group("library")
            g.attrs["elements"] = _str_array(lib.elements)
            if lib.source is not None:
                g.attrs["source"] = str(lib.source)
            if lib.wavelength is not None:  # only where known: files without one stay as they were
                g.attrs["wavelength"] = json.dumps(lib.wavelength.to_dict())
            if dataset.independent:
                g.attrs["independent"] = True
            g.create_dataset("compositions", data=lib.compositions)
            g.create_dataset("q", data=lib.q)
            g.create_dataset("patterns", data=lib.patterns, compression="gzip", compression_opts=4, shuffle=True)
            meta = g.create_group("metadata")
            for i, (key, val) in enumerate(lib.metadata.items()):
                _write_meta(meta, val, f"m{i}", key)
            if dataset.phases is not None:
                ph = dataset.phases
                pg = f.create_group("phases")
                pg.attrs["elements"] = _str_array(ph.elements)
                if ph.source is not None:
                    pg.attrs["source"] = str(ph.source)
                width = max(5, len(str(len(ph))))
                for i, p in enumerate(ph):
                    one = pg.create_group(f"p{i:0{width}d}")
                    one.attrs["label"] = p.label
                    one.attrs["formula"] = p.formula
                    one.create_dataset("q", data=p.q)
                    one.create_dataset("intensity", data=p.intensity)
                    if p.hkl is not None:
                        one.create_dataset("hkl", data=np.asarray(p.hkl, dtype=np.int64))
                    if p.cell is not None:
                        one.attrs["cell"] = np.asarray(p.cell, dtype=float)
                    if p.space_group is not None:
                        one.attrs["space_group"] = str(p.space_group)
                    if p.label in ph.substrates:
                        one.attrs["role"] = "substrate"
            if dataset.mask is not None:
                f.create_dataset("mask", data=np.asarray(dataset.mask, dtype=bool))
            if dataset.max_phases is not None:
                f.create_dataset("max_phases", data=np.asarray(dataset.max_phases, dtype=np.int64))
            sol = dataset.solution
            if sol is not None:
                sg = f.create_group("solution")
                sg.create_dataset("labels", data=_str_array(sol.labels))
                for name in ("fractions", "shifts", "amplitudes", "widths"):
                    sg.create_dataset(name, data=getattr(sol, name))
                for name in _SOLUTION_OPTIONAL:
                    val = getattr(sol, name)
                    if val is not None:
                        sg.create_dataset(
                            name,
                            data=np.asarray(val),
                            compression="gzip" if name in ("reconstruction", "background") else None,
                        )
                sg.attrs["eta"] = float(sol.eta)
                if sol.alternatives is not None:
                    ag = sg.create_group("alternatives")
                    for name in ("sets", "probability", "chosen"):
                        ag.create_dataset(name, data=getattr(sol.alternatives, name))
                if sol.unexplained is not None:
                    ug = sg.create_group("unexplained")
                    for name in ("flag", "score", "peaks"):
                        ug.create_dataset(name, data=getattr(sol.unexplained, name))
                    ug.attrs["candidates"] = json.dumps(sol.unexplained.candidates, default=_json_default)
                sg.attrs["audit"] = json.dumps(sol.audit, default=_json_default)
                sg.attrs["metadata"] = json.dumps(sol.metadata, default=_json_default)


def _text(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _strings(v: Any) -> list[str]:
    return [_text(s) for s in np.asarray(v).ravel()]


def _read_meta(ds) -> np.ndarray:
    kind = _text(ds.attrs.get("kind", ""))
    if ds.dtype.kind == "O" or kind in ("U", "O"):
        vals = ds.asstr()[()]
        return np.array(vals.tolist(), dtype=str) if kind != "O" else np.asarray(vals, dtype=object)
    return ds[()]


def _group_sort_key(name: str) -> tuple[int, str]:
    digits = name[1:]
    return (int(digits), name) if digits.isdigit() else (1 << 62, name)


def read_hdf5(path: str | os.PathLike[str], *, substrates: Sequence[str] = ()) -> Dataset:
    """Read the native HDF5 file.

    Parameters
    ----------
    path : path-like
        A file written by :func:`write_hdf5`.
    substrates : sequence of str, optional
        Phase labels declared substrate, besides those the file declares.

    Returns
    -------
    Dataset
        With the library's ``source`` set to ``path``.

    Raises
    ------
    InputError
        When the file is not HDF5, not a drnets file, or misses or mangles a part.
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except _DAMAGED as err:
        raise InputError(
            f"not an HDF5 file ({str(err).splitlines()[0] if str(err) else 'unreadable'})", source=path
        ) from None
    where = "/"
    try:
        with f:
            if _text(f.attrs.get("format", "")) != FORMAT:
                raise InputError("not a drnets HDF5 file (no format='drnets' attribute)", source=path, where="/")
            version = int(f.attrs.get("version", 0))
            if version > VERSION:
                raise InputError(
                    f"file format version {version} is newer than this drnets reads ({VERSION})", source=path, where="/"
                )
            where = "/library"
            g = f["library"]
            elements = tuple(_strings(g.attrs["elements"]))
            metadata = {}
            if "metadata" in g:
                for name in sorted(g["metadata"], key=_group_sort_key):
                    where = f"/library/metadata/{name}"
                    ds = g["metadata"][name]
                    metadata[_text(ds.attrs.get("name", name))] = _read_meta(ds)
            where = "/library"
            lam = None
            if "wavelength" in g.attrs:
                where = "/library: wavelength"
                w = json.loads(_text(g.attrs["wavelength"]))
                lam = Wavelength(float(w["kalpha1"]), w.get("kalpha2"), float(w.get("ratio", 0.0)), w.get("anode"))
                where = "/library"
            independent = bool(g.attrs.get("independent", False))
            library = Library(
                elements,
                g["compositions"][()],
                g["q"][()],
                g["patterns"][()],
                metadata=metadata,
                source=str(path),
                wavelength=lam,
            )
            phases = None
            if "phases" in f:
                pg = f["phases"]
                plist, declared = [], list(substrates)
                for name in sorted(pg, key=_group_sort_key):
                    where = f"/phases/{name}"
                    one = pg[name]
                    cell = one.attrs.get("cell")
                    sgsym = one.attrs.get("space_group")
                    plist.append(
                        Phase(
                            label=_text(one.attrs["label"]),
                            formula=_text(one.attrs["formula"]),
                            q=one["q"][()],
                            intensity=one["intensity"][()],
                            hkl=one["hkl"][()] if "hkl" in one else None,
                            cell=tuple(float(c) for c in cell) if cell is not None else None,
                            space_group=_text(sgsym) if sgsym is not None else None,
                        )
                    )
                    if _text(one.attrs.get("role", "phase")) == "substrate":
                        declared.append(plist[-1].label)
                where = "/phases"
                phases = PhaseLibrary(
                    plist, tuple(_strings(pg.attrs["elements"])), source=str(path), substrates=declared
                )
            where = "/mask"
            mask = f["mask"][()] if "mask" in f else None
            where = "/max_phases"
            max_phases = f["max_phases"][()] if "max_phases" in f else None
            solution = None
            if "solution" in f:
                where = "/solution"
                sg = f["solution"]
                kw = {name: sg[name][()] for name in ("fractions", "shifts", "amplitudes", "widths")}
                for name in _SOLUTION_OPTIONAL:
                    kw[name] = sg[name][()] if name in sg else None
                if "alternatives" in sg:
                    where = "/solution/alternatives"
                    ag = sg["alternatives"]
                    kw["alternatives"] = Alternatives(ag["sets"][()], ag["probability"][()], ag["chosen"][()])
                if "unexplained" in sg:
                    where = "/solution/unexplained"
                    ug = sg["unexplained"]
                    kw["unexplained"] = Unexplained(
                        ug["flag"][()],
                        ug["score"][()],
                        ug["peaks"][()],
                        json.loads(_text(ug.attrs.get("candidates", "[]"))),
                    )
                where = "/solution"
                solution = Solution(
                    labels=_strings(sg["labels"][()]),
                    eta=float(sg.attrs.get("eta", 0.0)),
                    audit=json.loads(_text(sg.attrs.get("audit", "{}"))),
                    metadata=json.loads(_text(sg.attrs.get("metadata", "{}"))),
                    **kw,
                )
            where = "/"
            return Dataset(library, phases, mask, max_phases, solution, independent=independent)
    except InputError as err:
        raise InputError(err.problem, source=path, where=err.where or where) from None
    except _DAMAGED as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"malformed drnets file ({msg})", source=path, where=where) from None
