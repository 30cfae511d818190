"""A folder of 1-D pattern files, with or without a compositions CSV; and text-column pattern files.

Every file is read by its format's backend (:func:`drnets.io._pattern.read_pattern`); this
module turns the patterns into one library (x units to Q, one grid) and reads the
text-column format itself (``.xy``, ``.xye``, ``.chi``, ``.csv``, ``.dat``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from ..core import InputError, Library, Wavelength, check_elements, parse_wavelength
from ._atomic import atomic_text
from ._formats import PATTERN_FORMATS
from ._pattern import Pattern, checked_pattern, read_pattern
from ._text import parse_float, read_text, refuse_cut, unended_line

#: Suffixes of the files a pattern folder's reader takes (every pattern format).
PATTERN_SUFFIXES = tuple(PATTERN_FORMATS)
_UNITS = ("auto", "q_nm", "q_A", "twotheta")
_SPLIT = re.compile(r"[\s,;]+")
_HINTS = (
    ("twotheta", re.compile(r"2\s*-?\s*theta|2θ|two[\s_-]?theta|\btth\b|degree")),
    ("q_A", re.compile(r"(?<![a-z])(a|å|ang\w*)\s*(\^\s*\(?\s*-\s*1|-1|⁻¹)|1\s*/\s*(a|å|ang\w*)\b")),
    ("q_nm", re.compile(r"nm\s*(\^\s*\(?\s*-\s*1|-1|⁻¹)|1\s*/\s*nm\b")),
)
# A header line stating the wavelength in Å: "wavelength = 1.5406", "lambda: 0.7093 A".
_WAVELENGTH_HINT = re.compile(
    r"(?:wave\s*length|lambda|λ)\s*(?:\(\s*(?:a|å|angstroms?)\s*\))?\s*[=:]?\s*([0-9]*\.?[0-9]+)"
)


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def read_columns(path: str | os.PathLike[str]) -> Pattern:
    """A text-column pattern file: x, intensity[, error] per row; ``#``, ``!`` or ``//`` comment lines and a
    few header lines before the data are allowed.

    The header text tells the x unit where it names one (``2theta``, ``A^-1``, ``nm^-1``)
    and the wavelength where it states one in Å (``wavelength = 1.5406``).

    Raises
    ------
    InputError
        Naming the line of a non-numeric row, a wrong column count, a non-finite value, a
        repeated or out-of-order x, or a number cut off on an unended last line.
    """
    path = Path(path)
    x, y, header = _read_columns(path)
    return checked_pattern(x, y, unit=_hint(header), wavelength=_wavelength_hint(header, path), source=path)


def _wavelength_hint(header: str, path: Path) -> Wavelength | None:
    m = _WAVELENGTH_HINT.search(header.lower())
    if m is None:
        return None
    try:
        return parse_wavelength(float(m.group(1)))
    except (InputError, ValueError):
        return None  # a header number that is no wavelength (e.g. 0) states nothing


def _read_columns(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Two numeric columns (a third, the error, is ignored) and the header text."""
    text = read_text(path)
    header: list[str] = []
    rows: list[tuple[float, float]] = []
    lines: list[int] = []  # the line number of each row
    shortest: list[int] = []  # per column, the fewest characters a number above had
    unended = unended_line(text)
    ncols = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("#", "!", "//")):
            header.append(line)
            continue
        fields = [f for f in _SPLIT.split(line) if f]
        try:
            vals = [parse_float(f) for f in fields]
        except ValueError:
            vals = None
        if not rows and (vals is None or len(vals) < 2) and len(header) < 8:
            header.append(line)  # a header line (column names, or .chi's title/labels/count)
            continue
        where = f"line {lineno}"
        if vals is None:
            raise InputError(f"non-numeric row {line[:40]!r}", source=path, where=where)
        if len(vals) not in (2, 3):
            raise InputError(f"{len(vals)} columns, expected 2 or 3 (x, intensity[, error])", source=path, where=where)
        if ncols is not None and len(vals) != ncols:
            raise InputError(f"{len(vals)} columns here but {ncols} above", source=path, where=where)
        ncols = len(vals)
        if not all(np.isfinite(vals[:2])):
            raise InputError("non-finite value", source=path, where=where)
        if lineno == unended and len(rows) >= 2:
            for f, n in zip(fields, shortest):
                refuse_cut(f, n, source=path, where=where)
        shortest = [min(a, len(f)) for a, f in zip(shortest, fields)] if shortest else [len(f) for f in fields]
        rows.append((vals[0], vals[1]))
        lines.append(lineno)
    if len(rows) < 2:
        raise InputError(f"{len(rows)} data rows, need at least 2", source=path)
    data = np.array(rows, dtype=float)
    step = np.sign(np.diff(data[:, 0]))
    if np.any(step == 0):
        i = 1 + int(np.argmax(step == 0))
        raise InputError(f"repeated x value {data[i, 0]:g}", source=path, where=f"line {lines[i]}")
    if np.any(step != step[0]):  # files run up or down in x, never both ways: rows were lost or moved
        raise InputError(
            "x values are out of order", source=path, where=f"line {lines[1 + int(np.argmax(step != step[0]))]}"
        )
    return data[:, 0], data[:, 1], "\n".join(header)


def _hint(header: str) -> str | None:
    t = header.lower()
    found = [unit for unit, rx in _HINTS if rx.search(t)]
    return found[0] if len(found) == 1 else None


def _to_q(x: np.ndarray, unit: str, wavelength: float | None) -> np.ndarray:
    if unit == "q_nm":
        return x.copy()
    if unit == "q_A":
        return x * 10.0
    theta = np.deg2rad(x) / 2.0
    return 4.0 * np.pi * np.sin(theta) / float(wavelength) * 10.0  # Å⁻¹ -> nm⁻¹


def _read_compositions(path: Path) -> tuple[list[str], dict[str, tuple[np.ndarray, int]]]:
    try:
        lines = [
            (i, r)
            for i, r in enumerate(csv.reader(io.StringIO(read_text(path))), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")
        ]
    except csv.Error as err:
        raise InputError(f"not a CSV file ({err})", source=path) from None
    if not lines:
        raise InputError("empty compositions file", source=path)
    lineno, header = lines[0]
    header = [h.strip() for h in header]
    if len(header) < 2 or header[0].lower() != "sample":
        raise InputError("expected a header 'sample,<El1>,<El2>,...'", source=path, where=f"line {lineno}")
    elements = header[1:]
    if any(not e for e in elements) or len(set(elements)) != len(elements):
        raise InputError(f"empty or duplicate element column in {elements}", source=path, where=f"line {lineno}")
    check_elements(elements, source=path, where=f"line {lineno}")
    out: dict[str, tuple[np.ndarray, int]] = {}
    for lineno, row in lines[1:]:
        where = f"line {lineno}"
        if len(row) != len(header):
            raise InputError(f"{len(row)} fields, expected {len(header)}", source=path, where=where)
        name = row[0].strip()
        if not name:
            raise InputError("empty sample name", source=path, where=where)
        if name in out:
            raise InputError(f"sample {name!r} repeated (first on line {out[name][1]})", source=path, where=where)
        try:
            comp = np.array([parse_float(v) for v in row[1:]])
        except ValueError:
            raise InputError("non-numeric composition", source=path, where=where) from None
        if not np.all(np.isfinite(comp)) or np.any(comp < 0):
            raise InputError("compositions must be finite and non-negative", source=path, where=where)
        if abs(comp.sum() - 1.0) > 0.02:
            raise InputError(f"composition sums to {comp.sum():.4g}, not 1", source=path, where=where)
        out[name] = (comp, lineno)
    if not out:
        raise InputError("no samples listed", source=path)
    return elements, out


def read_xy_folder(
    path: str | os.PathLike[str],
    *,
    compositions: str | os.PathLike[str] | None = None,
    x_unit: str = "auto",
    wavelength: float | str | Wavelength | None = None,
    q_grid: np.ndarray | None = None,
    resample: bool = False,
    elements: tuple[str, ...] | list[str] | None = None,
) -> Library:
    """Read a folder of 1-D pattern files, with their compositions where there are any.

    Parameters
    ----------
    path : path-like
        A single pattern file (one point), or a folder of pattern files of any supported
        format (:data:`PATTERN_SUFFIXES`: text columns ``.xy/.xye/.chi/.csv/.dat``,
        PANalytical ``.xrdml``, Bruker ``.brml`` and ``.raw``, Rigaku ``.ras`` and
        ``.rasx``, GSAS ``.fxye/.gsa/.gss``, NeXus ``.nxs/.h5``). The sample name is the file stem.
    compositions : path-like, optional
        CSV ``sample,<El1>,<El2>,...``, one row per sample (fractions summing to 1).
        Default: ``compositions.csv`` in the folder; without one the patterns are
        independent samples of unknown composition (see ``elements``).
    x_unit : {'auto', 'q_nm', 'q_A', 'twotheta'}
        The x unit of files that do not state theirs (raw diffractometer files state 2θ):
        Q in nm⁻¹, Q in Å⁻¹, or 2θ in degrees. ``'auto'`` reads it from text files' header
        text (e.g. ``2theta``, ``A^-1``, ``nm^-1``); without a hint it takes 2θ when a
        wavelength is given, Å⁻¹ when every x is at most 12, and nm⁻¹ otherwise. A unit
        that contradicts the one a file states is refused.
    wavelength : float, str or Wavelength, optional
        The radiation, for files that do not state theirs: a number in Å or an anode name
        (``'Cu'``: its Kα1/Kα2 doublet). 2θ is converted to Q with Kα1
        (Q = 4π sin θ / λ). A file that states another wavelength is refused.
    q_grid : array-like, optional
        A Q grid in nm⁻¹ (ascending, inside every pattern's range) to interpolate every
        pattern onto.
    resample : bool
        Without a ``q_grid``, patterns must share one grid (a file with another range or
        row count is refused: it is often a cut-off file). True interpolates them onto the
        range they all share, at the finest median step among them.
    elements : sequence of str, optional
        Without compositions: the system's elements (each point gets the same composition,
        every element present). Default ``('E1',)``, a placeholder.

    Returns
    -------
    Library
        Points in the order of the compositions CSV (else of the file names, numbers
        sorted by value); metadata ``sample`` and ``file``, ``resampled`` (True for
        the points interpolated onto another grid) when any was, ``x_unit_guessed`` (the Q
        unit taken from the x range, '' where a file or ``x_unit`` said it) when any was; ``wavelength`` where the
        files state one or one is given.

    Raises
    ------
    InputError
        On a malformed or cut-off file, a file without a composition or a composition
        without a file, 2θ without a wavelength, files at different wavelengths, patterns
        on different grids (unless resampled), or patterns that share no Q range.
    """
    folder = Path(path)
    single = folder.is_file() and folder.suffix.lower() in PATTERN_SUFFIXES
    if not (single or folder.is_dir()):
        raise InputError("not a folder", source=folder)
    if x_unit not in _UNITS:
        raise InputError(f"x_unit must be one of {', '.join(_UNITS)}, got {x_unit!r}", source=folder, where="x_unit")
    given = None
    if wavelength is not None:
        try:
            given = parse_wavelength(wavelength)
        except InputError as err:
            raise InputError(err.problem, source=folder, where="wavelength") from None
    if compositions is not None:
        comp_path: Path | None = Path(compositions)
        if not comp_path.is_file():
            raise InputError("no such compositions CSV (sample,<El1>,<El2>,...)", source=comp_path)
    else:
        comp_path = None if single or not (folder / "compositions.csv").is_file() else folder / "compositions.csv"
    files = (
        [folder]
        if single
        else sorted(
            (
                f
                for f in folder.iterdir()
                if f.is_file()
                and f.suffix.lower() in PATTERN_SUFFIXES
                and not f.name.startswith(".")
                and (comp_path is None or f.resolve() != comp_path.resolve())
            ),
            key=lambda f: _natural(f.name),
        )
    )
    if not files:
        raise InputError(f"no pattern files ({', '.join(PATTERN_SUFFIXES)})", source=folder)
    by_stem: dict[str, Path] = {}
    for f in files:
        if f.stem in by_stem:
            raise InputError(f"two files for sample {f.stem!r}: {by_stem[f.stem].name} and {f.name}", source=folder)
        by_stem[f.stem] = f
    if comp_path is not None:
        elements, comps = _read_compositions(comp_path)
        for stem, f in by_stem.items():
            if stem not in comps:
                raise InputError(f"no composition for sample {stem!r} in {comp_path.name}", source=f)
        for stem, (_, lineno) in comps.items():
            if stem not in by_stem:
                raise InputError(
                    f"sample {stem!r} has no pattern file in {folder}", source=comp_path, where=f"line {lineno}"
                )
        order = list(comps)
    else:
        elements = list(elements) if elements else ["E1"]
        check_elements(elements, source=folder, where="elements")
        order = list(by_stem)
    raw = {s: read_pattern(by_stem[s]) for s in order}
    units = _units(raw, by_stem, x_unit, given, folder)
    guessed = [x_unit == "auto" and raw[s].unit is None and units[s] != "twotheta" for s in order]
    lam = _wavelength(raw, units, by_stem, given, folder)

    qs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s, pat in raw.items():
        f, x, y, unit = by_stem[s], pat.x, pat.y, units[s]
        if unit == "twotheta" and (np.any(x <= 0) or np.any(x >= 180)):
            raise InputError("2θ values must lie in (0, 180) degrees", source=f)
        with np.errstate(over="ignore"):
            q = _to_q(x, unit, None if lam is None else lam.kalpha1)
        if not np.all(np.isfinite(q)):
            raise InputError(f"x value {float(x[~np.isfinite(q)][0]):g} is too large to convert to Q", source=f)
        idx = np.argsort(q, kind="stable")
        q, y = q[idx], y[idx]
        if q[0] < 0:
            raise InputError(f"negative Q {q[0]:g} nm⁻¹ (from x = {x[idx][0]:g})", source=f)
        if np.any(np.diff(q) <= 0):
            raise InputError(f"repeated x value {x[idx][int(np.argmax(np.diff(q) <= 0))]:g}", source=f)
        if np.any(y < 0):
            raise InputError(f"negative intensity {float(y.min()):g}", source=f)
        qs[s] = (q, y)

    if q_grid is not None:
        grid = np.asarray(q_grid, dtype=float).ravel()
        if grid.size < 2 or not np.all(np.isfinite(grid)) or np.any(np.diff(grid) <= 0):
            raise InputError(
                "q_grid must hold at least 2 finite, strictly ascending values", source=folder, where="q_grid"
            )
        for s, (q, _) in qs.items():
            if grid[0] < q[0] - 1e-9 or grid[-1] > q[-1] + 1e-9:
                raise InputError(
                    f"q_grid {grid[0]:g}-{grid[-1]:g} nm⁻¹ reaches outside this pattern's {q[0]:g}-{q[-1]:g}",
                    source=by_stem[s],
                    where="q_grid",
                )
    elif resample:
        grid = _shared_grid(qs, folder)
    else:
        grid = _one_grid(qs, by_stem)
    resampled = np.array([not _same_grid(q, grid) for q, _ in qs.values()])
    patterns = np.stack([np.interp(grid, q, y) if r else y for (q, y), r in zip(qs.values(), resampled)])
    if comp_path is not None:
        comp = np.stack([comps[s][0] for s in order])
    else:  # unknown: every element present alike (the element rule then allows every phase)
        comp = np.full((len(order), len(elements)), 1.0 / len(elements))
    metadata = {"sample": np.array(order, dtype=str), "file": np.array([by_stem[s].name for s in order], dtype=str)}
    if resampled.any():
        metadata["resampled"] = resampled
    if any(guessed):  # told by the range alone: said in a note (Dataset.warnings)
        metadata["x_unit_guessed"] = np.array([units[s] if g else "" for s, g in zip(order, guessed)], dtype=str)
    return Library(tuple(elements), comp, grid, patterns, metadata=metadata, source=str(folder), wavelength=lam)


def has_compositions(path: str | os.PathLike[str], compositions: str | os.PathLike[str] | None = None) -> bool:
    """Whether a pattern folder's points have compositions (a CSV given, or ``compositions.csv`` in the folder)."""
    return compositions is not None or (Path(path).is_dir() and (Path(path) / "compositions.csv").is_file())


def _units(
    raw: dict[str, Pattern], by_stem: dict[str, Path], x_unit: str, given: Wavelength | None, folder: Path
) -> dict[str, str]:
    """Each file's x unit: the one it states, else ``x_unit``, else the folder's guess."""
    stated = {s: p.unit for s, p in raw.items() if p.unit is not None}
    if x_unit != "auto":
        for s, u in stated.items():
            if u != x_unit:
                raise InputError(f"the file states x in {u}, x_unit says {x_unit}", source=by_stem[s], where="x_unit")
        return dict.fromkeys(raw, x_unit)
    found = set(stated.values())
    if len(found) > 1:
        raise InputError(f"files disagree on the x unit ({', '.join(sorted(found))}); pass x_unit", source=folder)
    if found:
        guess = found.pop()
    elif given is not None or any(p.wavelength is not None for p in raw.values()):
        guess = "twotheta"
    else:
        guess = "q_A" if max(float(np.max(p.x)) for p in raw.values()) <= 12 else "q_nm"
    return {s: stated.get(s, guess) for s in raw}


def _wavelength(
    raw: dict[str, Pattern], units: dict[str, str], by_stem: dict[str, Path], given: Wavelength | None, folder: Path
) -> Wavelength | None:
    """The one wavelength of the folder: each file's own, else the given one; refused where they disagree."""
    lam: Wavelength | None = None
    lam_file = ""
    for s, p in raw.items():
        own = p.wavelength
        if own is not None and given is not None and not own.same_as(given):
            raise InputError(
                f"the file states {own.describe()}, wavelength says {given.describe()}: drop wavelength to use the "
                "file's, or fix the file",
                source=by_stem[s],
                where="wavelength",
            )
        this = own or given
        if this is None:
            if units[s] == "twotheta":
                raise InputError(
                    "x is 2θ (degrees) and the file states no wavelength: pass wavelength (a number in Å, or an "
                    "anode: Cu, Co, Mo, Cr, Fe or Ag for its Kα1/Kα2 doublet)",
                    source=by_stem[s],
                    where="wavelength",
                )
            continue
        if lam is None:
            lam, lam_file = this, by_stem[s].name
        elif not lam.same_as(this):
            raise InputError(
                f"measured with {this.describe()}, but {lam_file} with {lam.describe()}: read files of one "
                "wavelength together",
                source=by_stem[s],
            )
    return lam


def _same_grid(q: np.ndarray, grid: np.ndarray) -> bool:
    """The same grid to within a thousandth of its smallest step."""
    return q.size == grid.size and bool(np.all(np.abs(q - grid) <= 1e-3 * float(np.min(np.diff(grid)))))


def _describe(q: np.ndarray) -> str:
    return f"{q.size} points, {q[0]:g}-{q[-1]:g} nm⁻¹"


def _one_grid(qs: dict[str, tuple[np.ndarray, np.ndarray]], by_stem: dict[str, Path]) -> np.ndarray:
    """The grid every pattern shares; the first file off the most common grid is refused."""
    keys = {s: (q.size, round(float(q[0]), 4), round(float(q[-1]), 4)) for s, (q, _) in qs.items()}
    common = Counter(keys.values()).most_common(1)[0][0]
    ref = next(s for s, k in keys.items() if k == common)
    grid = qs[ref][0]
    for s, (q, _) in qs.items():
        if not _same_grid(q, grid):
            raise InputError(
                f"Q grid ({_describe(q)}) differs from the other files' ({_describe(grid)}, e.g. {by_stem[ref].name}): "
                "a short or cut-off file? Pass resample=True to interpolate all patterns onto the range they share",
                source=by_stem[s],
            )
    return grid


def _shared_grid(qs: dict[str, tuple[np.ndarray, np.ndarray]], folder: Path) -> np.ndarray:
    """The range all patterns share, at the finest median step among them."""
    lo = max(float(q[0]) for q, _ in qs.values())
    hi = min(float(q[-1]) for q, _ in qs.values())
    if hi <= lo:
        raise InputError(
            f"the patterns share no Q range (latest start {lo:g}, earliest end {hi:g} nm⁻¹)", source=folder
        )
    step = min(float(np.median(np.diff(q))) for q, _ in qs.values())
    npts = int(np.floor((hi - lo) / step * (1 + 1e-9))) + 1
    longest = max(q.size for q, _ in qs.values())
    if npts > 4 * longest:  # a file with a few very close x values: its median step is no grid step
        raise InputError(
            f"resampling at the finest step {step:g} nm⁻¹ would make {npts} points (the longest file has "
            f"{longest}): pass q_grid",
            source=folder,
        )
    grid = lo + step * np.arange(npts)
    grid = grid[grid <= hi + 1e-9 * max(1.0, abs(hi))]
    if grid.size < 2:
        raise InputError("the shared Q range holds fewer than 2 grid points", source=folder)
    return grid


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "_", s).lstrip(".") or "_"


def write_xy_folder(library: Library, folder: str | os.PathLike[str]) -> None:
    """Write a library as one ``<sample>.xy`` per point plus ``compositions.csv``.

    Sample names come from the ``sample`` metadata when it names every point uniquely,
    else ``p00000``, ``p00001``, ... Files hold Q in nm⁻¹ (stated in the header) and
    the intensity; each file is written atomically.

    Parameters
    ----------
    library : Library
        What to write.
    folder : path-like
        The output folder (created when missing).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = None
    if "sample" in library.metadata:
        cand = [_safe_name(str(s)) for s in library.metadata["sample"]]
        if len(set(cand)) == len(cand) and "compositions" not in cand:
            names = cand
    if names is None:
        names = [f"p{i:05d}" for i in range(library.n_points)]
    for name, row in zip(names, library.patterns):
        with atomic_text(folder / f"{name}.xy") as fh:
            fh.write("# Q (nm^-1)  intensity\n")
            for qv, iv in zip(library.q, row):
                fh.write(f"{qv:.10g} {iv:.10g}\n")
    with atomic_text(folder / "compositions.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["sample", *library.elements])
        for name, c in zip(names, library.compositions):
            w.writerow([name, *(f"{v:.10g}" for v in c)])
