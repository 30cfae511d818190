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
