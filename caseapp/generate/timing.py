"""Moments of a generated history: steps spaced by typical delays, squeezed to end before a limit."""
import random
from datetime import datetime, timedelta


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment drawn uniformly from [start, end] (start itself when the interval is empty)."""
    return start + max(end - start, timedelta(0)) * rng.random()


def spread(start: datetime, gaps_days: list[float], limit: datetime) -> list[datetime]:
    """The moments after `start` separated by `gaps_days`, all squeezed in proportion to fall before `limit`."""
    room = max((limit - start).total_seconds(), 0) / 86400 * 0.98
    total = sum(gaps_days)
    factor = min(1.0, room / total) if total else 1.0
    moments, moment = [], start
    for gap in gaps_days:
        moment += timedelta(days=gap * factor)
        moments.append(moment)
    return moments
