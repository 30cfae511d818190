"""The checkpoint: the search state after each finished round, for a resume.

A checkpoint carries a fingerprint of everything that changes the answer (patterns, Q
grid, compositions, candidate phases, mask, limits, parameters), so that a resume with
other inputs is refused instead of silently continuing a different problem.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core import InputError, Library, PhaseLibrary
from ..io import atomic_path
from ._phase_texture import PhaseTexture
from ._state import State


def fingerprint(
    library: Library, phases: PhaseLibrary, allowed: np.ndarray, limits: np.ndarray, parameters: dict[str, Any]
) -> str:
    """A hash of what the answer depends on (hex digest)."""
    h = hashlib.sha256()
    for a in (library.q, library.patterns, library.compositions, allowed, limits):
        arr = np.ascontiguousarray(a)
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(arr.tobytes())
    for ph in phases:
        h.update(ph.label.encode() + b"\0" + str(ph.formula).encode() + b"\0")
        h.update(np.ascontiguousarray(ph.q, dtype=float).tobytes())
        h.update(np.ascontiguousarray(ph.intensity, dtype=float).tobytes())
    h.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    return h.hexdigest()


def save_checkpoint(
    path: Path,
    state: State,
    keep: np.ndarray,
    rounds_done: int,
    print_: str,
    pen: np.ndarray,
    texture: PhaseTexture | None = None,
) -> None:
    """Write the search state atomically (temporary file, then rename), with the phases'
    texture where one was estimated."""
    tex = {}
    if texture is not None:
        ph = np.array(sorted(texture.axis), dtype=np.int64)
        tex = {
            "texture_phases": ph,
            "texture_axis": np.array([texture.axis[int(p)] for p in ph], dtype=np.int64),
            "texture_factors": np.stack([texture.factors[int(p)] for p in ph]),
            "texture_level": texture.level,
        }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            fingerprint=np.array(print_),
            keep=keep,
            rounds_done=rounds_done,
            pen=pen,
            **tex,
            **{name: getattr(state, name) for name in State.FIELDS},
        )


def load_checkpoint(path: Path, print_: str) -> tuple[State, np.ndarray, int, np.ndarray, PhaseTexture | None]:
    """(state, kept phases, rounds done, per-phase costs, the phases' texture or None) of a
    checkpoint made for this problem."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "fingerprint" not in z.files or str(z["fingerprint"]) != print_:
                raise InputError(
                    "the checkpoint was made with another library, phase list, mask or parameters; "
                    "delete it or run without --resume",
                    source=str(path),
                )
            state = State(**{name: z[name].copy() for name in State.FIELDS})
            texture = None
            if "texture_phases" in z.files:
                ph = [int(p) for p in z["texture_phases"]]
                texture = PhaseTexture(
                    axis={p: int(a) for p, a in zip(ph, z["texture_axis"])},
                    factors={p: f.copy() for p, f in zip(ph, z["texture_factors"])},
                    level=z["texture_level"].copy(),
                )
            return state, z["keep"].copy(), int(z["rounds_done"]), z["pen"].copy(), texture
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"unreadable checkpoint ({err})", source=str(path)) from None
