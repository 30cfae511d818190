"""The ``drnets`` commands of the report stage."""

from __future__ import annotations

import typer
from rich.console import Console


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add this stage's commands to the ``drnets`` app."""
