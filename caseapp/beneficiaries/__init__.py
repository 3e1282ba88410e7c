"""Beneficiaries: registration, identity, household, flags and consent."""
