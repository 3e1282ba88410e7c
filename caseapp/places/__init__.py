"""Regions, provinces, communes and service points."""
