"""A thread pool that is fair between callers (AccessKey ids): one FIFO queue per caller, so a
caller with a hundred queued tasks delays another caller's one task by the tasks already running,
never by the hundred.

The order is deterministic: a free thread takes the oldest task of the caller served least
recently (a caller never served first; among those, the one that queued first). Callers with
work all the time are thus served round-robin, and a caller who comes with one task goes next.
``per_caller`` caps how many tasks of one caller run at once — for tasks that mostly wait
(planning waits for speech lines), so that one caller's waiting tasks cannot hold every thread.
``nice`` lowers the priority of the pool's threads (and of the threads they start, such as
onnxruntime's), so heavy work such as speech yields the CPU to the engine's API as renders do.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["FairPool"]


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value by ``nice``: on Linux a thread has its own, and the threads it
    starts inherit it (elsewhere the call would change the whole process, so nothing is done)."""
    if nice and sys.platform == "linux":
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
        except OSError:  # a sandbox that forbids it: the work runs, only at the usual priority
            pass


_LIVE: weakref.WeakSet = weakref.WeakSet()  # pools whose threads may still run a task


@atexit.register
def _end_running_tasks() -> None:
    """At interpreter exit, cancel what is queued and let running tasks end, as ThreadPoolExecutor
    does: a daemon thread stopped inside native code (onnxruntime's speech) aborts the process."""
    for pool in list(_LIVE):
        pool.shutdown(wait=True, cancel_futures=True)


class FairPool:
    def __init__(self, workers: int, name: str, per_caller: int | None = None, nice: int = 0):
        self.workers = max(1, workers)
        self.per_caller = per_caller
        self.nice = nice
        self._queues: dict[str, deque] = {}  # caller → its queued (future, fn, args), oldest first
        self._served: dict[str, int] = {}  # caller → when it was last served (a count of tasks started)
        self._started = 0
        self._running: dict[str, int] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        _LIVE.add(self)

    def submit(self, caller: str, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._cond:
            if self._stopped:
                future.cancel()
                return future
            self._queues.setdefault(caller, deque()).append((future, fn, args))
            self._cond.notify()
        return future

    def queued(self, caller: str | None = None) -> int:
        """Tasks waiting for a thread (of ``caller``, or of everyone)."""
        with self._cond:
            return sum(len(q) for c, q in self._queues.items() if caller is None or c == caller)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Take no more tasks (a later ``submit`` gets a cancelled future); ``cancel_futures``:
        cancel the queued ones, else they still run; ``wait``: until the threads are done.
        The same defaults as ``concurrent.futures.ThreadPoolExecutor.shutdown``."""
        cancelled = []
        with self._cond:
            self._stopped = True
            if cancel_futures:
                cancelled = [item[0] for queue in self._queues.values() for item in queue]
                self._queues.clear()
            self._cond.notify_all()
        for future in cancelled:
            future.cancel()
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _next(self) -> tuple[str, tuple] | None:
        """The next task in fair order (called under the lock), or None when nothing may run now."""
        ready = [c for c in self._queues if self.per_caller is None or self._running.get(c, 0) < self.per_caller]
        if not ready:
            return None
        caller = min(ready, key=lambda c: self._served.get(c, -1))  # the first of equals: queued first
        queue = self._queues[caller]
        item = queue.popleft()
        if not queue:
            del self._queues[caller]
        self._started += 1
        self._served[caller] = self._started
        return caller, item

    def _work(self) -> None:
        _lower_priority(self.nice)
        while True:
            with self._cond:
                picked = self._next()
                while picked is None and not (self._stopped and not self._queues):
                    self._cond.wait()
                    picked = self._next()
                if picked is None:
                    return  # shut down, nothing left to run
                caller, (future, fn, args) = picked
                self._running[caller] = self._running.get(caller, 0) + 1
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as error:  # the caller's future carries it
                        future.set_exception(error)
            finally:
                with self._cond:
                    self._running[caller] -= 1
                    if not self._running[caller]:
                        del self._running[caller]
                    self._cond.notify_all()  # a capped caller may run again
