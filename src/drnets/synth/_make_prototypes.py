"""Regenerate ``data/prototypes.json``: the structure prototypes of random chemical systems.

Run once, with pymatgen installed::

    python -m drnets.synth._make_prototypes

For each prototype (rock salt, spinel, perovskite, ...) the structure is built with
pymatgen from its space group and Wyckoff positions, its atoms are grouped by *role*
(the cation sites ``A`` and ``B``, the anion ``O``), and for every reflection family
within reach (Q up to 82 nm⁻¹ at the largest cell of the prototype's range) the file keeps

- a representative (h, k, l) and the family's size (multiplicity),
- the real symmetric matrix ``R[s, t] = sum over the family of Re(G_s conj(G_t))``, where
  ``G_s(hkl) = sum over the atoms of role s of exp(2 pi i hkl . r)``.

So ``|F|^2`` summed over the family is ``f @ R @ f`` for any choice of atoms on the roles
(``f_s`` their scattering factors at the reflection's Q), and a family is the set of
reflections whose d-spacing coincides for *every* cell of the crystal system (equal
``h²+k²+l²`` for cubic; ``h²+k²`` and ``l²`` for tetragonal; ``h²+hk+k²`` and ``l²`` for
hexagonal; ``h²``, ``k²`` and ``l²`` for orthorhombic). The runtime
(:mod:`drnets.synth._prototypes`) therefore needs no pymatgen: it computes Q from a drawn
cell and the intensities from the elements on the roles. The file also holds the X-ray
scattering-factor coefficients of the elements used (pymatgen's table), each
prototype's formula template, cell range and the elements each role takes, and the
binary oxide(s) each element forms. A self-check compares the runtime's intensities with
pymatgen's ``XRDCalculator`` for every prototype.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ._make_builtin import _lattice
from ._prototypes import full_cell, inv_d2, stick_intensities

OUT = Path(__file__).with_name("data") / "prototypes.json"
Q_MAX = 82.0  # nm⁻¹; Cu Kα reaches 81.5
# Placeholder species per role, only to let pymatgen place the atoms.
_PLACEHOLDER = {"A": "Mg", "B": "Ti", "O": "O"}

# name: lattice kind, space group, formula template, reference cell, cell range per free
# parameter, sites [(role, fractional coords)], elements per cation role. Cells from the
# literature; ranges span the compounds the roles allow.
PROTOTYPES: dict[str, dict] = {
    "rocksalt": {
        "lattice": "cubic",
        "space_group": "Fm-3m",
        "formula": "{A}O",
        "cell": [4.2117],
        "range": [[4.15, 5.55]],  # NiO 4.18 ... BaO 5.52
        "sites": [["A", [0, 0, 0]], ["O", [0.5, 0.5, 0.5]]],
        "roles": {"A": ["Mg", "Ca", "Sr", "Ba", "Ni", "Co", "Mn", "Fe", "Zn"]},
    },
    "wurtzite": {
        "lattice": "hexagonal",
        "space_group": "P6_3mc",
        "formula": "{A}O",
        "cell": [3.2498, 5.2066],
        "range": [[3.20, 3.30], [5.15, 5.30]],
        "sites": [["A", [1 / 3, 2 / 3, 0]], ["O", [1 / 3, 2 / 3, 0.3819]]],
        "roles": {"A": ["Zn"]},
    },
    "zincblende": {
        "lattice": "cubic",
        "space_group": "F-43m",
        "formula": "{A}O",
        "cell": [4.62],
        "range": [[4.55, 4.70]],
        "sites": [["A", [0, 0, 0]], ["O", [0.25, 0.25, 0.25]]],
        "roles": {"A": ["Zn"]},
    },
    "corundum": {
        "lattice": "hexagonal",
        "space_group": "R-3c",
        "formula": "{A}2O3",
        "cell": [4.7589, 12.991],
        "range": [[4.75, 5.16], [12.98, 14.00]],  # Al2O3 ... Ti2O3 / V2O3
        "sites": [["A", [0, 0, 0.35216]], ["O", [0.30624, 0, 0.25]]],
        "roles": {"A": ["Al", "Cr", "Fe", "V", "Ti", "Ga"]},
    },
    "bixbyite": {
        "lattice": "cubic",
        "space_group": "Ia-3",
        "formula": "{A}2O3",
        "cell": [10.604],
        "range": [[9.40, 11.40]],  # Mn2O3 9.41 ... La2O3 (C type) 11.4
        "sites": [["A", [0.25, 0.25, 0.25]], ["A", [-0.0327, 0, 0.25]], ["O", [0.391, 0.152, 0.380]]],
        "roles": {"A": ["Y", "La", "Mn", "Fe", "Bi", "Ce"]},
    },
    "rutile": {
        "lattice": "tetragonal",
        "space_group": "P4_2/mnm",
        "formula": "{A}O2",
        "cell": [4.5937, 2.9587],
        "range": [[4.38, 4.88], [2.85, 3.20]],  # MnO2 4.40 ... NbO2/MoO2 (as rutile) 4.85
        "sites": [["A", [0, 0, 0]], ["O", [0.3048, 0.3048, 0]]],
        "roles": {"A": ["Ti", "Sn", "V", "Mn", "Cr", "Nb", "Mo"]},
    },
    "anatase": {
        "lattice": "tetragonal",
        "space_group": "I4_1/amd",
        "formula": "{A}O2",
        "cell": [3.7845, 9.5143],
        "range": [[3.76, 3.83], [9.40, 9.60]],
        "sites": [["A", [0, 0, 0]], ["O", [0, 0, 0.2081]]],
        "roles": {"A": ["Ti"]},
    },
    "fluorite": {
        "lattice": "cubic",
        "space_group": "Fm-3m",
        "formula": "{A}O2",
        "cell": [5.411],
        "range": [[5.05, 5.45]],  # cubic ZrO2 5.07 ... CeO2 5.41
        "sites": [["A", [0, 0, 0]], ["O", [0.25, 0.25, 0.25]]],
        "roles": {"A": ["Zr", "Ce"]},
    },
    "antifluorite": {
        "lattice": "cubic",
        "space_group": "Fm-3m",
        "formula": "{A}2O",
        "cell": [4.611],
        "range": [[4.55, 5.60]],  # Li2O 4.61 ... Na2O 5.55
        "sites": [["A", [0.25, 0.25, 0.25]], ["O", [0, 0, 0]]],
        "roles": {"A": ["Li", "Na"]},
    },
    "cuprite": {
        "lattice": "cubic",
        "space_group": "Pn-3m",
        "build": "P1",  # all atoms listed: no origin-choice ambiguity
        "formula": "{A}2O",
        "cell": [4.2696],
        "range": [[4.20, 4.32]],
        "sites": [
            ["O", [0, 0, 0]],
            ["O", [0.5, 0.5, 0.5]],
            ["A", [0.25, 0.25, 0.25]],
            ["A", [0.75, 0.75, 0.25]],
            ["A", [0.75, 0.25, 0.75]],
            ["A", [0.25, 0.75, 0.75]],
        ],
        "roles": {"A": ["Cu"]},
    },
    "spinel": {
        "lattice": "cubic",
        "space_group": "Fd-3m",  # origin choice 1, as pymatgen places it
        "formula": "{A}{B}2O4",
        "cell": [8.0831],
        "range": [[8.05, 8.52]],  # MgAl2O4 8.08 ... MnFe2O4 8.51
        "sites": [["A", [0, 0, 0]], ["B", [0.625, 0.625, 0.625]], ["O", [0.3874, 0.3874, 0.3874]]],
        "roles": {
            "A": ["Mg", "Zn", "Co", "Ni", "Fe", "Mn", "Cu", "Li"],
            "B": ["Al", "Cr", "Fe", "Ga", "V", "Mn", "Co", "Ti"],
        },
    },
    "perovskite": {
        "lattice": "cubic",
        "space_group": "Pm-3m",
        "formula": "{A}{B}O3",
        "cell": [3.905],
        "range": [[3.75, 4.35]],  # LaAlO3 (pseudo-cubic) 3.79 ... BaCeO3 4.4
        "sites": [["A", [0.5, 0.5, 0.5]], ["B", [0, 0, 0]], ["O", [0.5, 0, 0]]],
        "roles": {
            "A": ["Ca", "Sr", "Ba", "La", "Y", "Bi", "Na", "Ce"],
            "B": ["Ti", "Zr", "Sn", "Mn", "Fe", "Cr", "Al", "Ga", "Co", "Ni", "Nb", "Mo", "V"],
        },
    },
    "ilmenite": {
        "lattice": "hexagonal",
        "space_group": "R-3",
        "formula": "{A}{B}O3",
        "cell": [5.0548, 13.8992],
        "range": [[5.00, 5.20], [13.70, 14.40]],
        "sites": [["A", [0, 0, 0.3557]], ["B", [0, 0, 0.1451]], ["O", [0.3161, 0.0210, 0.2466]]],
        "roles": {"A": ["Mg", "Zn", "Fe", "Mn", "Co", "Ni", "Li"], "B": ["Ti", "Nb"]},
    },
    "pyrochlore": {
        "lattice": "cubic",
        "space_group": "Fd-3m",  # origin choice 1 (origin-2 positions + 1/8)
        "formula": "{A}2{B}2O7",
        "cell": [10.80],
        "range": [[10.05, 10.80]],  # Y2Ti2O7 10.09 ... La2Zr2O7 10.80
        "sites": [
            ["A", [0.625, 0.625, 0.625]],
            ["B", [0.125, 0.125, 0.125]],
            ["O", [0.455, 0.25, 0.25]],
            ["O", [0.5, 0.5, 0.5]],
        ],
        "roles": {"A": ["La", "Y", "Bi", "Ce"], "B": ["Ti", "Zr", "Sn", "Mo", "Mn"]},
    },
    "layered": {  # alpha-NaFeO2 type
        "lattice": "hexagonal",
        "space_group": "R-3m",
        "formula": "{A}{B}O2",
        "cell": [2.816, 14.05],
        "range": [[2.80, 3.05], [13.90, 16.20]],  # LiCoO2 ... NaFeO2
        "sites": [["A", [0, 0, 0.5]], ["B", [0, 0, 0]], ["O", [0, 0, 0.2396]]],
        "roles": {"A": ["Li", "Na"], "B": ["Co", "Ni", "Cr", "Fe", "Mn", "V", "Al"]},
    },
    "delafossite": {
        "lattice": "hexagonal",
        "space_group": "R-3m",
        "formula": "{A}{B}O2",
        "cell": [3.035, 17.17],
        "range": [[2.85, 3.05], [16.85, 17.25]],  # CuAlO2 ... CuFeO2
        "sites": [["A", [0, 0, 0]], ["B", [0, 0, 0.5]], ["O", [0, 0, 0.1066]]],
        "roles": {"A": ["Cu"], "B": ["Al", "Fe", "Cr", "Ga"]},
    },
    "pseudobrookite": {
        "lattice": "orthorhombic",
        "space_group": "Cmcm",
        "formula": "{A}2{B}O5",
        "cell": [3.732, 9.779, 9.978],
        "range": [[3.55, 3.76], [9.40, 9.85], [9.60, 10.02]],  # Al2TiO5 ... Fe2TiO5
        "sites": [
            ["A", [0, 0.1348, 0.5615]],
            ["B", [0, 0.1854, 0.25]],
            ["O", [0, 0.7577, 0.25]],
            ["O", [0, 0.0470, 0.1160]],
            ["O", [0, 0.3128, 0.0705]],
        ],
        "roles": {"A": ["Al", "Fe", "Ga", "Cr"], "B": ["Ti"]},
    },
    "ruddlesden-popper": {  # K2NiF4 type, n = 1
        "lattice": "tetragonal",
        "space_group": "I4/mmm",
        "formula": "{A}2{B}O4",
        "cell": [3.884, 12.60],
        "range": [[3.75, 4.15], [11.90, 13.30]],  # Ca2MnO4 ... Ba2SnO4
        "sites": [["A", [0, 0, 0.355]], ["B", [0, 0, 0]], ["O", [0, 0.5, 0]], ["O", [0, 0, 0.152]]],
        "roles": {"A": ["Sr", "Ba", "Ca", "La"], "B": ["Ti", "Sn", "Mn", "Ni", "Co", "Fe", "Zr"]},
    },
}

#: The binary oxide(s) each element forms at the corner of the composition simplex; the
#: keys are the elements a random system draws from.
BINARY: dict[str, list[str]] = {
    "Mg": ["rocksalt"],
    "Al": ["corundum"],
    "Ti": ["rutile", "anatase"],
    "V": ["corundum", "rutile"],
    "Cr": ["corundum"],
    "Mn": ["rocksalt", "bixbyite", "rutile"],
    "Fe": ["rocksalt", "corundum"],
    "Co": ["rocksalt"],
    "Ni": ["rocksalt"],
    "Cu": ["cuprite"],
    "Zn": ["wurtzite"],
    "Ga": ["corundum"],
    "Zr": ["fluorite"],
    "Nb": ["rutile"],
    "Mo": ["rutile"],
    "Sn": ["rutile"],
    "Li": ["antifluorite"],
    "Na": ["antifluorite"],
    "Ca": ["rocksalt"],
    "Sr": ["rocksalt"],
    "Ba": ["rocksalt"],
    "La": ["bixbyite"],
    "Ce": ["fluorite"],
    "Y": ["bixbyite"],
    "Bi": ["bixbyite"],
}


def _family_key(kind: str, hkl: np.ndarray) -> np.ndarray:
    """Integer invariants that fix d for every cell of the crystal system."""
    h, k, ell = hkl.T
    if kind == "cubic":
        return np.stack([h * h + k * k + ell * ell], axis=1)
    if kind == "tetragonal":
        return np.stack([h * h + k * k, ell * ell], axis=1)
    if kind == "hexagonal":
        return np.stack([h * h + h * k + k * k, ell * ell], axis=1)
    return np.stack([h * h, k * k, ell * ell], axis=1)


def _structure(proto: dict, cell: list[float], species: dict[str, str] | None = None):
    from pymatgen.core import Structure

    species = species or _PLACEHOLDER
    roles = [r for r, _ in proto["sites"]]
    return Structure.from_spacegroup(
        proto.get("build", proto["space_group"]),
        _lattice((proto["lattice"], *cell)),
        [species[r] for r in roles],
        [c for _, c in proto["sites"]],
        site_properties={"role": roles},
    )


def reflections(proto: dict) -> dict:
    """Families of one prototype: representative hkl, multiplicity, role matrices."""
    kind = proto["lattice"]
    s = _structure(proto, proto["cell"])
    roles = sorted({r for r, _ in proto["sites"]}, key=lambda r: (r == "O", r))
    frac = {r: np.array([site.frac_coords for site in s if site.properties["role"] == r]) for r in roles}
    # Every hkl within Q_MAX at the largest cell of the range.
    big = [hi for _, hi in proto["range"]]
    g_max = Q_MAX / 10.0 / (2 * math.pi)  # 1/d in Å⁻¹
    lim = [int(math.ceil(g_max * v)) + 1 for v in (big if kind == "orthorhombic" else [big[0], big[0], big[-1]])]
    if kind == "cubic":
        lim = [lim[0]] * 3
    if kind == "hexagonal":  # h, k range over the a axes; 4/3 factor keeps this generous
        lim = [lim[0], lim[0], lim[2]]
    axes = [np.arange(-n, n + 1) for n in lim]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    hkl = hkl[inv_d2(kind, full_cell(kind, big), hkl) <= g_max**2]
    g = {r: np.exp(2j * math.pi * hkl @ frac[r].T).sum(axis=1) for r in roles}  # (H,) per role
    keys = _family_key(kind, hkl)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n_r = len(roles)
    out_hkl, out_mult, out_r = [], [], []
    ref_d2 = inv_d2(kind, full_cell(kind, proto["cell"]), hkl)
    order = np.argsort([ref_d2[inverse == u].min() for u in range(len(uniq))], kind="stable")
    for u in order:
        members = np.flatnonzero(inverse == u)
        mat = np.zeros((n_r, n_r))
        for i, a in enumerate(roles):
            for j, b in enumerate(roles):
                mat[i, j] = float(np.sum((g[a][members] * np.conj(g[b][members])).real))
        if np.trace(mat) < 1e-6:  # systematically absent
            continue
        # Representative: the member with the most non-negative, largest-first indices.
        rep = max((tuple(int(v) for v in hkl[m]) for m in members), key=lambda t: (sum(v >= 0 for v in t), t))
        out_hkl.append(list(rep))
        out_mult.append(int(members.size))
        out_r.append([float(f"{mat[i, j]:.6g}") for i in range(n_r) for j in range(i, n_r)])
    return {"site_classes": roles, "hkl": out_hkl, "multiplicity": out_mult, "role_matrix": out_r}


def scattering(elements: set[str]) -> dict[str, dict]:
    """Atomic number and the four (a, b) coefficients of pymatgen's X-ray scattering table."""
    from pymatgen.analysis.diffraction.xrd import ATOMIC_SCATTERING_PARAMS
    from pymatgen.core import Element

    return {e: {"Z": Element(e).Z, "coeff": ATOMIC_SCATTERING_PARAMS[e]} for e in sorted(elements)}


def build() -> dict:
    protos = {}
    elements = {"O"}
    for name, proto in PROTOTYPES.items():
        for els in proto["roles"].values():
            elements.update(els)
        protos[name] = {k: v for k, v in proto.items() if k not in ("sites", "build")} | reflections(proto)
    for el, names in BINARY.items():
        for n in names:
            assert el in PROTOTYPES[n]["roles"]["A"], (el, n)
    return {
        "about": "Structure prototypes of drnets.synth random systems; made by drnets/synth/_make_prototypes.py "
        "(pymatgen structures and scattering table). Per reflection family: representative hkl, multiplicity, "
        "upper triangle of R[s,t] = sum Re(G_s conj G_t) over the family, roles in the order of 'site_classes'.",
        "q_max": Q_MAX,
        "binary": BINARY,
        "scattering": scattering(elements),
        "prototypes": protos,
    }


def self_check(data: dict) -> float:
    """Largest relative difference to pymatgen's XRDCalculator over every prototype."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    worst = 0.0
    calc = XRDCalculator("CuKa")
    for name, proto in PROTOTYPES.items():
        species = {r: els[0] for r, els in proto["roles"].items()} | {"O": "O"}
        pat = calc.get_pattern(_structure(proto, proto["cell"], species), scaled=False, two_theta_range=(10, 120))
        q_ref = 4 * math.pi * np.sin(np.radians(np.asarray(pat.x) / 2)) / (calc.wavelength / 10.0)
        q, inten, _ = stick_intensities(data["prototypes"][name], species, proto["cell"], data["scattering"])
        for qr, ir in zip(q_ref, pat.y):
            mine = inten[np.abs(q - qr) < 1e-4].sum()
            worst = max(worst, abs(mine - ir) / max(pat.y))
        # ... and no family of ours that pymatgen lacks.
        inside = (q > q_ref.min() + 1e-3) & (q < q_ref.max() - 1e-3) & (inten > 1e-4 * max(pat.y))
        for qm, im in zip(q[inside], inten[inside]):
            if not np.any(np.abs(q_ref - qm) < 1e-4):
                worst = max(worst, im / max(pat.y))
    return worst


def main() -> None:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    for k, v in data["prototypes"].items():
        print(f"{k:18s} {len(v['hkl']):4d} families")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    print(f"self-check against pymatgen XRDCalculator: largest relative difference {self_check(data):.2e}")


if __name__ == "__main__":
    main()
