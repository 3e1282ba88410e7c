"""gunicorn settings for caseapp (`gunicorn -c gunicorn.conf.py`); each can be changed with a CASEAPP_ variable.

Worker class: gthread. On PostgreSQL a request spends much of its time waiting on the database, and with
threads a worker keeps serving while one waits, so a few processes (memory: ~120 MB each) cover many concurrent
requests; it also keeps connections from nginx alive (the sync worker closes each one). CPU work (templates,
argon2) is bounded by the GIL per process, hence processes per core as well. Every thread holds at most two
database connections (its request, and the rate-limit counter's short transaction); SQLAlchemy's pool (5 + 10
overflow per process) covers the default 4 threads. On SQLite, one thread per worker (see `threads`).
"""
import faulthandler
import multiprocessing
import os

# A worker killed by a crash in native code (gunicorn logs "Worker (pid:N) was sent SIGSEGV!") writes the Python
# stack of each thread to the error log first; the handler is set here, in the master, and forked workers keep it.
faulthandler.enable()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


wsgi_app = "wsgi:app"
bind = os.environ.get("CASEAPP_BIND", "127.0.0.1:8000").split(",")  # loopback: nginx in front, never exposed
# 2 × cores + 1, capped: past that, processes only compete for the same cores and database connections.
workers = _int("CASEAPP_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "gthread"
# SQLite has one writer at a time, and nearly every request writes (an audit event at least): there, requests
# beyond one per worker would only wait for its lock, and may give up after the busy timeout (10 s). With one
# thread they wait in the listen queue instead, which has no timeout. PostgreSQL: 4 threads per worker.
_SQLITE = os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite")
threads = _int("CASEAPP_THREADS", 1 if _SQLITE else 4)
# A worker that has not checked in with the master for this many seconds (hung, not merely busy: its threads
# check in between requests) is killed and replaced.
timeout = _int("CASEAPP_TIMEOUT", 60)
graceful_timeout = _int("CASEAPP_GRACEFUL_TIMEOUT", 30)  # on restart, requests in flight may finish
keepalive = _int("CASEAPP_KEEPALIVE", 5)  # seconds; nginx's upstream keepalive_timeout must be lower
# Recycle a worker after about this many requests, so slow leaks cannot accumulate (the jitter keeps the workers
# from restarting all at once). Off by default: imports run in a thread of a worker, and a recycled worker would
# cut them short (their batch then has to be rolled back by hand).
max_requests = _int("CASEAPP_MAX_REQUESTS", 0)
max_requests_jitter = _int("CASEAPP_MAX_REQUESTS_JITTER", 200)
# The proxies whose X-Forwarded-Proto gunicorn believes (the app itself trusts CASEAPP_PROXIES hops).
forwarded_allow_ips = os.environ.get("CASEAPP_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
limit_request_line = 8190
# Access log: path without the query string (filters and searches may carry a person's name), no referrer
# (it carries the previous page's query string) — client, time, method, path, status, size, duration in µs.
accesslog = os.environ.get("CASEAPP_ACCESS_LOG", "-") or None
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)s "%(a)s"'
errorlog = os.environ.get("CASEAPP_ERROR_LOG", "-")
loglevel = os.environ.get("CASEAPP_LOG_LEVEL", "info")
proc_name = "caseapp"
# gunicorn's control socket (for gunicornc) only when asked for, at a path of this instance's own: the default
# path is per user, and two instances on one machine would take it from each other.
control_socket = os.environ.get("CASEAPP_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
# Load the app once in the master, so a broken configuration (keys, secret, rate limits) stops the start
# instead of looping workers, and the workers share its memory. The master opens no database connection
# that a worker could inherit. A code change needs a restart (systemctl restart), not a HUP.
preload_app = True
