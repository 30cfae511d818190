"""Judging answers: exact rule audits, comparisons with a truth, reconstruction errors."""

from ._audit import RULES, audit, audit_solution, audit_summary
from ._metrics import (
    THRESHOLDS,
    PhaseTable,
    as_phase_table,
    compare,
    read_fractions_csv,
    read_phase_table,
    read_shifts_csv,
    reconstruction_errors,
    write_phase_table,
)

__all__ = [
    "RULES",
    "THRESHOLDS",
    "PhaseTable",
    "as_phase_table",
    "audit",
    "audit_solution",
    "audit_summary",
    "compare",
    "read_fractions_csv",
    "read_phase_table",
    "read_shifts_csv",
    "reconstruction_errors",
    "write_phase_table",
]
