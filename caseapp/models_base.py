"""Small column helpers shared by the feature models."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)
