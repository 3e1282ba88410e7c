"""Start and stop K real app servers: gunicorn with the repository's gunicorn.conf.py, on loopback, one database.

Each server is a gunicorn master (and its workers) started as in production (CASEAPP_ENV=production, keys and
secret from the environment) with the test-suite's fixed secret and keys, so the test process can read what
the servers wrote. Each binds 127.0.0.1:0 and the port is read from its log, so two servers never race for a
port. Their output goes to a file per server, shown when something fails.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from caseapp.config import ROOT, TestConfig

GUNICORN = Path(sys.executable).with_name("gunicorn")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 40.0  # above gunicorn.conf.py's graceful timeout
# Signs of a failed request or worker in a server's log.
FAILURE_MARKS = ("Traceback", "unhandled error", "WORKER TIMEOUT", "[ERROR]", "[CRITICAL]", "was sent SIG",
                 "Fatal Python error")  # the last two: a worker killed by a signal (a crash in native code)


def server_environment(database_url: str, instance: Path, **overrides: str) -> dict[str, str]:
    """The environment of an app server: production settings with the test-suite's secret, keys and costs."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CASEAPP_", "ARGON2_", "GUNICORN")) and name not in ("SECRET_KEY", "DATABASE_URL")}
    env.update({
        "CASEAPP_ENV": "production", "SECRET_KEY": TestConfig.SECRET_KEY, "DATABASE_URL": database_url,
        "CASEAPP_ENCRYPTION_KEYS": TestConfig.ENCRYPTION_KEYS, "CASEAPP_BLIND_INDEX_KEY": TestConfig.BLIND_INDEX_KEY,
        # The passwords of the test accounts were hashed with these costs: the same here, so no login rehashes.
        "ARGON2_TIME_COST": str(TestConfig.ARGON2_TIME_COST), "ARGON2_MEMORY_COST": str(TestConfig.ARGON2_MEMORY_COST),
        "ARGON2_PARALLELISM": str(TestConfig.ARGON2_PARALLELISM),
        "CASEAPP_INSTANCE": str(instance), "CASEAPP_BIND": "127.0.0.1:0", "CASEAPP_WORKERS": "2",
        "CASEAPP_ACCESS_LOG": "",  # threads: gunicorn.conf.py's default for the database (1 on SQLite, 4 otherwise)
        # Every virtual user logs in from 127.0.0.1: the shared store still counts each attempt.
        "CASEAPP_LOGIN_RATE_LIMIT": "1000/5min", "CASEAPP_RATE_LIMIT_STORE": "database",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


@dataclass
class AppServer:
    """One gunicorn master started by `AppServers`."""

    process: subprocess.Popen
    log_path: Path
    url: str = ""
    _seen: int = 0  # length of the log already looked at by new_failures()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def new_failures(self) -> list[str]:
        """Lines of the log that tell of a failed request or worker, written since the last call."""
        log = self.log()
        fresh, self._seen = log[self._seen:], len(log)
        return [line for line in fresh.splitlines() if any(mark in line for mark in FAILURE_MARKS)]

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *_children(self.process.pid)]

    def rss_kib(self) -> int:
        """Resident memory of the master and its workers, in KiB."""
        return sum(_rss_kib(pid) for pid in self.pids())


@dataclass
class AppServers:
    """K app servers on one database: `with AppServers(2, url, folder) as servers: servers.urls ...`."""

    count: int
    database_url: str
    folder: Path
    overrides: dict[str, str] = field(default_factory=dict)
    servers: list[AppServer] = field(default_factory=list)
    app_module: str | None = None  # another WSGI app than gunicorn.conf.py's (bench/reference_app.py)

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def start(self) -> "AppServers":
        self.folder.mkdir(parents=True, exist_ok=True)
        env = server_environment(self.database_url, self.folder / "instance", **self.overrides)
        for index in range(self.count):
            log_path = self.folder / f"server-{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py",
                                            *([self.app_module] if self.app_module else [])], cwd=ROOT, env=env,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.servers.append(AppServer(process, log_path))
        try:
            for server in self.servers:
                server.url = _wait_until_live(server)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Graceful stop (TERM), then KILL of what is left of each server's process group."""
        for server in self.servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in self.servers:
            try:
                server.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait(timeout=STOP_TIMEOUT)

    def new_failures(self) -> dict[str, list[str]]:
        """Server URL → failure lines logged since the last call (servers with none are left out)."""
        found = {server.url: server.new_failures() for server in self.servers}
        return {url: lines for url, lines in found.items() if lines}

    def logs(self) -> str:
        return "\n".join(f"--- {server.log_path.name} ({server.url})\n{server.log()[-4000:]}" for server in self.servers)

    def __enter__(self) -> "AppServers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_until_live(server: AppServer) -> str:
    """The server's base URL once /health/live answers 200; RuntimeError (with its log) if it never does."""
    deadline = time.monotonic() + START_TIMEOUT
    url = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        if not url and (match := LISTENING.search(server.log())):
            url = f"http://127.0.0.1:{match.group(1)}"
        if url and _answers(url + "/health/live"):
            return url
        time.sleep(0.2)
    raise RuntimeError(f"app server did not start (exit code {server.process.poll()}):\n{server.log()[-4000:]}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL built above
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _rss_kib(pid: int) -> int:
    """Resident memory of one process in KiB (psutil when installed, else /proc); 0 once it has ended."""
    try:
        import psutil
    except ImportError:
        return _proc_rss_kib(pid)
    try:
        return psutil.Process(pid).memory_info().rss // 1024
    except psutil.Error:
        return 0


def _proc_rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
