"""Checks of command-line values that the option types alone do not make.

Each returns the value (normalised) or raises an :class:`InputError` that names the option,
so that a bad value stops the command in one line before anything is read or written.
"""

from __future__ import annotations

from .core import InputError

#: ``--device`` values (``cuda:N`` too).
DEVICES = ("auto", "cpu", "cuda")

#: The largest seed: a 64-bit signed integer, the range the solver records and torch takes.
MAX_SEED = 2**63 - 1


def check_device(device: str) -> str:
    """The ``--device`` value, lower-cased; an :class:`InputError` names the option when it is unknown."""
    d = str(device).strip().lower()
    if d in DEVICES or (d.startswith("cuda:") and d[5:].isdigit()):
        return d
    raise InputError(f"unknown device {device!r} (use auto, cpu or cuda)", where="--device")


def check_seed(seed: int) -> int:
    """The ``--seed`` value when it lies in 0 .. 2**63-1; an :class:`InputError` otherwise."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"must be an integer from 0 to {MAX_SEED} (2**63-1), got {seed}", where="--seed")
    return int(seed)


def check_engine(engine: str) -> str:
    """The ``--engine`` value, lower-cased; an :class:`InputError` names the option when it is unknown."""
    from .solve._params import ENGINES

    e = str(engine).strip().lower()
    if e in ENGINES:
        return e
    raise InputError(f"unknown engine {engine!r} (use {' or '.join(ENGINES)})", where="--engine")


#: Bounds of a synthetic library from the command line (``synth``, ``demo``): beyond them the
#: patterns alone (points × Q points × 8 bytes) outgrow a workstation's memory.
MAX_SYNTH_POINTS = 1_000_000
MAX_SYNTH_Q_POINTS = 100_000
MAX_SYNTH_VALUES = 500_000_000


def check_synth_size(
    points: int | None, q_points: int | None, defaults: tuple[int, int] = (1, 2)
) -> tuple[int | None, int | None]:
    """``--points`` and ``--q-points`` of a synthetic library (None: the preset's ``defaults``), within the bounds."""
    if points is not None and not 1 <= points <= MAX_SYNTH_POINTS:
        raise InputError(f"must be from 1 to {MAX_SYNTH_POINTS}, got {points}", where="--points")
    if q_points is not None and not 2 <= q_points <= MAX_SYNTH_Q_POINTS:
        raise InputError(f"must be from 2 to {MAX_SYNTH_Q_POINTS}, got {q_points}", where="--q-points")
    n, q = points or defaults[0], q_points or defaults[1]
    if n * q > MAX_SYNTH_VALUES:
        raise InputError(
            f"{n} points × {q} Q points is more than {MAX_SYNTH_VALUES:.0e} pattern values", where="--points"
        )
    return points, q_points


#: The generator's names for what ``synth`` and ``demo`` options set.
SYNTH_OPTIONS = ("preset", "points", "q_points", "system", "sampling")


def as_synth_option(err: InputError) -> InputError:
    """The generator's error with the option's name where it names one of :data:`SYNTH_OPTIONS`."""
    if err.where in SYNTH_OPTIONS:
        return InputError(err.problem, source=err.source, where="--" + err.where.replace("_", "-"))
    return err


def check_thresholds(values: list[float]) -> tuple[float, ...]:
    """``--threshold`` values: fractions in [0, 1)."""
    for v in values:
        if not 0.0 <= v < 1.0:  # NaN fails too
            raise InputError(f"must be a fraction from 0 to below 1, got {v}", where="--threshold")
    return tuple(values)
