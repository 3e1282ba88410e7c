"""Runs wrk against one endpoint of the bench server (through load_wrk.lua) and reads back its figures."""
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "load_wrk.lua"
WRK_TIMEOUT = "60s"  # wrk's default (2 s) would count a slow answer as an error and leave it out of the latencies
_RESULT = re.compile(r"^LOAD_RESULT (.*)$", re.MULTILINE)


@dataclass
class Target:
    """What one table row measures: requests replayed in rotation, all expected to answer `expect`."""

    name: str
    user: str
    expect: int = 200
    requests: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: str, cookie: str | None = None, method: str = "GET", body: str | None = None) -> None:
        self.requests.append({"method": method, "path": path, "cookie": cookie, "body": body})


@dataclass
class Figures:
    """One wrk run: latency in milliseconds, requests per second, and the requests that went wrong."""

    requests: int
    requests_per_second: float
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # answered with another status than expected, or no answer (connect/read/write error, timeout)


def _lua_string(value: str) -> str:
    if not (value.isascii() and value.isprintable()):
        raise ValueError(f"not printable ASCII, cannot go into the wrk script: {value[:40]!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_target(target: Target) -> str:
    """The target as a Lua file returning a table, read by load_wrk.lua's init()."""
    rows = []
    for item in target.requests:
        fields = ", ".join(f"{key} = {_lua_string(value)}" for key, value in item.items() if value is not None)
        rows.append(f"  {{{fields}}},")
    return (f"return {{expect = {target.expect}, requests = {{\n"
            + "\n".join(rows) + "\n}}\n")


def _figures(output: str) -> Figures:
    match = _RESULT.search(output)
    if match is None:
        raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")
    values = {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
    errors = sum(values[key] for key in ("unexpected", "connect", "read", "write", "timeout"))
    return Figures(requests=values["requests"], requests_per_second=values["requests"] / values["duration_us"] * 1e6,
                   median_ms=values["p50_us"] / 1000, p95_ms=values["p95_us"] / 1000, p99_ms=values["p99_us"] / 1000,
                   max_ms=values["max_us"] / 1000, errors=errors)


def run_wrk(base_url: str, target: Target, seconds: int, connections: int) -> Figures:
    """Drive `target` for `seconds` at `connections` open connections (closed loop: one request at a time each)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", prefix="bench-load-target-", suffix=".lua") as target_file:
        target_file.write(lua_target(target))
        target_file.flush()
        command = [wrk, "--threads", str(min(2, connections)), "--connections", str(connections),
                   "--duration", f"{seconds}s", "--timeout", WRK_TIMEOUT, "--script", str(LUA_SCRIPT),
                   base_url, "--", target_file.name]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    return _figures(finished.stdout)
