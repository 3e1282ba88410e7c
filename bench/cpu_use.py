"""CPU time spent by the app server's processes and by the database's server processes, read from /proc.

Per request, it is what a page costs, whatever else the machine does at the time: on a shared machine, requests/s
and latencies move by ±30 % between runs of the same code, the CPU time per request much less. Only a database on
this machine is counted (its backends are found by the database name in their process title); SQLite works inside
the app's processes.
"""
import os
from collections.abc import Callable
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime and stime, fields 14 and 15 of stat


def database_pids(database: str | None) -> list[int]:
    """PostgreSQL's backends serving `database` on this machine ("postgres: ... <user> <database> <client> ...")."""
    if not database:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds of the app server and of the database between `start` and `stop`."""

    def __init__(self, app_pids: Callable[[], list[int]], database: str | None):
        self.app_pids, self.database = app_pids, database
        self.before: dict[int, float] = {}

    def _now(self) -> dict[int, float]:
        readings = {pid: cpu_seconds(pid) for pid in [*self.app_pids(), *database_pids(self.database)]}
        return {pid: seconds for pid, seconds in readings.items() if seconds is not None}

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> tuple[float, float]:
        """(app seconds, database seconds) since `start`; a process started meanwhile counts from zero."""
        after, app = self._now(), set(self.app_pids())
        spent = {pid: seconds - self.before.get(pid, 0.0) for pid, seconds in after.items()}
        return (sum(value for pid, value in spent.items() if pid in app),
                sum(value for pid, value in spent.items() if pid not in app))
