"""The generator's second core: a forked process makes the chunks ahead while this one writes them.

The process starts from the state the tables were in and carries it from chunk to chunk, so each chunk it hands
over is right as long as nobody else writes meanwhile; the writer checks that before writing and, when someone
did, stops the process and makes the rest itself (`run.generate`).
"""
import multiprocessing
import queue
import sys
import traceback
from collections.abc import Callable, Sequence

from flask import Flask, current_app

from caseapp.extensions import db
from caseapp.generate.records import State
from caseapp.generate.writer import Prepared

Make = Callable[[Sequence, State], Prepared]  # (plans of one chunk, state) → the chunk, prepared
AHEAD = 2  # chunks made ahead at most (memory)
POLL_SECONDS = 5


class PipelineError(RuntimeError):
    """The process making chunks failed."""


def available() -> bool:
    """Whether a process can be forked here (Linux; elsewhere the chunks are made in this process)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _work(app: Flask, make: Make, slices: list[Sequence], state: State, out: multiprocessing.Queue) -> None:
    """In the forked process: make every chunk in order and hand it over, or hand over the error."""
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections are the parent's: never used, never closed here
        try:
            for plans in slices:
                prepared = make(plans, state)
                out.put(prepared)
                state = prepared.end
        except Exception:  # noqa: BLE001 - anything: the writer reports it
            out.put(traceback.format_exc())


class Ahead:
    """Chunks made in a forked process, in order."""

    def __init__(self, make: Make, slices: list[Sequence], state: State):
        context = multiprocessing.get_context("fork")
        self.queue = context.Queue(maxsize=AHEAD)
        self.process = context.Process(target=_work, daemon=True, args=(
            current_app._get_current_object(), make, slices, state, self.queue))
        self.process.start()

    def next(self) -> Prepared:
        """The next chunk, waiting for it; PipelineError if the process failed or died."""
        while True:
            try:
                item = self.queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self.process.is_alive():
                    raise PipelineError(f"the process making chunks ended (exit code {self.process.exitcode})")
                continue
            if isinstance(item, str):
                raise PipelineError(f"the process making chunks failed:\n{item}")
            return item

    def stop(self) -> None:
        """End the process (at the end of the run, or when its chunks no longer fit the tables)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.queue.close()
        self.queue.cancel_join_thread()
