"""The built-in chemical systems: stable phases on the simplex, distractors, substrate, impurity.

A stable phase is one or more *vertices* on the composition simplex. A phase with two
vertices along an edge is a solid solution: the segment between them is a one-phase
field, and its lattice parameter follows Vegard's law from the host vertex (``t = 0``,
the phase's stick pattern as tabulated) to the far vertex (``t = 1``), where the Q scale
is ``1 + delta`` with ``delta = shift_sign * preset max shift``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core import Phase


@dataclass(frozen=True)
class StablePhase:
    """A phase of the diagram.

    label : the built-in stick pattern's label.
    host : composition (cation fractions) of the tabulated pattern.
    far : the other end of the solid solution, or None for a line compound.
    shift_sign : the Q scale at ``far`` is ``1 + shift_sign * max_shift``
        (negative: the lattice grows, peaks move to lower Q).
    texture_axis : (h, k, l) of the preferred-orientation plane.
    """

    label: str
    host: dict[str, float]
    far: dict[str, float] | None = None
    shift_sign: float = 0.0
    texture_axis: tuple[int, int, int] = (0, 0, 1)


@dataclass(frozen=True)
class ChemicalSystem:
    """Elements, stable phases, distractors, substrate and impurity of a library.

    ``phases`` holds the stick patterns of labels that are not built-in (a random
    system's); ``extra`` is JSON-ready detail written to the truth's ``meta.json``.
    """

    name: str
    elements: tuple[str, ...]
    stable: tuple[StablePhase, ...]
    distractors: tuple[str, ...]
    substrate: str = "SnO2_rutile"
    impurity: str = "Mg(OH)2_brucite"
    impurity_element: str = "Mg"
    extra: dict = field(default_factory=dict)
    phases: dict[str, Phase] = field(default_factory=dict)


_TERNARY_STABLE = (
    # (Mg,Zn)O rock salt: up to ~25 % Zn dissolves in periclase; ZnO's larger cell lowers Q.
    StablePhase("MgO_rocksalt", {"Mg": 1.0}, {"Mg": 0.75, "Zn": 0.25}, -1.0, (1, 1, 1)),
    # (Zn,Mg)O wurtzite: Mg on the Zn site contracts c, raising Q a little.
    StablePhase("ZnO_wurtzite", {"Zn": 1.0}, {"Zn": 0.84, "Mg": 0.16}, +0.5, (0, 0, 1)),
    StablePhase("Al2O3_corundum", {"Al": 1.0}, texture_axis=(0, 0, 1)),
    # Non-stoichiometric spinel MgO·nAl2O3 towards Al excess: the cell shrinks.
    StablePhase("MgAl2O4_spinel", {"Mg": 1 / 3, "Al": 2 / 3}, {"Mg": 0.18, "Al": 0.82}, +0.8, (1, 1, 1)),
)

TERNARY = ChemicalSystem(
    name="Al-Mg-Zn-O",
    elements=("Al", "Mg", "Zn"),
    stable=_TERNARY_STABLE,
    # ZnO rock salt sits 1.6 % below MgO's peaks, gamma-alumina 2 % above the spinel's.
    distractors=("ZnO_rocksalt", "gamma-Al2O3_spinel", "ZnO2_pyrite", "MgZn2_laves"),
)

QUATERNARY = ChemicalSystem(
    name="Al-Mg-Ti-Zn-O",
    elements=("Al", "Mg", "Ti", "Zn"),
    stable=_TERNARY_STABLE
    + (
        # Rutile takes a little Al: the cell contracts slightly.
        StablePhase("TiO2_rutile", {"Ti": 1.0}, {"Ti": 0.9, "Al": 0.1}, +0.4, (1, 1, 0)),
        StablePhase("MgTiO3_ilmenite", {"Mg": 0.5, "Ti": 0.5}, texture_axis=(0, 0, 1)),
        StablePhase("Zn2TiO4_spinel", {"Zn": 2 / 3, "Ti": 1 / 3}, texture_axis=(1, 1, 1)),
        StablePhase("Al2TiO5_pseudobrookite", {"Al": 2 / 3, "Ti": 1 / 3}, texture_axis=(0, 1, 0)),
    ),
    distractors=(
        "ZnO_rocksalt",
        "gamma-Al2O3_spinel",
        "ZnO2_pyrite",
        "MgZn2_laves",
        "TiO2_anatase",
        "ZnTiO3_ilmenite",
        "MgTiO3_perovskite",
        "ZnTiO3_perovskite",
    ),
)

SYSTEMS = {"ternary": TERNARY, "quaternary": QUATERNARY}

#: The system key that draws a whole chemical system from the seed (``_random_system``).
RANDOM = "random"
