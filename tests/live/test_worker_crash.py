"""A worker that dies of a crash in native code leaves the Python stack of its threads in the server's log
(gunicorn.conf.py enables faulthandler), and the server goes on answering with a new worker."""
import os
import signal
import time

from tests.live.client import Browser


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_crashed_worker_leaves_its_stack_in_the_log_and_is_replaced(app_servers):
    server = app_servers.servers[0]
    workers = server.pids()[1:]
    os.kill(workers[0], signal.SIGSEGV)

    assert _wait_for(lambda: "was sent SIGSEGV" in server.log()), server.log()[-2000:]
    log = server.log()
    assert "Fatal Python error: Segmentation fault" in log
    assert "most recent call first" in log  # the threads' Python stacks
    assert _wait_for(lambda: len(server.pids()[1:]) == len(workers) and workers[0] not in server.pids())
    assert Browser(server.url).get("/health/live").status == 200
    failures = app_servers.new_failures()[server.url]  # reported as a failure (and so by bench/load.py)
    assert any("was sent SIGSEGV" in line for line in failures)
