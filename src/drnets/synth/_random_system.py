"""A whole chemical system drawn from a seed: elements, stable phases, look-alikes, impurity.

The draw, in order (every choice from the generator passed in):

1. 3 or 4 cation elements from the common ones that form a binary oxide (the keys of the
   stored ``binary`` table); each corner of the composition simplex gets one of its
   element's binary oxides (rock salt, corundum, rutile, ...).
2. Pseudo-binary compounds on the edges (spinel, perovskite, ilmenite, pyrochlore,
   layered, delafossite, pseudobrookite, Ruddlesden-Popper), at most one per cation
   ratio; the prototype's formula fixes the ratio (AB2O4: 1/3 A + 2/3 B).
3. Cells drawn uniformly in each prototype's range; intensities from the elements on the
   sites, a Debye-Waller factor and a mild per-reflection perturbation (standing in for
   atom positions that differ from the prototype's).
4. Solid solutions: a stable phase dissolves another element up to 8-30 % of the way to
   its corner, with a Vegard shift whose sign and size (20-100 % of the preset's largest)
   are drawn. A solid solution is kept only if the tie-simplices leave it a connected,
   one-phase segment (its two ends share an edge) clear of the other phases.
5. Distractors: isostructural look-alikes first (same prototype as a stable phase, cell
   0.5-3 % apart: another compound of the system in that structure where there is one,
   else a second card of the same compound), then other compounds and polymorphs of the
   system that are not stable.
6. A substrate with none of the system's elements and an impurity (a compound of one of
   the system's elements that is not among the candidates).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..core import InputError, Phase, cation_fractions
from ._diagram import build_diagram
from ._prototypes import prototype_data, prototype_phase
from ._systems import ChemicalSystem, StablePhase

#: Substrates: real single-crystal lattices (Å), used when none of their cations is in the system.
SUBSTRATES = (
    ("SnO2_rutile", "rutile", {"A": "Sn"}, (4.7382, 3.1871)),
    ("Al2O3_corundum", "corundum", {"A": "Al"}, (4.7589, 12.991)),
    ("MgO_rocksalt", "rocksalt", {"A": "Mg"}, (4.2117,)),
    ("SrTiO3_perovskite", "perovskite", {"A": "Sr", "B": "Ti"}, (3.905,)),
)
#: Preferred-orientation axes a textured phase may take, by crystal system.
TEXTURE_AXES = {
    "cubic": ((1, 1, 1), (1, 0, 0), (1, 1, 0)),
    "tetragonal": ((0, 0, 1), (1, 1, 0)),
    "hexagonal": ((0, 0, 1), (1, 1, 0)),
    "orthorhombic": ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
}
_COMPOUNDS_PER_SYSTEM = {3: (1, 3), 4: (2, 5)}  # (fewest, most) edge compounds
_SOLID_SOLUTION_CHANCE = 0.45
_SS_EXTENT = (0.08, 0.30)  # share of the way to the dissolved element's corner
_SS_CLEARANCE = 0.05  # a far end keeps this composition distance from every other vertex
_LOOKALIKE_SPACING = (0.005, 0.03)
_PERTURB_SIGMA = 0.15  # log-normal per-reflection intensity factors
_B_ISO = (0.3, 1.2)  # Å²


@dataclass(frozen=True)
class _Compound:
    """A prototype with elements on its cation roles."""

    prototype: str
    species: tuple[tuple[str, str], ...]  # (role, element)

    @property
    def formula(self) -> str:
        return prototype_data()["prototypes"][self.prototype]["formula"].format(**dict(self.species))

    @property
    def label(self) -> str:
        return f"{self.formula}_{self.prototype}"

    @property
    def elements(self) -> set[str]:
        return {e for _, e in self.species}


def _compounds(elements: list[str] | tuple[str, ...]) -> list[_Compound]:
    """Every prototype with distinct elements from ``elements`` on its cation roles."""
    out = []
    for name, proto in prototype_data()["prototypes"].items():
        roles = list(proto["roles"])
        allowed = [[e for e in proto["roles"][r] if e in elements] for r in roles]
        for combo in itertools.product(*allowed):
            if len(set(combo)) == len(combo):
                out.append(_Compound(name, tuple(zip(roles, combo))))
    return out


def _composition(c: _Compound, elements: tuple[str, ...]) -> dict[str, float]:
    frac, _ = cation_fractions(c.formula, elements)
    return {e: float(v) for e, v in zip(elements, frac) if v > 0}


def _draw_params(rng: np.random.Generator, prototype: str) -> list[float]:
    return [float(rng.uniform(lo, hi)) for lo, hi in prototype_data()["prototypes"][prototype]["range"]]


def _make_phase(rng: np.random.Generator, label: str, c: _Compound, params: list[float]) -> Phase:
    n = len(prototype_data()["prototypes"][c.prototype]["hkl"])
    perturb = np.exp(rng.normal(0.0, _PERTURB_SIGMA, size=n))
    return prototype_phase(label, c.prototype, dict(c.species), params, perturb=perturb, b_iso=rng.uniform(*_B_ISO))


def _valid(system: ChemicalSystem) -> bool:
    """Every vertex is used, and every solid solution's two ends share a tie-simplex edge."""
    try:
        dia = build_diagram(system)
    except InputError:
        return False
    if dia.simplices.size == 0 or np.unique(dia.simplices).size != len(dia.vertex_phase):
        return False
    for i, sp in enumerate(system.stable):
        if sp.far is None:
            continue
        ends = np.flatnonzero(dia.vertex_phase == i)
        if not any(set(ends.tolist()) <= set(s) for s in dia.simplices.tolist()):
            return False
        far = dia.vertex_comp[ends[dia.vertex_far[ends]][0]]
        others = dia.vertex_comp[dia.vertex_phase != i]
        if np.min(np.linalg.norm(others - far, axis=1)) < _SS_CLEARANCE:
            return False
    return True


def draw_system(rng: np.random.Generator, *, max_tries: int = 200) -> ChemicalSystem:
    """Draw a whole chemical system (see the module's description).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness: the same state gives the same system.
    max_tries : int
        Element sets to try before giving up (a set without any compound is redrawn).

    Returns
    -------
    ChemicalSystem
        With the stick patterns of all its phases in ``phases`` and their prototype,
        formula and cell in ``extra``.
    """
    data = prototype_data()
    pool = sorted(data["binary"])
    for _ in range(max_tries):
        m = 3 if rng.random() < 0.5 else 4
        elements = tuple(sorted(str(e) for e in rng.choice(pool, size=m, replace=False)))
        system = _draw_chemistry(rng, elements)
        if system is not None:
            return system
    raise InputError(f"no random chemical system with compounds in {max_tries} draws")  # pragma: no cover


def _draw_chemistry(rng: np.random.Generator, elements: tuple[str, ...]) -> ChemicalSystem | None:
    data = prototype_data()
    m = len(elements)
    everything = _compounds(elements)
    # 1. corners
    corners = []
    for e in elements:
        proto = str(rng.choice(data["binary"][e]))
        corners.append(_Compound(proto, (("A", e),)))
    # 2. edge compounds, one per cation ratio
    pairs = [c for c in everything if len(c.species) == 2]
    if not pairs:
        return None
    lo, hi = _COMPOUNDS_PER_SYSTEM[m]
    want = int(rng.integers(lo, hi + 1))
    taken: set[tuple[float, ...]] = set()
    edge = []
    for k in rng.permutation(len(pairs)):
        c = pairs[int(k)]
        key = tuple(round(v, 6) for v in cation_fractions(c.formula, elements)[0])
        if key in taken:
            continue
        taken.add(key)
        edge.append(c)
        if len(edge) == want:
            break
    stable_c = corners + edge
    # 3. cells and patterns
    params = {c.label: _draw_params(rng, c.prototype) for c in stable_c}
    phases = {c.label: _make_phase(rng, c.label, c, params[c.label]) for c in stable_c}
    axes = {
        c.label: tuple(int(v) for v in rng.choice(TEXTURE_AXES[data["prototypes"][c.prototype]["lattice"]]))
        for c in stable_c
    }
    stable = [StablePhase(c.label, _composition(c, elements), texture_axis=axes[c.label]) for c in stable_c]
    name = "-".join(elements) + "-O"
    base = ChemicalSystem(name, elements, tuple(stable), ())
    if not _valid(base):
        return None
    # 4. solid solutions, one at a time, each kept only if the diagram stays valid
    for i in rng.permutation(len(stable)):
        i = int(i)
        if rng.random() >= _SOLID_SOLUTION_CHANCE:
            continue
        host = stable[i].host
        targets = [e for e in elements if host.get(e, 0.0) < 1.0]
        e = str(rng.choice(targets))
        s = float(rng.uniform(*_SS_EXTENT))
        far = {k: (1.0 - s) * host.get(k, 0.0) + s * (k == e) for k in elements}
        far = {k: v for k, v in far.items() if v > 0}
        sign = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0))
        trial = list(stable)
        trial[i] = StablePhase(stable[i].label, host, far, sign, stable[i].texture_axis)
        if _valid(ChemicalSystem(name, elements, tuple(trial), ())):
            stable = trial
    # 5. distractors: look-alikes first
    used = {c.label for c in stable_c}
    spare = [c for c in everything if c.label not in used]
    distractors: list[str] = []
    details: dict[str, dict] = {}
    n_look = int(rng.integers(1, 4))
    for j in rng.choice(len(stable_c), size=min(n_look, len(stable_c)), replace=False):
        src = stable_c[int(j)]
        same = [c for c in spare if c.prototype == src.prototype and c.label not in used]
        if same:  # another compound of the system in the same structure
            c = same[int(rng.integers(len(same)))]
            label = c.label
        else:
            c = src
            label = _unique(f"{src.label}-2", used)
        spacing = float(rng.choice([-1.0, 1.0]) * rng.uniform(*_LOOKALIKE_SPACING))
        p = [v * (1.0 + spacing) * (1.0 + rng.uniform(-0.003, 0.003)) for v in params[src.label]]
        phases[label] = _make_phase(rng, label, c, p)
        used.add(label)
        distractors.append(label)
        details[label] = _detail(c, p, f"look-alike of {src.label} ({100 * spacing:+.1f} % in lattice)")
    n_other = int(rng.integers(1, 6))
    others = [c for c in spare if c.label not in used]
    for k in rng.permutation(len(others))[:n_other]:
        c = others[int(k)]
        p = _draw_params(rng, c.prototype)
        phases[c.label] = _make_phase(rng, c.label, c, p)
        used.add(c.label)
        distractors.append(c.label)
        details[c.label] = _detail(c, p, "distractor")
    # 6. substrate and impurity
    subs = [s for s in SUBSTRATES if not (set(s[2].values()) & set(elements))]
    sub_label, sub_proto, sub_species, sub_cell = subs[int(rng.integers(len(subs)))]
    phases[sub_label] = prototype_phase(sub_label, sub_proto, sub_species, list(sub_cell))
    details[sub_label] = _detail(_Compound(sub_proto, tuple(sub_species.items())), list(sub_cell), "substrate")
    imp_el = str(rng.choice(elements))
    imp_pool = [
        c for c in _compounds(sorted(data["binary"])) if imp_el in c.elements and c.label not in used | {sub_label}
    ]
    imp = imp_pool[int(rng.integers(len(imp_pool)))]
    p = _draw_params(rng, imp.prototype)
    phases[imp.label] = _make_phase(rng, imp.label, imp, p)
    details[imp.label] = _detail(imp, p, f"impurity (not a candidate), holds {imp_el}")
    for c in stable_c:
        details[c.label] = _detail(c, params[c.label], "stable")
    extra = {"phases": {k: details[k] for k in sorted(details)}}
    return ChemicalSystem(
        name,
        elements,
        tuple(stable),
        tuple(distractors),
        substrate=sub_label,
        impurity=imp.label,
        impurity_element=imp_el,
        extra=extra,
        phases=phases,
    )


def _unique(label: str, used: set[str]) -> str:
    k = 2
    base = label.rsplit("-", 1)[0]
    while label in used:
        k += 1
        label = f"{base}-{k}"
    return label


def _detail(c: _Compound, params: list[float], role: str) -> dict:
    proto = prototype_data()["prototypes"][c.prototype]
    return {
        "formula": c.formula,
        "prototype": c.prototype,
        "space_group": proto["space_group"],
        "cell": [round(float(v), 5) for v in params],
        "role": role,
    }
