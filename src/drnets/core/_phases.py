"""Candidate crystal phases and their stick patterns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._errors import InputError
from ._formula import cation_fractions, placeholder_elements


@dataclass(eq=False)
class Phase:
    """One candidate phase.

    Parameters
    ----------
    label : str
        Unique label (formula, card number, crystal system).
    formula : str
        Chemical formula.
    q : ndarray of shape (K,)
        Reflection positions in nm⁻¹.
    intensity : ndarray of shape (K,)
        Relative intensities (strongest = 1 after construction).
    hkl : ndarray of shape (K, 3), optional
        Miller indices of the reflections.
    cell : tuple of 6 float, optional
        Lattice parameters a, b, c (Å) and alpha, beta, gamma (degrees).
    space_group : str, optional
        Space-group symbol.
    cell_mass : float, optional
        Mass of the unit cell in g/mol (Z·M) of the cell whose structure factors gave the
        intensities (phases from CIFs): with ``cell`` and ``intensity_scale`` it gives weight
        fractions (:mod:`drnets.core._weights`).
    intensity_scale : float, optional
        The strongest reflection's absolute intensity before the sticks were scaled to 1
        (``|F|²`` times multiplicity and Lorentz-polarisation, in electrons² per cell).
    rir : float, optional
        Reference intensity ratio I/I(corundum) (a stick table's ``rir`` column): weight
        fractions without a structure.
    """

    label: str
    formula: str
    q: np.ndarray
    intensity: np.ndarray
    hkl: np.ndarray | None = None
    cell: tuple[float, ...] | None = None
    space_group: str | None = None
    cell_mass: float | None = None
    intensity_scale: float | None = None
    rir: float | None = None

    def __post_init__(self) -> None:
        q = np.asarray(self.q, dtype=float).ravel()
        inten = np.asarray(self.intensity, dtype=float).ravel()
        if q.size == 0:
            raise InputError("phase has no reflections", where=f"phase {self.label!r}")
        if q.shape != inten.shape:
            raise InputError("q and intensity differ in length", where=f"phase {self.label!r}")
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(inten))):
            raise InputError("non-finite stick value", where=f"phase {self.label!r}")
        if np.any(q <= 0):
            raise InputError("stick q must be positive", where=f"phase {self.label!r}")
        if np.any(inten < 0) or inten.max() <= 0:
            raise InputError("stick intensities must be non-negative and not all zero", where=f"phase {self.label!r}")
        order = np.argsort(q, kind="stable")
        self.q = q[order]
        self.intensity = inten[order] / inten.max()
        if self.hkl is not None:
            hkl = np.asarray(self.hkl, dtype=int)
            if hkl.shape != (q.size, 3):
                raise InputError(f"hkl has shape {hkl.shape}, expected ({q.size}, 3)", where=f"phase {self.label!r}")
            self.hkl = hkl[order]
        if self.cell is not None:
            self.cell = tuple(float(c) for c in self.cell)
        for name in ("cell_mass", "intensity_scale", "rir"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(float(v)) and float(v) > 0):
                raise InputError(f"{name} must be a positive number, got {v!r}", where=f"phase {self.label!r}")
            setattr(self, name, None if v is None else float(v))


@dataclass(eq=False)
class PhaseLibrary:
    """P candidate phases over a system's elements.

    Parameters
    ----------
    phases : list of Phase
        The candidates; labels must be unique.
    elements : tuple of str
        The system's elements; each phase's composition is its cation fractions over them.
    source : str, optional
        Where the phases were read from.
    substrates : sequence of str, optional
        Labels declared substrate (e.g. an FTO or sapphire substrate): allowed at every
        point whatever their formula holds.

    Attributes
    ----------
    compositions : ndarray of shape (P, M)
        Cation fractions over ``elements``; a row of zeros marks a substrate (declared, or
        a phase with none of the system's elements), see ``is_substrate``.
    foreign : list of list of str
        Cations per phase outside the system (e.g. Sn in an SnO2 substrate).
    warnings : list of str
        One line per phase taken for a substrate without being declared one.

    Raises
    ------
    InputError
        On an empty library, a repeated label, an unknown substrate label, or a phase
        that mixes system elements with cations outside the system and is not declared
        a substrate.
    """

    phases: list[Phase]
    elements: tuple[str, ...]
    source: str | None = None
    substrates: Sequence[str] = ()
    compositions: np.ndarray = field(init=False)
    foreign: list[list[str]] = field(init=False)
    warnings: list[str] = field(init=False)

    def __post_init__(self) -> None:
        src = self.source or "phases"
        self.elements = tuple(self.elements)
        self.phases = list(self.phases)
        if not self.phases:
            raise InputError("the phase library is empty", source=src)
        seen: set[str] = set()
        for p in self.phases:
            if p.label in seen:
                raise InputError(f"duplicate phase label {p.label!r}", source=src)
            seen.add(p.label)
        declared = {str(s) for s in self.substrates}
        unknown = sorted(declared - seen)
        if unknown:
            raise InputError(f"substrate {unknown[0]!r} is not a phase label", source=src, where="substrates")
        self.substrates = tuple(p.label for p in self.phases if p.label in declared)
        comps, foreign, self.warnings = [], [], []
        unnamed = list(self.elements) == placeholder_elements(len(self.elements))  # one warning says so, not P
        for p in self.phases:
            where = f"phase {p.label!r}"
            try:
                c, f = cation_fractions(p.formula, self.elements)
            except InputError as err:
                raise InputError(err.problem, source=src, where=where) from None
            if p.label in self.substrates:
                c = np.zeros_like(c)
            elif f and c.sum() > 0:
                # its composition would silently leave out the foreign cations
                raise InputError(
                    f"formula {p.formula!r} holds {', '.join(f)}, outside the system {'-'.join(self.elements)}: "
                    "fix the "
                    "formula or declare the phase a substrate (role 'substrate' in the stick table, or substrates=)",
                    source=src,
                    where=where,
                )
            elif c.sum() == 0 and not unnamed:
                self.warnings.append(
                    f"phase {p.label!r} ({p.formula}) holds none of the elements {'-'.join(self.elements)}: "
                    "taken for a "
                    "substrate allowed at every point (declare it a substrate to confirm)"
                )
            comps.append(c)
            foreign.append(f)
        self.compositions = np.array(comps).reshape(len(self.phases), len(self.elements))
        self.foreign = foreign
        self._index = {p.label: i for i, p in enumerate(self.phases)}

    def __len__(self) -> int:
        return len(self.phases)

    def __iter__(self) -> Iterator[Phase]:
        return iter(self.phases)

    def __getitem__(self, key: int | str) -> Phase:
        if isinstance(key, str):
            return self.phases[self.index(key)]
        return self.phases[key]

    def index(self, label: str) -> int:
        """Position of the phase with this label."""
        try:
            return self._index[label]
        except KeyError:
            raise InputError(f"no phase labelled {label!r}", source=self.source) from None

    @property
    def labels(self) -> list[str]:
        """Phase labels in library order."""
        return [p.label for p in self.phases]

    @property
    def is_substrate(self) -> np.ndarray:
        """Boolean (P,): phases declared substrate or holding none of the system's elements."""
        return self.compositions.sum(axis=1) == 0

    def subset(self, indices: np.ndarray | list[int]) -> PhaseLibrary:
        """A library of the given phases only."""
        kept = [self.phases[int(i)] for i in indices]
        declared = [p.label for p in kept if p.label in self.substrates]
        return PhaseLibrary(kept, self.elements, self.source, declared)
