"""The solver's parameters: one table (name, default, bounds, one line of doc), checked at fit.

:class:`Params` is the table; :class:`~drnets.solve.PhaseMapper` inherits it. Each knob is a
dataclass field made by :func:`knob`, which carries its bounds and its line of doc, so that
the validation, ``get_params``/``set_params``, the run metadata and the class docstring all
read the same table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..core import InputError
from ..core.constants import CONFIDENCE_PRESENCE, MAX_SHIFT, PHASE_THRESHOLD, SHIFT_TOLERANCE
from ._atoms import WIDTH_SCALES

#: The solver's engines; the first is the default.
ENGINES = ("search", "network")


def knob(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[Any] | None = None,
    kind: str = "number",
    record: bool = True,
) -> Any:
    """A parameter field: its default, its line of doc and its admissible values.

    ``kind`` is ``'number'`` (a real number in [low, high]), ``'integer'``, ``'numbers'``
    (a non-empty tuple of them, each in bounds), ``'integers'``, ``'flag'``, ``'choice'``
    (one of ``choices``), ``'optional number'`` (None or a number), ``'sigma'`` (None, a
    number or two), ``'path'`` or ``'any'``. ``record``: whether the value goes into the
    run metadata.
    """
    meta = {
        "doc": doc,
        "low": low,
        "high": high,
        "choices": tuple(choices) if choices else None,
        "kind": kind,
        "record": record,
    }
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _check(name: str, value: Any, meta: dict[str, Any]) -> Any:
    """The value, normalised (tuples for sequences), or an InputError naming the parameter."""
    kind, low, high = meta["kind"], meta["low"], meta["high"]

    def bad(what: str) -> InputError:
        return InputError(f"{what}, got {value!r}", where=f"parameter {name}")

    def in_bounds(v: Any, integer: bool) -> Any:
        if not _is_number(v) or (integer and float(v) != int(v)):
            raise bad("must be " + ("an integer" if integer else "a finite number"))
        if (low is not None and v < low) or (high is not None and v > high):
            raise bad(f"must lie in [{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]")
        return int(v) if integer else v

    if kind in ("number", "integer"):
        return in_bounds(value, kind == "integer")
    if kind == "optional number":
        return None if value is None else in_bounds(value, False)
    if kind in ("numbers", "integers"):
        vals = (value,) if _is_number(value) else value
        if not isinstance(vals, (list, tuple)) or not vals:
            raise bad("must be a non-empty sequence of numbers")
        return tuple(in_bounds(v, kind == "integers") for v in vals)
    if kind == "sigma":
        if value is None or value == 0:
            return value
        vals = (value,) if _is_number(value) else value
        if not isinstance(vals, (list, tuple)) or len(vals) not in (1, 2):
            raise bad("must be None, a number or two numbers")
        out = tuple(in_bounds(v, False) for v in vals)
        return out[0] if _is_number(value) else out
    if kind == "flag":
        if not isinstance(value, bool):
            raise bad("must be True or False")
        return value
    if kind == "choice":
        if value not in meta["choices"]:
            raise bad("must be one of " + ", ".join(map(str, meta["choices"])))
        return value
    if kind == "path":
        if value is not None and not isinstance(value, (str, Path)):
            raise bad("must be a path or None")
        return value
    return value


@dataclass
class Params:
    """The solver's knobs (see :func:`parameter_table` for the table as text)."""

    max_shift: float = knob(
        MAX_SHIFT, "Largest relative lattice shift (multiplicative Q scale 1 ± max_shift).", low=1e-4, high=0.5
    )
    shift_step: float | None = knob(
        None,
        "Shift grid step; None: a fifth of a peak width at the top of the Q range.",
        low=1e-5,
        high=0.05,
        kind="optional number",
    )
    sigma: float | tuple[float, float] | None = knob(
        None,
        "Base Gaussian peak sigma (nm⁻¹), or its values at both ends of the Q grid; None: estimated.",
        low=1e-4,
        high=10.0,
        kind="sigma",
    )
    eta: float | None = knob(
        0.0,
        "Lorentzian share of the pseudo-Voigt peaks (0: Gaussian, 1: Lorentzian); None: estimated from isolated peaks.",
        low=0.0,
        high=1.0,
        kind="optional number",
    )
    count_weights: bool = knob(
        True,
        "Weight the final fits by counting statistics (a Q point's variance grows with the pattern's level) "
        "where the patterns sit on a baseline (raw counts); the shift prior then scales with the share of the "
        "signal the weights keep.",
        kind="flag",
    )
    texture: bool = knob(
        False,
        "Fit preferred orientation (March-Dollase variants) in the final fits of phases with hkl and a cell.",
        kind="flag",
    )
    texture_cost: float = knob(
        1.0,
        "Cost of fitting one phase's texture at a point, in per-phase costs.",
        low=0.0,
        high=1e6,
    )
    phase_texture: bool = knob(
        True,
        "Decide each phase's preferred orientation across the library (one axis, a smooth March-Dollase r) "
        "after each search round, and draw it so in the final fits.",
        kind="flag",
    )
    phase_texture_cost: float = knob(
        1.0,
        "A phase keeps its texture where the summed gain over its points exceeds this many per-phase costs per point.",
        low=0.0,
        high=1e6,
    )
    reflection_factors: float = knob(
        3.0,
        "Phases the March-Dollase texture cannot draw (no Miller indices and cell, e.g. ICDD sticks) may take "
        "intensity factors per reflection, one set across the library, within [1/this, this]; 1: off.",
        low=1.0,
        high=100.0,
    )
    substrate_intensities: bool = knob(
        True,
        "A substrate (a candidate with none of the system's elements) is drawn with reflection intensities of its "
        "own, estimated across the library after each search round: substrates are single crystals or oriented "
        "films, not powders.",
        kind="flag",
    )
    width_scales: tuple[float, ...] = knob(
        WIDTH_SCALES,
        "Peak-width multipliers (of the base sigma) a phase may take at a point.",
        low=0.1,
        high=20.0,
        kind="numbers",
    )
    pool_size: int = knob(
        8, "Candidate phases per point in the exhaustive subset search.", low=1, high=24, kind="integer"
    )
    rounds: int = knob(
        3, "Search rounds; later rounds add the neighbours' phases and the residual's.", low=1, high=50, kind="integer"
    )
    top_subsets: int = knob(
        6, "Best subsets per point improved by coordinate descent.", low=1, high=1000, kind="integer"
    )
    polish: int = knob(
        2,
        "Single moves (one phase less, more or swapped) that may improve each point's answer after a search round; "
        "0: off.",
        low=0,
        high=100,
        kind="integer",
    )
    polish_moves: int = knob(
        2, "Candidates per kind of polishing move given the final fit.", low=1, high=100, kind="integer"
    )
    sweeps: int = knob(2, "Coordinate-descent sweeps over the members of a subset.", low=0, high=100, kind="integer")
    group_top: int = knob(3, "Subsets per point given the final profile-family fit.", low=1, high=100, kind="integer")
    shape_offsets: tuple[int, ...] = knob(
        (-3, 0, 3),
        "Shift-grid offsets of a phase's profile family (inhomogeneous broadening, peak shapes).",
        low=-50,
        high=50,
        kind="integers",
    )
    penalty: float = knob(1e-5, "Cost of one more phase, relative to the pattern's squared norm.", low=0.0, high=1.0)
    noise_penalty: float = knob(
        8.0, "Cost of one more phase in units of the estimated noise variance.", low=0.0, high=1e6
    )
    one_card: bool = knob(
        False, "At most one of two cards of one compound that draw the same pattern (twins) per point.", kind="flag"
    )
    twin_regions: bool = knob(
        True,
        "One card of each twin pair per connected region of points holding them: the one whose use "
        "throughout costs the region less.",
        kind="flag",
    )
    min_peak_fraction: float = knob(
        0.1,
        "A phase must reach this fraction at some point to be kept anywhere (0: no library-wide pruning).",
        low=0.0,
        high=1.0,
    )
    min_region_points: int = knob(
        3, "... and hold more than 2 % at this many points.", low=0, high=10**9, kind="integer"
    )
    strict: bool = knob(
        True, "Make the connectivity repairs whatever they cost in fit, then enforce the rules exactly.", kind="flag"
    )
    composition_tolerance: float | None = knob(
        None,
        "Composition rule in the search (distance from the phases' cone); None: off.",
        low=0.0,
        high=10.0,
        kind="optional number",
    )
    composition_weight: float = knob(
        3.0,
        "Soft composition rule: cost, in per-phase costs, of a phase set whose compositions cannot make up the "
        "point's (reached at composition_scale); 0: off.",
        low=0.0,
        high=1e6,
    )
    composition_scale: float = knob(
        0.1,
        "Distance from the phases' composition cone at which the soft composition cost is full.",
        low=1e-4,
        high=10.0,
    )
    repair_rounds: int = knob(
        6,
        "Repeats of the repair sequence (connectivity, phase fields, alloying) at most.",
        low=0,
        high=100,
        kind="integer",
    )
    repair_tolerance: float = knob(
        0.002,
        "Relative energy a point may lose to a soft repair (shift smoothing always; the others when not strict).",
        low=0.0,
        high=1.0,
    )
    neighbour_discount: float = knob(
        0.8, "Share of a phase's cost waived when all the point's neighbours hold it.", low=0.0, high=1.0
    )
    shift_prior: float = knob(
        10.0,
        "Cost of a phase at a shift of max_shift, in per-phase costs (Gaussian prior on the lattice; "
        "scaled down with count_weights).",
        low=0.0,
        high=1e6,
    )
    misfit_penalty: float = knob(
        32.0,
        "Per-phase cost in units of the residual variance where the model limits the fit; 0: off.",
        low=0.0,
        high=1e6,
    )
    misfit_level: float = knob(0.2, "Median relative residual above which misfit_penalty applies.", low=0.0, high=10.0)
    shift_tolerance: float = knob(
        0.005, "Shift difference from the neighbours' median left alone (alloying).", low=0.0, high=1.0
    )
    alloy_tolerance: float = knob(
        SHIFT_TOLERANCE,
        "Shift jump inside a full phase field the exact alloying step removes (the audit's tolerance).",
        low=0.0,
        high=1.0,
    )
    threshold: float = knob(PHASE_THRESHOLD, "Fractions below this are dropped from the answer.", low=0.0, high=0.5)
    confidence: bool = knob(
        True, "Compute probabilities of presence, alternative phase sets and unexplained signal.", kind="flag"
    )
    presence_level: float = knob(
        CONFIDENCE_PRESENCE,
        "Fraction at or above which a phase counts as present for the probabilities and alternatives "
        "(the calibration map was fitted at 0.02).",
        low=0.0,
        high=1.0,
    )
    device: str = knob("auto", "'auto', 'cpu', 'cuda' or 'cuda:N'.", kind="any")
    seed: int = knob(
        0,
        "Seeds the network engine (weights, batch order); recorded with the answer (the search is deterministic).",
        low=0,
        high=2**63 - 1,
        kind="integer",
    )
    chunk_points: int = knob(128, "Points searched at once (bounds memory).", low=1, high=10**7, kind="integer")
    memory_budget_gb: float = knob(1.5, "Cache of rendered profiles, in GB.", low=0.0, high=1e4)
    background: str = knob(
        "auto", "'auto': remove a smooth background before the search; 'none'.", choices=("auto", "none"), kind="choice"
    )
    background_width: float = knob(12.0, "Width of the background filter in peak sigmas.", low=1.0, high=1e4)
    baseline_level: float = knob(
        0.005, "Share of the maximum above which the patterns' lowest tenth is a baseline.", low=0.0, high=1.0
    )
    engine: str = knob(
        ENGINES[0],
        "'search': the exact per-point search (default); 'network': DRNets' encoder network trained on the library.",
        choices=ENGINES,
        kind="choice",
    )
    net_epochs: int = knob(150, "Network engine: training passes over the library.", low=1, high=10**6, kind="integer")
    net_lr: float = knob(1e-3, "Network engine: Adam learning rate.", low=1e-7, high=1.0)
    net_hidden: int = knob(
        256, "Network engine: width of the encoder's hidden layers.", low=4, high=8192, kind="integer"
    )
    net_point_lr: float = knob(
        0.01,
        "Network engine: learning rate of each point's own shift and logit offsets (semi-amortised); 0: encoder only.",
        low=0.0,
        high=1.0,
    )
    net_batch: int = knob(64, "Network engine: points per gradient step.", low=1, high=10**7, kind="integer")
    net_candidates: int = knob(
        10,
        "Network engine: candidate phases per point (the best-screened allowed ones); 0: every allowed phase.",
        low=0,
        high=10**5,
        kind="integer",
    )
    net_refresh: int = knob(
        10,
        "Network engine: epochs between renewals of each point's candidates (neighbours' and residual's phases).",
        low=1,
        high=10**6,
        kind="integer",
    )
    net_activation: str = knob(
        "sparsemax",
        "Network engine: fractions by a masked 'softmax' or 'sparsemax' (exact zeros).",
        choices=("softmax", "sparsemax"),
        kind="choice",
    )
    net_dual_step: float = knob(
        0.1,
        "Network engine: step of each point's Gibbs multiplier per unit of excess (after a quarter of the run).",
        low=0.0,
        high=1e6,
    )
    net_entropy: float = knob(
        1e-3, "Network engine: weight of the fractions' entropy (sparsity), reached half-way.", low=0.0, high=1e6
    )
    net_alloying: float = knob(
        0.1, "Network engine: weight of shift changes along edges where both ends hold a phase.", low=0.0, high=1e6
    )
    net_smoothness: float = knob(
        1e-3, "Network engine: weight of fraction changes along edges (connected regions).", low=0.0, high=1e6
    )
    net_composition: float = knob(
        0.0, "Network engine: weight of the composition mismatch of the phases' mixture.", low=0.0, high=1e6
    )
    net_cutoff: float = knob(
        0.01, "Network engine: fraction a candidate needs in the network's answer to be kept.", low=0.0, high=1.0
    )
    net_checkpoint_every: int = knob(
        10, "Network engine: epochs between checkpoints (and history entries).", low=1, high=10**6, kind="integer"
    )
    checkpoint: str | Path | None = knob(
        None, "File (.npz) where each finished round is saved, for resume.", kind="path", record=False
    )
    verbose: bool = knob(False, "Print one line per stage.", kind="flag")
    workers: int = knob(
        0,
        "Ray workers that search the library's tiles in parallel (same answer); 0: no Ray, this process alone.",
        low=0,
        high=10**6,
        kind="integer",
    )
    ray_address: str | None = knob(
        None, "A running Ray cluster to search on ('auto', 'host:port'); None: a local one.", kind="any", record=False
    )
    tile_memory_gb: float = knob(
        0.5, "Ray: a tile's data on a worker, in GB at most (bigger tiles are split).", low=1e-6, high=1e4
    )

    @classmethod
    def _knobs(cls) -> list[Any]:
        return [f for f in fields(cls) if "doc" in f.metadata]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, as scikit-learn's estimators give them (``deep`` is accepted, unused)."""
        return {f.name: getattr(self, f.name) for f in self._knobs()}

    def set_params(self, **params: Any) -> Params:
        """Set parameters by name (unknown names are an error); returns self."""
        known = {f.name for f in self._knobs()}
        for name, value in params.items():
            if name not in known:
                raise InputError(f"unknown parameter {name!r}", where="set_params")
            setattr(self, name, value)
        return self

    def validate(self) -> None:
        """Check every parameter against its bounds (an InputError names the first bad one);
        sequences are stored as tuples."""
        for f in self._knobs():
            setattr(self, f.name, _check(f.name, getattr(self, f.name), dict(f.metadata)))
        if self.shift_step is not None and self.shift_step > self.max_shift:
            raise InputError(
                f"must not exceed max_shift ({self.max_shift}), got {self.shift_step}", where="parameter shift_step"
            )

    def recorded(self) -> dict[str, Any]:
        """The parameters that go into a run's metadata (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in self._knobs() if f.metadata["record"]}


def parameter_table() -> str:
    """The table as numpydoc ``Parameters`` text (name : default; bounds; the line of doc)."""
    lines = []
    for f in Params._knobs():
        m = f.metadata
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        if m["choices"]:
            bounds = "one of " + ", ".join(map(repr, m["choices"]))
        elif m["low"] is not None or m["high"] is not None:
            bounds = f"in [{m['low']}, {m['high']}]"
        else:
            bounds = ""
        lines.append(f"{f.name} : {f.type}, default {default!r}")
        lines.append(f"    {m['doc']}" + (f" ({bounds})" if bounds else ""))
    return "\n".join(lines)
