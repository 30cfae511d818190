"""The numbers that more than one stage relies on, each defined once.

The solver, the audit, the comparison with a truth, the report and the command line all
import their shared thresholds and names from here, so that changing one changes it
everywhere.
"""

from __future__ import annotations

#: Fraction above which a phase counts as present in an answer (the solver drops what is
#: under it; the report, the evaluation table and the solver's own audit use it too).
PHASE_THRESHOLD = 1e-3

#: A gross error at a point (comparison with a truth): a phase above GROSS_HIGH on one side
#: (truth or answer) and under GROSS_LOW on the other.
GROSS_HIGH, GROSS_LOW = 0.10, 0.01

#: Fraction above which an element counts as present at a point (Gibbs and element rules).
ELEMENT_THRESHOLD = 0.01

#: Fraction above which the stand-alone audit counts a phase as present (``drnets evaluate``
#: on an answer of unknown origin: noise-level fractions there are not phases).
AUDIT_THRESHOLD = 0.01

#: Relative shift change along a graph edge that counts as alloying (audit), and that the
#: solver's exact alloying step removes.
SHIFT_TOLERANCE = 0.01

#: Distance of a point's composition from its phases' cone that breaks the composition rule.
COMPOSITION_TOLERANCE = 0.05

#: Tolerance on a composition row's sum (rows are renormalised within it).
COMPOSITION_SUM_TOLERANCE = 0.02

#: The rules the audit counts, in the order every table shows them.
RULES = ("gibbs", "alloying", "connectivity", "composition")

#: One line per rule: what a violation of it means (shown beside the counts).
RULE_MEANINGS = {
    "gibbs": "points with more phases than elements present",
    "alloying": "edges where a phase's shift jumps inside one full phase field",
    "connectivity": "extra disconnected pieces of a phase's or a phase field's region",
    "composition": "points whose phases cannot make up their composition (solid solutions can cause this)",
}

#: Presence thresholds at which answers are compared with a truth.
COMPARISON_THRESHOLDS = (0.001, 0.02)

#: Evidence (in per-phase costs) under which a present phase counts as weakly supported.
WEAK_EVIDENCE = 1.0

#: Largest relative lattice shift the solver tries by default (Q scales 1 ± MAX_SHIFT); the
#: readers warn about phases whose sticks stay outside a library's Q range even at it.
MAX_SHIFT = 0.08

#: Largest intensity a library may hold: beyond it sums of squares overflow float64 (real
#: counts are many orders below; rescale the patterns).
MAX_INTENSITY = 1e100

#: Fraction at or above which a phase counts as present for the probabilities of presence and
#: the alternative phase sets (the solver's ``presence_level`` default; the comparison's 2 %).
CONFIDENCE_PRESENCE = 0.02

#: Probability of the chosen phase set under which a point counts as uncertain (tables, report).
CONFIDENT = 0.9
