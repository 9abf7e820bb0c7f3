"""Test helpers for edit lists: an executor that holds renders until a test lets them go (so a
sub-job can be looked at while it renders), and a planner that records no shots (as before they
were recorded), to compare against."""

from __future__ import annotations

import threading
from concurrent.futures import Future

__all__ = ["forget_shots", "HeldExecutor"]


def forget_shots(engine) -> None:
    """Make ``engine``'s planner leave ``used["Shots"]`` out, as it did before it recorded them."""
    planner = engine.runner.planner
    real = planner.plan

    def plan(params, paths, **kw):
        tasks = real(params, paths, **kw)
        for task in tasks:
            task.used.pop("Shots", None)
        return tasks

    planner.plan = plan


class HeldExecutor:
    """Renders on ``inner`` once ``release()`` is called; until then every task waits."""

    def __init__(self, inner):
        self.inner = inner
        self.gate = threading.Event()

    def submit(self, task: dict, caller: str = "") -> Future:
        future: Future = Future()

        def run():
            self.gate.wait()
            try:
                future.set_result(self.inner.submit(task, caller).result())
            except BaseException as error:  # the render's own error, passed on as the pool would
                future.set_exception(error)

        threading.Thread(target=run, daemon=True).start()
        return future

    def release(self) -> None:
        self.gate.set()

    def shutdown(self) -> None:
        self.gate.set()
        self.inner.shutdown()
