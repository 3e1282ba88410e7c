"""bench/cpu_use.py: the CPU time a benchmark row charges to the app server and to the database."""
import importlib.util
import os
from pathlib import Path

spec = importlib.util.spec_from_file_location("cpu_use", Path(__file__).parents[2] / "bench" / "cpu_use.py")
cpu_use = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cpu_use)


def _busy(seconds: float) -> None:
    until = os.times().user + seconds
    while os.times().user < until:
        sum(range(1000))


def test_the_meter_charges_the_work_done_between_start_and_stop_to_its_processes():
    meter = cpu_use.CpuMeter(lambda: [os.getpid()], database="no-such-database-here")
    meter.start()
    _busy(0.3)
    app, database = meter.stop()
    assert 0.25 <= app <= 2.0
    assert database == 0.0  # no server process names that database
    assert cpu_use.cpu_seconds(2**22 + 12345) is None  # no such process


def test_database_backends_are_found_by_their_process_title(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    for pid, title in {"101": b"postgres: 15/main: app caseapp 127.0.0.1(5000) idle\0",
                       "102": b"postgres: 15/main: app other 127.0.0.1(5001) idle\0",
                       "103": b"postgres: 15/main: checkpointer \0", "104": b"python\0bench/load.py\0"}.items():
        (proc / pid).mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes(title)
    (proc / "self").mkdir()
    real_path = cpu_use.Path
    monkeypatch.setattr(cpu_use, "Path", lambda name: real_path(str(proc)) if name == "/proc" else real_path(name))
    assert cpu_use.database_pids("caseapp") == [101]
    assert cpu_use.database_pids(None) == []
