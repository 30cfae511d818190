"""A cache of CIF files converted to sticks, keyed by content: the user's cache folder, never an input folder.

Computing a powder pattern from a structure costs tens of milliseconds per CIF; a folder of
candidate CIFs is read again at every solve. Each conversion is stored under the SHA-256 of
the file's bytes, the wavelength, the 2θ range, pymatgen's version and this cache's format,
so that an edited file, another wavelength or another pymatgen never reads a stale entry.

The folder is ``$DRNETS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/drnets/cif`` (or
``~/.cache/drnets/cif``; ``%LOCALAPPDATA%\\drnets\\cif`` on Windows). A cache that cannot be
written is skipped silently: it only saves time.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when what an entry holds changes: older entries are then never read.
CACHE_FORMAT = 1


def cache_dir() -> Path:
    """The folder holding converted CIFs (see the module doc)."""
    env = os.environ.get("DRNETS_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "drnets" / "cif"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drnets" / "cif"


def cache_key(content: bytes, wavelength: float, tt_range: tuple[float, float] | None, version: str) -> str:
    """The entry's name: a hash of everything the conversion depends on."""
    h = hashlib.sha256(content)
    h.update(repr((float(wavelength), tt_range, version, CACHE_FORMAT)).encode())
    return h.hexdigest()


def load_entry(key: str) -> dict[str, Any] | None:
    """The cached conversion, or None when absent or unreadable."""
    path = cache_dir() / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError):
        return None


def store_entry(key: str, entry: dict[str, Any]) -> None:
    """Write an entry atomically (a temporary file renamed); skipped when the folder is not writable."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entry)
        os.replace(tmp, folder / f"{key}.npz")
    except OSError:
        pass
