"""Chemical formulas as found in ICDD labels: parentheses, decimals and charge marks."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from os import PathLike

import numpy as np

from ._errors import InputError

# The 118 element symbols, by atomic number.
ELEMENTS = tuple(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge
    As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu
    Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu
    Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og""".split()
)
_ELEMENT_SET = frozenset(ELEMENTS)
# Formulas may also name deuterium (an anion here, like H).
_FORMULA_SYMBOLS = _ELEMENT_SET | {"D"}
# Names drnets gives elements it was not told (a DRNets folder without instance.txt).
_PLACEHOLDER = re.compile(r"E\d+")

# No formula unit holds this many atoms of one element: a larger count is a damaged number.
_MAX_COUNT = 1e6

# Anions that are not system elements (the cation-fraction convention of phase mapping).
ANIONS = frozenset({"O", "N", "F", "Cl", "S", "Se", "Br", "I", "H", "D", "C"})

# A charge or non-stoichiometry mark directly after an element: Fe+2, Fe+3, O4+x, O4-d.
_MARK = re.compile(r"[+\-](?:\d+|[xyzδd](?![a-z]))")
_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+(?:\.\d*)?|\.\d+)|([(\[])|([)\]])|(\s+)")


def parse_formula(formula: str) -> dict[str, float]:
    """Count the atoms of a chemical formula.

    Handles nested parentheses or brackets with multipliers, decimal counts and marks
    such as oxidation states (``Fe+2Al2O4``) or non-stoichiometry (``BiV1.025O4+x``),
    which are ignored.

    Parameters
    ----------
    formula : str
        The formula, e.g. ``"(Li0.63Fe0.37)FeO2"``.

    Returns
    -------
    dict of str to float
        Atom counts per element, in order of first appearance.

    Raises
    ------
    InputError
        If the formula is empty or contains something that is not a formula.
    """
    text = _MARK.sub("", formula.strip())
    if not text:
        raise InputError(f"empty formula {formula!r}")
    stack: list[dict[str, float]] = [defaultdict(float)]
    pos = 0
    last: tuple[str, object] | None = None  # ("el", symbol) or ("group", dict)
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise InputError(f"cannot parse formula {formula!r} at {text[pos:]!r}")
        pos = m.end()
        el, num, opening, closing, _space = m.groups()
        if el:
            if el not in _FORMULA_SYMBOLS:
                # "MGO" tokenises as M, G, O: suggest from the two letters "MG"
                raise InputError(
                    f"unknown element {el!r} in formula {formula!r}{_did_you_mean(text[m.start() : m.start() + 2])}"
                )
            stack[-1][el] += 1.0
            last = ("el", el)
        elif num:
            if last is None:
                raise InputError(f"number without element in formula {formula!r}")
            n = float(num)
            if n > _MAX_COUNT:
                raise InputError(
                    f"count {num[:12]}{'...' if len(num) > 12 else ''} in formula {formula!r} is not a number of atoms"
                )
            kind, what = last
            if kind == "el":
                stack[-1][what] += n - 1.0  # type: ignore[index]
            else:
                for k, v in what.items():  # type: ignore[union-attr]
                    stack[-1][k] += v * (n - 1.0)
            last = None
        elif opening:
            stack.append(defaultdict(float))
            last = None
        elif closing:
            if len(stack) == 1:
                raise InputError(f"unbalanced parenthesis in formula {formula!r}")
            group = stack.pop()
            for k, v in group.items():
                stack[-1][k] += v
            last = ("group", dict(group))
    if len(stack) != 1:
        raise InputError(f"unbalanced parenthesis in formula {formula!r}")
    counts = {k: v for k, v in stack[0].items() if v > 0}
    if any(v > _MAX_COUNT for v in counts.values()):  # nested multipliers: (Fe1000)1000
        raise InputError(f"formula {formula!r} counts more than {_MAX_COUNT:g} atoms of an element")
    if not counts:
        raise InputError(f"formula {formula!r} has no atoms")
    return counts


def cation_fractions(formula: str, elements: tuple[str, ...] | list[str]) -> tuple[np.ndarray, list[str]]:
    """A formula's composition over the system's elements.

    Parameters
    ----------
    formula : str
        The phase's formula.
    elements : sequence of str
        The system's elements, in library order.

    Returns
    -------
    fractions : ndarray of shape (M,)
        Fractions of the system elements among the formula's system elements (summing
        to 1), or all zeros when the formula holds none of them (a substrate).
    foreign : list of str
        Cations in the formula that are neither system elements nor anions.
    """
    counts = parse_formula(formula)
    frac = np.array([counts.get(e, 0.0) for e in elements], dtype=float)
    total = frac.sum()
    if total > 0:
        frac /= total
    foreign = [e for e in counts if e not in elements and e not in ANIONS]
    return frac, foreign


def placeholder_elements(m: int) -> list[str]:
    """The names ``E1 .. EM`` given to M elements whose symbols are not known."""
    return [f"E{k + 1}" for k in range(m)]


def _did_you_mean(symbol: str) -> str:
    """``" (did you mean 'Mg'?)"``: the closest of the 118 symbols (case first, then spelling)."""
    for guess in (symbol.capitalize(), symbol[:2].capitalize()):
        if guess in _ELEMENT_SET:
            return f" (did you mean {guess!r}?)"
    lower = {e.lower(): e for e in ELEMENTS}
    close = difflib.get_close_matches(symbol.lower(), list(lower), n=1, cutoff=0.4)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def check_elements(
    symbols: Sequence[str], *, source: str | PathLike[str] | None = None, where: str | None = None
) -> None:
    """Refuse system element names that are not element symbols.

    Symbols are case-sensitive (``MG`` is not magnesium); the names ``E1 .. EM`` that
    drnets gives unknown elements are accepted.

    Parameters
    ----------
    symbols : sequence of str
        The system's element names.
    source, where : optional
        The file and the line or key, for the message.

    Raises
    ------
    InputError
        Naming the first unknown symbol and the closest valid one.
    """
    for s in symbols:
        if s not in _ELEMENT_SET and not _PLACEHOLDER.fullmatch(s):
            raise InputError(f"unknown element symbol {s!r}{_did_you_mean(s)}", source=source, where=where)
