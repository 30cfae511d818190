"""The solve stage does not reach sideways: no report, no command-line code."""

from __future__ import annotations

import ast
from pathlib import Path

import drnets.solve

FORBIDDEN = ("drnets.report", "drnets.cli", "drnets.evaluate._cli", "drnets._demo", "drnets._solve_command")


def _imports(source: str) -> set[str]:
    """Absolute names of everything a solve module imports (relative imports resolved against drnets.solve)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "drnets.solve".rsplit(".", node.level - 1)[0] if node.level else ""
            mod = ".".join(p for p in (base, node.module or "") if p)
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)
    return names


def test_solve_imports_no_report_and_no_cli():
    folder = Path(drnets.solve.__file__).parent
    for path in sorted(folder.glob("*.py")):
        bad = sorted(n for n in _imports(path.read_text(encoding="utf-8")) if n.startswith(FORBIDDEN))
        assert not bad, f"{path.name} imports {bad}"


def test_the_check_sees_relative_imports():
    src = "from ..report import make_report\nfrom ..evaluate._cli import print_comparison\nfrom ._render import x\n"
    names = _imports(src)
    assert "drnets.report.make_report" in names and "drnets.evaluate._cli" in names and "drnets.solve._render" in names
