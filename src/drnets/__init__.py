"""drnets: automated crystal-structure phase mapping with Deep Reasoning Networks.

The data flows through one subpackage per stage:

- :mod:`drnets.core` — the data model (:class:`Library`, :class:`PhaseLibrary`, :class:`Solution`);
- :mod:`drnets.io` — readers and writers, behind :func:`drnets.io.load`;
- :mod:`drnets.structure` — composition graph, Gibbs limits, allowed-phase mask;
- :mod:`drnets.synth` — synthetic libraries with exact ground truth;
- :mod:`drnets.solve` — the solver;
- :mod:`drnets.evaluate` — metrics and the rule audit;
- :mod:`drnets.report` — figures and the HTML report.
"""

from .core import Dataset, InputError, Library, Phase, PhaseLibrary, Solution
from .io import load

__version__ = "0.1.0"

__all__ = ["Dataset", "InputError", "Library", "Phase", "PhaseLibrary", "Solution", "__version__", "load"]
