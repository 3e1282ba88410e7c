"""Anonymised periodic reports: indicators, disclosure control, published (frozen) reports and exports."""
