"""Judging answers: exact rule audits, comparisons with a truth, reconstruction errors."""

from ..core.constants import COMPARISON_THRESHOLDS, RULES

# The phase-table CSV lives in drnets.io; these names stay here for existing callers.
from ..io import PhaseTable, read_fractions_csv, read_phase_table, read_shifts_csv, write_phase_table
from ._audit import audit, audit_solution, audit_summary
from ._calibration import CALIBRATION_BINS, calibration_error, isotonic_fit, reliability
from ._metrics import as_phase_table, compare, reconstruction_errors, reconstruction_summary

__all__ = [
    "RULES",
    "COMPARISON_THRESHOLDS",
    "PhaseTable",
    "CALIBRATION_BINS",
    "as_phase_table",
    "audit",
    "audit_solution",
    "audit_summary",
    "calibration_error",
    "compare",
    "isotonic_fit",
    "read_fractions_csv",
    "read_phase_table",
    "read_shifts_csv",
    "reconstruction_errors",
    "reconstruction_summary",
    "reliability",
    "write_phase_table",
]
