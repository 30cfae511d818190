"""Judging answers: exact rule audits, comparisons with a truth, reconstruction errors."""

from ._audit import RULES, audit, audit_solution, audit_summary

__all__ = ["RULES", "audit", "audit_solution", "audit_summary"]
