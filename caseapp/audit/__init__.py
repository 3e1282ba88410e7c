"""Audit trail of who did what to which record."""
