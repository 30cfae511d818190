"""Regenerate ``data/builtin_phases.json``: stick patterns of the built-in phases.

Run once, with pymatgen installed::

    python -m drnets.synth._make_builtin

Each phase is built from its real prototype structure (space group, Wyckoff positions,
literature lattice parameters), its Cu Kα powder pattern is computed with pymatgen's
``XRDCalculator``, positions are converted to Q = 4π sinθ / λ in nm⁻¹ and kept over
15–80 nm⁻¹ with their (h, k, l). The generator itself reads only the JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

Q_RANGE = (15.0, 80.0)
MIN_INTENSITY = 0.005  # relative to the strongest stick in range
OUT = Path(__file__).with_name("data") / "builtin_phases.json"

# label: (formula, prototype, space group, lattice, species, coords)
#   lattice: ("cubic", a) | ("hexagonal", a, c) | ("tetragonal", a, c) | ("orthorhombic", a, b, c)
_MGTI = {"Mg": 0.5, "Ti": 0.5}
PHASES = {
    # --- rock salt -------------------------------------------------------------------
    "MgO_rocksalt": ("MgO", "rock salt", "Fm-3m", ("cubic", 4.2117), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "ZnO_rocksalt": (
        "ZnO",
        "rock salt (high pressure)",
        "Fm-3m",
        ("cubic", 4.280),
        ["Zn", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
    ),
    # --- wurtzite --------------------------------------------------------------------
    "ZnO_wurtzite": (
        "ZnO",
        "wurtzite",
        "P6_3mc",
        ("hexagonal", 3.2498, 5.2066),
        ["Zn", "O"],
        [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.3819]],
    ),
    # --- corundum / ilmenite ---------------------------------------------------------
    "Al2O3_corundum": (
        "Al2O3",
        "corundum",
        "R-3c",
        ("hexagonal", 4.7589, 12.991),
        ["Al", "O"],
        [[0, 0, 0.35216], [0.30624, 0, 0.25]],
    ),
    "MgTiO3_ilmenite": (
        "MgTiO3",
        "ilmenite",
        "R-3",
        ("hexagonal", 5.0548, 13.8992),
        ["Mg", "Ti", "O"],
        [[0, 0, 0.35570], [0, 0, 0.14510], [0.31610, 0.02100, 0.24660]],
    ),
    "ZnTiO3_ilmenite": (
        "ZnTiO3",
        "ilmenite",
        "R-3",
        ("hexagonal", 5.0787, 13.927),
        ["Zn", "Ti", "O"],
        [[0, 0, 0.3571], [0, 0, 0.1445], [0.3172, 0.0220, 0.2456]],
    ),
    # --- spinel (Fd-3m, origin choice 1 as pymatgen uses) ---------------------------------------------
    "MgAl2O4_spinel": (
        "MgAl2O4",
        "spinel",
        "Fd-3m",
        ("cubic", 8.0831),
        ["Mg", "Al", "O"],
        [[0, 0, 0], [0.625, 0.625, 0.625], [0.3874, 0.3874, 0.3874]],
    ),
    "gamma-Al2O3_spinel": (
        "Al2O3",
        "defect spinel",
        "Fd-3m",
        ("cubic", 7.911),
        [{"Al": 0.83}, {"Al": 0.92}, "O"],
        [[0, 0, 0], [0.625, 0.625, 0.625], [0.3797, 0.3797, 0.3797]],
    ),
    "Zn2TiO4_spinel": (
        "Zn2TiO4",
        "inverse spinel",
        "Fd-3m",
        ("cubic", 8.4596),
        ["Zn", {"Zn": 0.5, "Ti": 0.5}, "O"],
        [[0, 0, 0], [0.625, 0.625, 0.625], [0.3850, 0.3850, 0.3850]],
    ),
    "Mg2TiO4_spinel": (
        "Mg2TiO4",
        "inverse spinel",
        "Fd-3m",
        ("cubic", 8.4376),
        ["Mg", _MGTI, "O"],
        [[0, 0, 0], [0.625, 0.625, 0.625], [0.3860, 0.3860, 0.3860]],
    ),
    # --- rutile / anatase ------------------------------------------------------------
    "TiO2_rutile": (
        "TiO2",
        "rutile",
        "P4_2/mnm",
        ("tetragonal", 4.5937, 2.9587),
        ["Ti", "O"],
        [[0, 0, 0], [0.30478, 0.30478, 0]],
    ),
    "TiO2_anatase": (
        "TiO2",
        "anatase",
        "I4_1/amd",
        ("tetragonal", 3.7845, 9.5143),
        ["Ti", "O"],
        [[0, 0, 0], [0, 0, 0.2081]],
    ),
    "SnO2_rutile": (
        "SnO2",
        "rutile (cassiterite)",
        "P4_2/mnm",
        ("tetragonal", 4.7382, 3.1871),
        ["Sn", "O"],
        [[0, 0, 0], [0.3056, 0.3056, 0]],
    ),
    # --- perovskite ------------------------------------------------------------------
    "ZnTiO3_perovskite": (
        "ZnTiO3",
        "cubic perovskite (hypothetical)",
        "Pm-3m",
        ("cubic", 3.82),
        ["Zn", "Ti", "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0]],
    ),
    "MgTiO3_perovskite": (
        "MgTiO3",
        "cubic perovskite (hypothetical)",
        "Pm-3m",
        ("cubic", 3.78),
        ["Mg", "Ti", "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0]],
    ),
    # --- pseudobrookite --------------------------------------------------------------
    "Al2TiO5_pseudobrookite": (
        "Al2TiO5",
        "pseudobrookite",
        "Cmcm",
        ("orthorhombic", 3.5910, 9.4290, 9.6370),
        [_al_ti := {"Al": 0.667, "Ti": 0.333}, {"Al": 0.667, "Ti": 0.333}, "O", "O", "O"],
        [[0, 0.1854, 0.25], [0, 0.1348, 0.5615], [0, 0.7577, 0.25], [0, 0.0470, 0.1160], [0, 0.3128, 0.0705]],
    ),
    # --- other distractors / impurity ------------------------------------------------
    "ZnO2_pyrite": ("ZnO2", "pyrite", "Pa-3", ("cubic", 4.871), ["Zn", "O"], [[0, 0, 0], [0.4125, 0.4125, 0.4125]]),
    "MgZn2_laves": (
        "MgZn2",
        "C14 Laves",
        "P6_3/mmc",
        ("hexagonal", 5.221, 8.567),
        ["Mg", "Zn", "Zn"],
        [[1 / 3, 2 / 3, 0.0629], [0, 0, 0], [0.8305, 0.6610, 0.25]],
    ),
    "Mg(OH)2_brucite": (
        "Mg(OH)2",
        "brucite (CdI2)",
        "P-3m1",
        ("hexagonal", 3.1470, 4.7690),
        ["Mg", "O", "H"],
        [[0, 0, 0], [1 / 3, 2 / 3, 0.2216], [1 / 3, 2 / 3, 0.4303]],
    ),
}


def _lattice(spec):
    from pymatgen.core import Lattice

    kind, *p = spec
    if kind == "cubic":
        return Lattice.cubic(p[0])
    if kind == "hexagonal":
        return Lattice.hexagonal(p[0], p[1])
    if kind == "tetragonal":
        return Lattice.tetragonal(p[0], p[1])
    return Lattice.orthorhombic(*p)


def build() -> dict:
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.core import Structure

    calc = XRDCalculator("CuKa")
    lam_nm = calc.wavelength / 10.0
    tt_max = min(179.9, 2 * math.degrees(math.asin(min(1.0, Q_RANGE[1] * lam_nm / (4 * math.pi)))) + 0.5)
    out = {}
    for label, (formula, proto, sg, lat, species, coords) in PHASES.items():
        s = Structure.from_spacegroup(sg, _lattice(lat), species, coords)
        pat = calc.get_pattern(s, scaled=False, two_theta_range=(5, tt_max))
        rows = []
        for tt, inten, fam in zip(pat.x, pat.y, pat.hkls):
            q = 4 * math.pi * math.sin(math.radians(tt / 2)) / lam_nm
            if Q_RANGE[0] <= q <= Q_RANGE[1]:
                hkl = fam[0]["hkl"]
                if len(hkl) == 4:  # hexagonal (h, k, i, l) -> (h, k, l)
                    hkl = (hkl[0], hkl[1], hkl[3])
                rows.append((q, float(inten), [int(v) for v in hkl]))
        top = max(r[1] for r in rows)
        rows = [r for r in rows if r[1] >= MIN_INTENSITY * top]
        a, b, c = s.lattice.abc
        al, be, ga = s.lattice.angles
        if lat[0] == "hexagonal" and sg.startswith("R"):
            pass  # hexagonal setting of the rhombohedral cell
        out[label] = {
            "formula": formula,
            "prototype": proto,
            "space_group": sg,
            "cell": [round(v, 4) for v in (a, b, c, al, be, ga)],
            "q": [round(r[0], 5) for r in rows],
            "intensity": [round(r[1] / top, 5) for r in rows],
            "hkl": [r[2] for r in rows],
        }
    return {
        "about": "Stick patterns of drnets.synth built-in phases; made by drnets/synth/_make_builtin.py "
        "(pymatgen XRDCalculator, Cu Ka, Q = 4 pi sin(theta)/lambda in nm^-1).",
        "q_range": list(Q_RANGE),
        "phases": out,
    }


def main() -> None:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    for k, v in data["phases"].items():
        print(f"{k:24s} {len(v['q']):3d} sticks, strongest at Q={v['q'][v['intensity'].index(1.0)]:.3f}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
