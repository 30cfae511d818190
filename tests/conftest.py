"""Shared fixtures: the benchmark libraries in ../shared/data (skipped where absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data, skipping the test when the data is not beside the checkout."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared benchmark data not found at {p} (expected ../shared/data beside the checkout)")
    return p


@pytest.fixture(scope="session")
def alfe_instance():
    from drnets.io import load

    return load(shared_path("al-li-fe", "instance.txt"), phases=shared_path("al-li-fe", "sticks.csv"))


@pytest.fixture(scope="session")
def bicuv_instance():
    from drnets.io import load

    return load(shared_path("bi-cu-v", "instance.txt"), phases=shared_path("bi-cu-v", "sticks.csv"))


@pytest.fixture(autouse=True, scope="session")
def _cif_cache_in_tmp(tmp_path_factory):
    """Converted CIFs go to a temporary cache, never the user's."""
    import os

    old = os.environ.get("DRNETS_CACHE_DIR")
    os.environ["DRNETS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cif-cache"))
    yield
    if old is None:
        os.environ.pop("DRNETS_CACHE_DIR", None)
    else:
        os.environ["DRNETS_CACHE_DIR"] = old
